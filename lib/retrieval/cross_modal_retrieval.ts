import { KitError } from "../util/kit_error.ts";
import { metricsFromRanks, rankOfTruth, type RetrievalMetrics } from "./rank.ts";
import type { RowMatrix } from "./row_matrix.ts";
import { cosineSimilarityMatrix, type SimilarityOptions } from "./similarity.ts";
import { transposeData } from "./row_matrix.ts";

/** Checks that captions and images are paired row by row (row i = image i). */
export function checkPaired(text: RowMatrix, images: RowMatrix, what: string): void {
  if (text.rows !== images.rows) {
    throw new KitError(
      `${what}: ${text.rows} caption rows but ${images.rows} image rows; row i must be the caption of image i`,
    );
  }
  if (text.cols !== images.cols) {
    throw new KitError(`${what}: caption width ${text.cols} ≠ image width ${images.cols}`);
  }
  if (text.rows === 0) throw new KitError(`${what}: no rows to evaluate`);
}

/**
 * Text→image retrieval of paper D for one language: queries = the captions (rows of `text`),
 * candidates = the images, similarity = dot product of L2-normalised rows, truth = the image
 * with the caption's row index, ranks from a full descending sort with stable tie-breaking.
 * Returns R@1/5/10 and MRR as fractions in [0, 1].
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { textToImageRetrieval } from "./cross_modal_retrieval.ts";
 * const m = await textToImageRetrieval(matrixFromRows([[1, 0], [0, 1]]), matrixFromRows([[2, 0], [0, 3]]));
 * assert(m.r1 === 1 && m.mrr === 1);
 * ```
 */
export async function textToImageRetrieval(
  text: RowMatrix,
  images: RowMatrix,
  options: SimilarityOptions = {},
): Promise<RetrievalMetrics> {
  checkPaired(text, images, "textToImageRetrieval");
  const n = text.rows;
  const S = await cosineSimilarityMatrix(text, images, options);
  return metricsFromRanks(rankOfTruth(S, n, n));
}

/**
 * Image→text retrieval of paper D for one language: queries = the images, candidates = **that
 * language's** captions only, truth = same row index; otherwise as
 * {@link textToImageRetrieval}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { imageToTextRetrieval } from "./cross_modal_retrieval.ts";
 * const m = await imageToTextRetrieval(matrixFromRows([[1, 0], [0, 1]]), matrixFromRows([[0, 1], [1, 0]]));
 * assert(m.r1 === 0 && m.mrr === 0.5);
 * ```
 */
export async function imageToTextRetrieval(
  images: RowMatrix,
  text: RowMatrix,
  options: SimilarityOptions = {},
): Promise<RetrievalMetrics> {
  checkPaired(text, images, "imageToTextRetrieval");
  const n = text.rows;
  // Computed as (text · imagesᵀ)ᵀ so that t2i and i2t of a language share one product.
  const S = transposeData(await cosineSimilarityMatrix(text, images, options), n, n);
  return metricsFromRanks(rankOfTruth(S, n, n));
}
