import { KitError } from "../util/kit_error.ts";
import {
  type BootstrapOptions,
  forEachBootstrapResample,
  percentile,
} from "./bootstrap_resample.ts";

/**
 * A statistic of resampled units: `weights[u]` is how often unit `u` is in the sample (all ones
 * for the observed sample). It may return NaN for a resample where it is undefined (e.g. a
 * language none of whose sentences was drawn); such resamples are left out of the interval.
 */
export type WeightedStatistic = (weights: Int32Array) => number;

/** A percentile bootstrap interval. */
export interface BootstrapInterval {
  /** The statistic on the observed sample. */
  estimate: number;
  low: number;
  high: number;
  level: number;
  /** Resamples drawn / resamples where the statistic was defined. */
  resamples: number;
  used: number;
  seed: number;
}

/** All-ones weights: the observed sample. */
export function observedWeights(n: number): Int32Array {
  return new Int32Array(n).fill(1);
}

/**
 * Percentile bootstrap confidence interval of `statistic` over `n` units resampled with
 * replacement (default 1000 resamples, 95 %): the `(1 − level)/2` and `(1 + level)/2`
 * percentiles (numpy "linear") of the resampled statistics.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapInterval } from "./bootstrap_interval.ts";
 * import { weightedMeanStatistic } from "./weighted_mean.ts";
 * const ci = bootstrapInterval(weightedMeanStatistic([1, 1, 1]), 3, { seed: 1 });
 * assert(ci.low === 1 && ci.high === 1);
 * ```
 */
export function bootstrapInterval(
  statistic: WeightedStatistic,
  n: number,
  opts: BootstrapOptions,
): BootstrapInterval {
  const resamples = opts.resamples ?? 1000, level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) {
    throw new KitError(`bootstrapInterval: level must be in (0, 1), got ${level}`);
  }
  const estimate = statistic(observedWeights(n));
  const stats: number[] = [];
  forEachBootstrapResample(n, resamples, opts.seed, (w) => {
    const s = statistic(w);
    if (!Number.isNaN(s)) stats.push(s);
  });
  if (stats.length === 0) {
    throw new KitError("bootstrapInterval: the statistic was undefined (NaN) in every resample");
  }
  const a = (1 - level) / 2;
  return {
    estimate,
    low: percentile(stats, 100 * a),
    high: percentile(stats, 100 * (1 - a)),
    level,
    resamples,
    used: stats.length,
    seed: opts.seed,
  };
}
