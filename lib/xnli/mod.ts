/**
 * Paper K's cross-lingual NLI evaluation (Table 2, K-T2): the XNLI / AmericasNLI benchmark per
 * profile, the seeded XNLI dev split, `[p; h; |p−h|; p∗h]` features, the MLP probe trained on
 * English only, K-T2 rows with bootstrap intervals, paired setup comparisons and claim checks.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitXnliIndices } from "./mod.ts";
 * const s = splitXnliIndices(["a", "b", "c", "d"], { seed: 1, testFraction: 0.25, selectFraction: 0.25 });
 * assert(s.test.length === 1 && s.select.length === 1 && s.train.length === 2);
 * ```
 */
export * from "./nli_features.ts";
export * from "./nli_pairs.ts";
export * from "./xnli_split.ts";
export * from "./nli_mlp_classifier.ts";
export * from "./nli_benchmark.ts";
export * from "./nli_embedding.ts";
export * from "./nli_evaluation.ts";
export * from "./xnli_table.ts";
