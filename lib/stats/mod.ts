/**
 * Statistics beyond the papers: seeded percentile bootstrap intervals over resampled units
 * (sentences, test pairs, images) and paired bootstrap tests between two systems.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapInterval, weightedMeanStatistic } from "./mod.ts";
 * const ci = bootstrapInterval(weightedMeanStatistic([1, 0, 1, 1]), 4, { seed: 7 });
 * assert(ci.low <= ci.estimate && ci.estimate <= ci.high);
 * ```
 */
export * from "./bootstrap_resample.ts";
export * from "./bootstrap_interval.ts";
export * from "./weighted_mean.ts";
export * from "./paired_bootstrap.ts";
export * from "./paired_results_table.ts";
export * from "./interval_verdict.ts";
