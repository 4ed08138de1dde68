/**
 * Paper D's representation diagnostics (Table 6) in plain Float64 JS: Gram correlation (RSA),
 * kNN overlap, effective rank, PCA-90, mean cosine, PoZ, entropy, hubness, lang-ID probe.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveRank, matrixFromRows } from "./mod.ts";
 * assert(effectiveRank(matrixFromRows([[1, 0], [-1, 0], [0, 1], [0, -1]])) > 1.99);
 * ```
 */
export * from "./matrix.ts";
export * from "./gram.ts";
export * from "./symmetric_eigen.ts";
export * from "./spectrum.ts";
export * from "./mean_cosine.ts";
export * from "./activation_stats.ts";
export * from "./knn.ts";
export * from "./hubness.ts";
export * from "./cross_lingual.ts";
export * from "./lbfgs.ts";
export * from "./logistic_regression.ts";
export * from "./stratified_split.ts";
export * from "./lang_id_probe.ts";
export * from "./diagnose_languages.ts";
