import { KitError } from "../util/kit_error.ts";
import type { Matrix } from "./matrix.ts";

/**
 * Mean of the strict upper triangle of the cosine Gram (rows normalised, norms floored at 1e-12
 * like `F.normalize`), computed in O(n·d) from `Σ_{i<j} x̂ᵢ·x̂ⱼ = (‖Σx̂ᵢ‖² − Σ‖x̂ᵢ‖²)/2`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanCosine } from "./mean_cosine.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * // pairs: (a,b) 0, (a,c) 1/√2, (b,c) 1/√2
 * const m = meanCosine(matrixFromRows([[1, 0], [0, 2], [3, 3]]));
 * assert(Math.abs(m - (2 / Math.SQRT2) / 3) < 1e-12);
 * ```
 */
export function meanCosine(x: Matrix): number {
  const { rows: n, cols: d } = x;
  if (n < 2) throw new KitError(`meanCosine: need at least 2 rows, got ${n}`);
  const a = x.data;
  const sum = new Float64Array(d);
  let diag = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += a[o + j]! * a[o + j]!;
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
    diag += ss * inv * inv;
    for (let j = 0; j < d; j++) sum[j]! += a[o + j]! * inv;
  }
  let s2 = 0;
  for (let j = 0; j < d; j++) s2 += sum[j]! * sum[j]!;
  return (s2 - diag) / (n * (n - 1));
}
