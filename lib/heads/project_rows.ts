import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import type { Head } from "./head.ts";

/**
 * Runs `head.apply` over a row-major `rows × head.dim` Float32Array in chunks (bounded memory)
 * and returns the projected, re-normalised rows as a new Float32Array. No tensors are left.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createIdentityHead } from "./identity_head.ts";
 * import { projectRows } from "./project_rows.ts";
 * const out = projectRows(createIdentityHead(2), new Float32Array([0, 3]));
 * assert(out[1] === 1);
 * ```
 */
export function projectRows(head: Head, data: Float32Array, chunkRows = 4096): Float32Array {
  const d = head.dim;
  if (data.length % d !== 0) {
    throw new KitError(`projectRows: ${data.length} values are not whole rows of width ${d}`);
  }
  const rows = data.length / d;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r += chunkRows) {
    const n = Math.min(chunkRows, rows - r);
    const part = tf.tidy(() => {
      const x = tf.tensor2d(data.subarray(r * d, (r + n) * d), [n, d]);
      return head.apply(x).dataSync() as Float32Array;
    });
    out.set(part, r * d);
  }
  return out;
}

/**
 * {@link projectRows} with asynchronous read-back, for backends that cannot read synchronously
 * (WebGPU under Deno). Same result.
 */
export async function projectRowsAsync(
  head: Head,
  data: Float32Array,
  chunkRows = 4096,
): Promise<Float32Array> {
  const d = head.dim;
  if (data.length % d !== 0) {
    throw new KitError(`projectRows: ${data.length} values are not whole rows of width ${d}`);
  }
  const rows = data.length / d;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r += chunkRows) {
    const n = Math.min(chunkRows, rows - r);
    const y = tf.tidy(() => head.apply(tf.tensor2d(data.subarray(r * d, (r + n) * d), [n, d])));
    try {
      out.set((await y.data()) as Float32Array, r * d);
    } finally {
      y.dispose();
    }
  }
  return out;
}
