import type { Scalar, Tensor2D } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import { assertMatrix } from "./cross_entropy.ts";
import { scaledCrossEntropy } from "./text_to_image_cross_entropy.ts";

/**
 * Paper K's Eng-Pivot text–text term: each non-English caption is scored against the batch's
 * B English captions (`S = X·Eᵀ·s`, same learned scale as the image loss, no normalisation) and
 * cross-entropy picks its own English caption. `nonEnglish` stacks language blocks of B rows
 * (K's order), so by default the target of row i is `i mod B`; pass `englishIndex` otherwise.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { pivotTextCrossEntropy } from "./pivot_text_cross_entropy.ts";
 * const en = tf.tensor2d([[5, 0], [0, 5]]);
 * const x = tf.tensor2d([[5, 0], [0, 5], [5, 0], [0, 5]]); // 2 languages × 2 captions
 * assert(pivotTextCrossEntropy(x, en, 1).dataSync()[0]! < 1e-6);
 * ```
 */
export function pivotTextCrossEntropy(
  nonEnglish: Tensor2D,
  english: Tensor2D,
  scale: Scalar | number,
  englishIndex?: ArrayLike<number>,
): Scalar {
  assertMatrix(nonEnglish, "pivotTextCrossEntropy non-English captions");
  assertMatrix(english, "pivotTextCrossEntropy English captions", nonEnglish.shape[1]);
  const b = english.shape[0];
  const n = nonEnglish.shape[0];
  let targets: ArrayLike<number>;
  if (englishIndex) {
    if (englishIndex.length !== n) {
      throw new KitError(
        `pivotTextCrossEntropy: ${n} non-English captions but ${englishIndex.length} English indices`,
      );
    }
    targets = englishIndex;
  } else {
    if (b === 0 || n % b !== 0) {
      throw new KitError(
        `pivotTextCrossEntropy: ${n} non-English rows are not whole blocks of the ${b} English captions; pass englishIndex`,
      );
    }
    targets = Int32Array.from({ length: n }, (_, i) => i % b);
  }
  return scaledCrossEntropy(nonEnglish, english, scale, targets);
}
