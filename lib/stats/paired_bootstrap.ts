import { KitError } from "../util/kit_error.ts";
import { observedWeights, type WeightedStatistic } from "./bootstrap_interval.ts";
import {
  type BootstrapOptions,
  forEachBootstrapResample,
  percentile,
} from "./bootstrap_resample.ts";

/** The outcome of a paired bootstrap comparison of two systems on the same units. */
export interface PairedBootstrapResult {
  /** Statistic of A, of B, and A − B on the observed sample. */
  a: number;
  b: number;
  difference: number;
  /** Percentile interval of A − B. */
  low: number;
  high: number;
  level: number;
  /**
   * Two-sided p-value of H0 "no difference": the share of resampled differences at least as far
   * from the observed one as the observed one is from 0, `(1 + #{|d* − d| ≥ |d|}) / (1 + used)`.
   */
  pValue: number;
  resamples: number;
  used: number;
  seed: number;
}

/**
 * Paired bootstrap test of `statA − statB` (two systems scored on the same units: the same
 * sentences, the same test pairs): every resample draws units once and evaluates both
 * statistics on it, so the comparison keeps the pairing. The p-value shifts the bootstrap
 * distribution of the difference to the null (Efron & Tibshirani 1993, §16.4; the form used for
 * NLP system comparisons by Berg-Kirkpatrick et al. 2012).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrapTest } from "./paired_bootstrap.ts";
 * import { weightedMeanStatistic } from "./weighted_mean.ts";
 * const r = pairedBootstrapTest(weightedMeanStatistic([1, 1, 1, 1]), weightedMeanStatistic([0, 0, 0, 0]), 4, { seed: 3 });
 * assert(r.difference === 1 && r.pValue < 0.01);
 * ```
 */
export function pairedBootstrapTest(
  statA: WeightedStatistic,
  statB: WeightedStatistic,
  n: number,
  opts: BootstrapOptions,
): PairedBootstrapResult {
  const resamples = opts.resamples ?? 1000, level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) {
    throw new KitError(`pairedBootstrapTest: level must be in (0, 1), got ${level}`);
  }
  const w0 = observedWeights(n);
  const a = statA(w0), b = statB(w0), d = a - b;
  if (Number.isNaN(d)) {
    throw new KitError("pairedBootstrapTest: a statistic is NaN on the observed sample");
  }
  const diffs: number[] = [];
  forEachBootstrapResample(n, resamples, opts.seed, (w) => {
    const x = statA(w) - statB(w);
    if (!Number.isNaN(x)) diffs.push(x);
  });
  if (diffs.length === 0) {
    throw new KitError("pairedBootstrapTest: the difference was undefined in every resample");
  }
  // Tolerance against float noise: a resample equal to the observed difference counts as extreme.
  const eps = 1e-12;
  let extreme = 0;
  for (const x of diffs) if (Math.abs(x - d) >= Math.abs(d) - eps) extreme++;
  const alpha = (1 - level) / 2;
  return {
    a,
    b,
    difference: d,
    low: percentile(diffs, 100 * alpha),
    high: percentile(diffs, 100 * (1 - alpha)),
    level,
    pValue: Math.min(1, (1 + extreme) / (1 + diffs.length)),
    resamples,
    used: diffs.length,
    seed: opts.seed,
  };
}
