import { tf } from "../backend/tf.ts";
import type { Tensor2D } from "../backend/tf.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";

/**
 * Paper K's NLI features of premise and hypothesis embeddings: `[p; h; |p − h|; p ∗ h]` per
 * pair (InferSent-style), `rows × 4d`, in plain JavaScript.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "../retrieval/row_matrix.ts";
 * import { nliFeatures } from "./nli_features.ts";
 * const f = nliFeatures(matrixFromRows([[1, 2]]), matrixFromRows([[3, -1]]));
 * assert(f.data.join() === "1,2,3,-1,2,3,3,-2");
 * ```
 */
export function nliFeatures(p: RowMatrix, h: RowMatrix): RowMatrix {
  if (p.rows !== h.rows || p.cols !== h.cols) {
    throw new KitError(
      `nliFeatures: premise embeddings ${p.rows}×${p.cols} and hypothesis embeddings ${h.rows}×${h.cols} differ in shape`,
    );
  }
  const d = p.cols, out = new Float32Array(p.rows * 4 * d);
  for (let r = 0; r < p.rows; r++) {
    const o = r * 4 * d, s = r * d;
    for (let c = 0; c < d; c++) {
      const a = p.data[s + c]!, b = h.data[s + c]!;
      out[o + c] = a;
      out[o + d + c] = b;
      out[o + 2 * d + c] = Math.abs(a - b);
      out[o + 3 * d + c] = a * b;
    }
  }
  return { data: out, rows: p.rows, cols: 4 * d };
}

/** The same features as tensors (for batches on the TF.js backend); the caller disposes. */
export function nliFeaturesTensor(p: Tensor2D, h: Tensor2D): Tensor2D {
  if (p.shape[0] !== h.shape[0] || p.shape[1] !== h.shape[1]) {
    throw new KitError(
      `nliFeaturesTensor: premise [${p.shape}] and hypothesis [${h.shape}] differ in shape`,
    );
  }
  return tf.tidy(() => tf.concat([p, h, tf.abs(tf.sub(p, h)), tf.mul(p, h)], 1) as Tensor2D);
}
