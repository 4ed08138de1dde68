import { KitError } from "../util/kit_error.ts";
import type { NeighbourLists } from "./knn.ts";

/** How often each row appears in the others' kNN lists (the kNN graph's in-degrees). */
export function inDegrees(nn: NeighbourLists): Int32Array {
  const counts = new Int32Array(nn.rows);
  for (const j of nn.indices) counts[j]!++;
  return counts;
}

/**
 * Sample skewness with the population standard deviation, `m₃ / m₂^{3/2}` — what
 * `scipy.stats.skew(x)` returns by default (bias=True), including NaN for a constant sample.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { populationSkewness } from "./hubness.ts";
 * assert(Math.abs(populationSkewness([0, 0, 0, 1]) - 1.1547005383792517) < 1e-12);
 * ```
 */
export function populationSkewness(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new KitError("populationSkewness: expected at least one value");
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let m2 = 0, m3 = 0;
  for (let i = 0; i < n; i++) {
    const dv = values[i]! - mean;
    m2 += dv * dv;
    m3 += dv * dv * dv;
  }
  m2 /= n;
  m3 /= n;
  const resolution = 1e-15 * mean; // scipy: m2 <= (finfo.resolution · mean)² → nan
  if (m2 <= resolution * resolution) return NaN;
  return m3 / Math.pow(m2, 1.5);
}

export { roundHalfEven } from "../util/round_half_even.ts";
import { roundHalfEven } from "../util/round_half_even.ts";

/** Hubness of a kNN graph: skewness of the in-degrees and the top-1% neighbour mass. */
export interface Hubness {
  /** `populationSkewness` of the in-degree counts. */
  readonly skewness: number;
  /** Sum of the largest `max(1, round(0.01·n))` in-degrees divided by `n·k`. */
  readonly hubRatio: number;
}

/**
 * Hubness statistics of within-set kNN lists (self already excluded).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubness } from "./hubness.ts";
 * // every row's neighbour is row 0 (row 0's is row 1): in-degrees [2, 1, 0]
 * const h = hubness({ indices: new Int32Array([1, 0, 0]), rows: 3, k: 1 });
 * assert(Math.abs(h.hubRatio - 2 / 3) < 1e-12);
 * ```
 */
export function hubness(nn: NeighbourLists): Hubness {
  const counts = inDegrees(nn);
  const n = nn.rows;
  const top = Math.max(1, roundHalfEven(0.01 * n));
  const sorted = Int32Array.from(counts).sort().reverse();
  let s = 0;
  for (let i = 0; i < Math.min(top, n); i++) s += sorted[i]!;
  return { skewness: populationSkewness(counts), hubRatio: s / (n * nn.k) };
}
