import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import type { HeadParameter, HeadState } from "./head.ts";

/** Copies every parameter's values out of its variable (synchronous read; see {@link readHeadStateAsync}). */
export function readHeadState(params: readonly HeadParameter[]): HeadState {
  const out: HeadState = {};
  for (const p of params) out[p.name] = Float32Array.from(p.variable.dataSync() as Float32Array);
  return out;
}

/**
 * Assigns `state[name]` to each parameter, after checking that every name is present with the
 * right number of values (KitError naming the head and key otherwise).
 */
export function writeHeadState(
  params: readonly HeadParameter[],
  state: HeadState,
  what: string,
): void {
  for (const p of params) {
    const v = state[p.name];
    if (!v) {
      throw new KitError(
        `${what}: state has no "${p.name}" (keys: ${Object.keys(state).join(", ") || "none"})`,
      );
    }
    if (v.length !== p.variable.size) {
      throw new KitError(
        `${what}: state "${p.name}" has ${v.length} values, expected ${p.variable.size} (shape [${
          p.variable.shape.join(", ")
        }])`,
      );
    }
  }
  for (const p of params) {
    const t = tf.tensor(state[p.name]!, p.variable.shape);
    p.variable.assign(t);
    t.dispose();
  }
}

/** {@link readHeadState} with asynchronous read-back (works on WebGPU under Deno). */
export async function readHeadStateAsync(params: readonly HeadParameter[]): Promise<HeadState> {
  const out: HeadState = {};
  for (const p of params) {
    out[p.name] = Float32Array.from((await p.variable.data()) as Float32Array);
  }
  return out;
}
