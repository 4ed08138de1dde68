import { cosineSimilarityMatrix, type RowMatrix, topKRows } from "../retrieval/mod.ts";
import { KitError } from "../util/kit_error.ts";

/**
 * How strongly embeddings cluster by language: the mean share of each point's k cosine-nearest
 * other points that have its language. 1 = languages fully separated (untuned XLM-R's panels in
 * K's Fig. 1); with L equally sized languages and perfect mixing it approaches (m − 1)/(n − 1)
 * ≈ 1/L. Computed in the embedding space, not on the 2-D layout.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "../retrieval/row_matrix.ts";
 * import { sameLanguageNeighbourShare } from "./language_mixing.ts";
 * const s = await sameLanguageNeighbourShare(matrixFromRows([[1, 0], [1, 0.1], [0, 1], [0.1, 1]]), ["a", "a", "b", "b"], 1);
 * assert(s === 1);
 * ```
 */
export async function sameLanguageNeighbourShare(
  points: RowMatrix,
  languages: readonly string[],
  k = 10,
): Promise<number> {
  const n = points.rows;
  if (languages.length !== n) {
    throw new KitError(`sameLanguageNeighbourShare: ${n} points but ${languages.length} languages`);
  }
  if (!Number.isInteger(k) || k < 1 || k >= n) {
    throw new KitError(
      `sameLanguageNeighbourShare: k must be an integer in [1, ${n - 1}], got ${k}`,
    );
  }
  const S = await cosineSimilarityMatrix(points, points);
  for (let i = 0; i < n; i++) S[i * n + i] = -Infinity; // a point is not its own neighbour
  const nn = topKRows(S, n, n, k);
  let same = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) if (languages[nn.index[i * k + j]!] === languages[i]) same++;
  }
  return same / (n * k);
}
