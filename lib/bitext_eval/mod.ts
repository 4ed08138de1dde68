/**
 * Paper K's bitext retrieval evaluation (Table 1, K-T1): XLM-R language groups, FLORES-200 /
 * SIB-200 and held-out stamp-caption benchmarks, per-sentence outcomes (cosine, K's xsim and LASER's
 * margin, both directions) for bootstrap intervals, K-T1 rows, paired setup comparisons and claim checks.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { xlmrGroupOf } from "./mod.ts";
 * assert(xlmrGroupOf("grn_Latn") === "not-in-xlmr");
 * ```
 */
export * from "./xlmr_languages.ts";
export * from "./bitext_benchmark.ts";
export * from "./bitext_sources.ts";
export * from "./bitext_correctness.ts";
export * from "./bitext_evaluation.ts";
export * from "./bitext_embedding_dir.ts";
export * from "./bitext_table.ts";
export * from "./claim_check.ts";
export * from "./paper_comparison.ts";
export * from "./in_domain_bitext.ts";
export * from "./bitext_try_it.ts";
