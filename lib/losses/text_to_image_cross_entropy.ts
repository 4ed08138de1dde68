import { tf } from "../backend/tf.ts";
import type { Scalar, Tensor2D } from "../backend/tf.ts";
import { matMulFast } from "../backend/matmul.ts";
import { KitError } from "../util/kit_error.ts";
import { assertMatrix, crossEntropyRows } from "./cross_entropy.ts";

/**
 * Paper K's image–caption loss, text → image only: logits `S = T·Iᵀ·s` (no L2 normalisation;
 * `scale` is K's learned scalar, initialised to 1), every caption scored against the batch's B
 * images, cross-entropy with the caption's own image `captionImageIndex[i]` as target, mean
 * over captions. `scale` may be a number or a (trainable) scalar tensor.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { textToImageCrossEntropy } from "./text_to_image_cross_entropy.ts";
 * const t = tf.tensor2d([[1, 0], [0, 1], [1, 0]]), i = tf.tensor2d([[1, 0], [0, 1]]);
 * const loss = textToImageCrossEntropy(t, i, 1, [0, 1, 0]); // 3 captions (2 languages), 2 images
 * assert(Math.abs(loss.dataSync()[0]! - Math.log(1 + Math.exp(-1))) < 1e-6);
 * ```
 */
export function textToImageCrossEntropy(
  text: Tensor2D,
  images: Tensor2D,
  scale: Scalar | number,
  captionImageIndex: ArrayLike<number>,
): Scalar {
  assertMatrix(text, "textToImageCrossEntropy text");
  assertMatrix(images, "textToImageCrossEntropy images", text.shape[1]);
  if (captionImageIndex.length !== text.shape[0]) {
    throw new KitError(
      `textToImageCrossEntropy: ${
        text.shape[0]
      } captions but ${captionImageIndex.length} image indices`,
    );
  }
  return scaledCrossEntropy(text, images, scale, captionImageIndex);
}

/**
 * Scores `queries` against `candidates` (`Q·Cᵀ·scale`) and returns the mean cross-entropy with
 * `targets[i]` the right candidate of query i. Shared by K's two losses.
 */
export function scaledCrossEntropy(
  queries: Tensor2D,
  candidates: Tensor2D,
  scale: Scalar | number,
  targets: ArrayLike<number>,
): Scalar {
  return tf.tidy(() => {
    const raw = matMulFast(queries, candidates, false, true);
    const logits = tf.mul(raw, scale) as Tensor2D;
    return crossEntropyRows(logits, targets);
  });
}
