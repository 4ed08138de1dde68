import { tf } from "../backend/tf.ts";
import type { Scalar, Tensor2D } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";

/**
 * A `rows × cols` 0/1 mask with a one at `(i, targets[i])`, for picking each row's target logit
 * with a multiply-and-sum (cheaper on WASM than a gather, and differentiable).
 */
export function targetMask(targets: ArrayLike<number>, cols: number, what = "targets"): Tensor2D {
  const rows = targets.length;
  const mask = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const t = targets[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= cols) {
      throw new KitError(`${what}[${i}] = ${t}; expected an integer in [0, ${cols})`);
    }
    mask[i * cols + t] = 1;
  }
  return tf.tensor2d(mask, [rows, cols]);
}

/**
 * Mean cross-entropy of row-wise softmax: `mean_i (logsumexp_j logits[i, j] − logits[i, targets[i]])`,
 * computed with a max-shifted (numerically stable) log-sum-exp. Same value as
 * `torch.nn.functional.cross_entropy(logits, targets)`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { crossEntropyRows } from "./cross_entropy.ts";
 * const l = crossEntropyRows(tf.tensor2d([[0, 0]]), [1]);
 * assert(Math.abs(l.dataSync()[0]! - Math.LN2) < 1e-6);
 * ```
 */
export function crossEntropyRows(logits: Tensor2D, targets: ArrayLike<number>): Scalar {
  const [rows, cols] = logits.shape;
  if (targets.length !== rows) {
    throw new KitError(`cross-entropy: ${rows} logit rows but ${targets.length} targets`);
  }
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(logits, targetMask(targets, cols)), 1);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), picked)) as Scalar;
  });
}

/** Throws a KitError unless `t` is a 2-d tensor with `cols` columns (when given). */
export function assertMatrix(t: tf.Tensor, what: string, cols?: number): asserts t is Tensor2D {
  if (t.rank !== 2) {
    throw new KitError(`${what}: expected a 2-d tensor, got shape [${t.shape.join(", ")}]`);
  }
  if (cols !== undefined && t.shape[1] !== cols) {
    throw new KitError(`${what}: expected ${cols} columns, got shape [${t.shape.join(", ")}]`);
  }
}
