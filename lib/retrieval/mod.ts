/**
 * Retrieval metrics of the two papers: paper D's t2i / i2t / pivot retrieval (R@1/5/10, MRR
 * from stable full-sort ranks), fold summaries (mean ± sample std), and paper K's bitext
 * retrieval accuracy (cosine, K's own xsim, and LASER's ratio margin under its own name).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows, textToImageRetrieval } from "./mod.ts";
 * const m = await textToImageRetrieval(matrixFromRows([[1, 0], [0, 1]]), matrixFromRows([[1, 0], [0, 1]]));
 * assert(m.r1 === 1);
 * ```
 */
export * from "./row_matrix.ts";
export * from "./similarity.ts";
export * from "./certified_similarity.ts";
export * from "./rank.ts";
export * from "./cross_modal_retrieval.ts";
export * from "./pivot_retrieval.ts";
export * from "./fold_evaluation.ts";
export * from "./fold_summary.ts";
export * from "./bitext_retrieval.ts";
export * from "./k_xsim.ts";
