import { KitError } from "../util/kit_error.ts";
import type { Matrix } from "./matrix.ts";

/**
 * PoZ, the percentage of (near-)zeros: the share of entries with `|x| < threshold` (1e-3).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { shareNearZero } from "./activation_stats.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * assert(shareNearZero(matrixFromRows([[0, 0.5], [1e-4, -0.002]])) === 0.5);
 * ```
 */
export function shareNearZero(x: Matrix, threshold = 1e-3): number {
  const a = x.data;
  if (a.length === 0) throw new KitError("shareNearZero: expected a non-empty matrix");
  let c = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]!) < threshold) c++;
  return c / a.length;
}

/**
 * Bin index of every value of one column for `bins` equal bins on [−1, 1], exactly as
 * `numpy.histogram(col, bins, range=(-1, 1))` assigns them (numpy 1.24 fast path: scaled
 * truncation, then the ±1 correction against `linspace` edges; bins are [a, b) except the last,
 * which is closed). Values are assumed already clipped to [−1, 1]. With `float32` true the
 * arithmetic is float32 as numpy does for a float32 array (edges and `(x + 1)·15` rounded to
 * float32); otherwise float64.
 */
export function numpyHistogramBin(value: number, bins: number, float32: boolean): number {
  const step = 2 / bins; // np.linspace(-1, 1, bins + 1): i·step + (−1), last edge = 1
  const norm = bins / 2;
  const edge = float32
    ? (i: number) => (i === bins ? 1 : Math.fround(i * step + -1))
    : (i: number) => (i === bins ? 1 : i * step + -1);
  const f = float32 ? Math.fround(Math.fround(value - -1) * norm) : (value - -1) * norm;
  let idx = Math.trunc(f);
  if (idx === bins) idx -= 1;
  if (value < edge(idx)) idx -= 1;
  if (value >= edge(idx + 1) && idx !== bins - 1) idx += 1;
  return idx;
}

/**
 * Mean per-dimension activation entropy in nats: clip to [−1, 1]; per column a `bins`-bin
 * histogram on [−1, 1] (numpy semantics, see `numpyHistogramBin`; a `Float32Array` matrix is
 * binned in float32 like a float32 numpy array), `p = counts/rows`, `−Σ p·ln(p + 1e-12)`; mean
 * over columns.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { dimensionEntropy } from "./activation_stats.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * // two values in different bins in each column → ln 2
 * assert(Math.abs(dimensionEntropy(matrixFromRows([[-0.9, 0.1], [0.9, 0.5]])) - Math.log(2)) < 1e-9);
 * ```
 */
export function dimensionEntropy(x: Matrix, bins = 30): number {
  const { rows: n, cols: d } = x;
  if (n === 0 || d === 0) throw new KitError("dimensionEntropy: expected a non-empty matrix");
  const a = x.data;
  const float32 = a instanceof Float32Array;
  // Precompute the edges once; same arithmetic as numpyHistogramBin.
  const edges = new Float64Array(bins + 1);
  const step = 2 / bins, norm = bins / 2;
  for (let i = 0; i < bins; i++) edges[i] = float32 ? Math.fround(i * step + -1) : i * step + -1;
  edges[bins] = 1;
  const counts = new Float64Array(d * bins);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let c = 0; c < d; c++) {
      let v = a[o + c]!;
      if (Number.isNaN(v)) {
        throw new KitError(`dimensionEntropy: entry (${r}, ${c}) is NaN, expected a number`);
      }
      v = v < -1 ? -1 : v > 1 ? 1 : v;
      const f = float32 ? Math.fround(Math.fround(v + 1) * norm) : (v + 1) * norm;
      let idx = Math.trunc(f);
      if (idx === bins) idx -= 1;
      if (v < edges[idx]!) idx -= 1;
      if (idx !== bins - 1 && v >= edges[idx + 1]!) idx += 1;
      counts[c * bins + idx]! += 1;
    }
  }
  let total = 0;
  for (let c = 0; c < d; c++) {
    let h = 0;
    for (let b = 0; b < bins; b++) {
      const p = counts[c * bins + b]! / n;
      h -= p * Math.log(p + 1e-12);
    }
    total += h;
  }
  return total / d;
}
