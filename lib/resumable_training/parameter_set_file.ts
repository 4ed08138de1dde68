import {
  readSafetensors,
  type SafeTensorInput,
  type SafetensorsReadOptions,
  writeSafetensors,
} from "../io/safetensors.ts";
import type { ParameterSet } from "../encoders/parameter_set.ts";
import { KitError } from "../util/kit_error.ts";

/** Writes a parameter set as safetensors (F32, its own names). */
export async function writeParameterSet(ps: ParameterSet, path: string): Promise<void> {
  const tensors: Record<string, SafeTensorInput> = {};
  for (const s of ps.specs) {
    tensors[s.name] = { dtype: "F32", shape: s.shape, data: ps.values[s.name]! };
  }
  await writeSafetensors(path, tensors, { format: "pt" });
}

/**
 * Reads a parameter set written by `writeParameterSet` (KitError naming a missing tensor);
 * `opts` says how strictly the content hash is checked (`readSafetensors`).
 */
export async function readParameterSetInto(
  ps: ParameterSet,
  path: string,
  opts: SafetensorsReadOptions = {},
): Promise<void> {
  const f = await readSafetensors(path, opts);
  const state: Record<string, Float32Array> = {};
  for (const s of ps.specs) {
    const t = f.tensors.get(s.name);
    if (!t || !(t.data instanceof Float32Array)) {
      throw new KitError(`${path}: tensor "${s.name}" missing`);
    }
    state[s.name] = t.data;
  }
  ps.setState(state);
}
