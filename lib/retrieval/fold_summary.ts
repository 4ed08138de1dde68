import { KitError } from "../util/kit_error.ts";
import { RETRIEVAL_METRIC_KEYS, type RetrievalMetrics } from "./rank.ts";

/** Mean and **sample** standard deviation (ddof 1) of n values. */
export interface MeanStd {
  mean: number;
  /** Sample std (divides by n − 1), as the papers' tables; NaN when n = 1 (as numpy). */
  std: number;
  n: number;
}

/**
 * Mean ± sample standard deviation (ddof 1, numpy's `np.std(x, ddof=1)`) over folds.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeFolds } from "./fold_summary.ts";
 * const s = summarizeFolds([1, 2, 3, 4]);
 * assert(s.mean === 2.5 && Math.abs(s.std - 1.2909944487358056) < 1e-15 && s.n === 4);
 * ```
 */
export function summarizeFolds(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) throw new KitError("summarizeFolds: no values (zero folds)");
  for (const v of values) {
    if (!Number.isFinite(v)) throw new KitError(`summarizeFolds: value ${v} is not finite`);
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN, n };
}

/**
 * {@link summarizeFolds} for each retrieval metric (R@1, R@5, R@10, MRR) over folds.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeFoldMetrics } from "./fold_summary.ts";
 * const s = summarizeFoldMetrics([{ r1: 0.2, r5: 0.5, r10: 0.6, mrr: 0.3 }, { r1: 0.4, r5: 0.5, r10: 0.6, mrr: 0.3 }]);
 * assert(Math.abs(s.r1.mean - 0.3) < 1e-12 && s.r5.std === 0);
 * ```
 */
export function summarizeFoldMetrics(
  folds: readonly RetrievalMetrics[],
): Record<keyof RetrievalMetrics, MeanStd> {
  const pick = (k: keyof RetrievalMetrics) => summarizeFolds(folds.map((f) => f[k]));
  const [r1, r5, r10, mrr] = RETRIEVAL_METRIC_KEYS.map(pick) as [
    MeanStd,
    MeanStd,
    MeanStd,
    MeanStd,
  ];
  return { r1, r5, r10, mrr };
}
