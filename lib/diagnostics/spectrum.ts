import { KitError } from "../util/kit_error.ts";
import { gram, type SymmetricMatrix } from "./gram.ts";
import { centreColumns, type Matrix, transpose } from "./matrix.ts";
import { symmetricEigenvalues } from "./symmetric_eigen.ts";
import { nativeBlas } from "../backend/openblas.ts";

/**
 * The squared singular values `s²` of the column-centred `X`, descending, length min(rows, cols):
 * eigenvalues of the smaller of `Xcᵀ·Xc` and `Xc·Xcᵀ` (Float64 Householder + QL; with native
 * OpenBLAS, `dsyrk` + LAPACK `dsyevd`), with round-off negatives clamped to 0. Relative accuracy ≈ 1e-15·s₁²/sᵢ² per value.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { centredSquaredSingularValues } from "./spectrum.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * const s2 = centredSquaredSingularValues(matrixFromRows([[1, 0], [-1, 0], [0, 2], [0, -2]]));
 * assert(Math.abs(s2[0]! - 8) < 1e-12 && Math.abs(s2[1]! - 2) < 1e-12);
 * ```
 */
export function centredSquaredSingularValues(x: Matrix): Float64Array {
  if (x.rows === 0 || x.cols === 0) {
    throw new KitError(`spectrum: expected a non-empty matrix, got ${x.rows}×${x.cols}`);
  }
  const xc = centreColumns(x);
  const blas = nativeBlas();
  if (blas) {
    // Xcᵀ·Xc (trans) or Xc·Xcᵀ straight from the row-major Xc, no transposed copy
    const small = Math.min(x.rows, x.cols), inner = Math.max(x.rows, x.cols);
    const data = blas.gram(xc.data as Float64Array, small, inner, x.cols <= x.rows);
    return eigenvaluesClamped({ data, size: small });
  }
  const scatter = x.cols <= x.rows ? gram(transpose(xc)) : gram(xc);
  return eigenvaluesClamped(scatter);
}

/**
 * The squared singular values of the column-centred `X` from its (uncentred) Gram `G = X·Xᵀ`:
 * the eigenvalues of the double-centred `H·G·H` (H = I − 11ᵀ/n). Lets a caller that already has
 * `G` skip the `d×d` scatter matrix; worth it when `rows` is not much larger than `cols`.
 */
export function centredSquaredSingularValuesFromGram(g: SymmetricMatrix): Float64Array {
  const n = g.size;
  if (n === 0) throw new KitError("spectrum: expected a non-empty Gram matrix");
  const a = g.data;
  const rowMean = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j]!;
    rowMean[i] = s / n;
    total += s;
  }
  const grand = total / (n * n);
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) c[i * n + j] = a[i * n + j]! - rowMean[i]! - rowMean[j]! + grand;
  }
  return eigenvaluesClamped({ data: c, size: n });
}

function eigenvaluesClamped(s: SymmetricMatrix): Float64Array {
  const ev = symmetricEigenvalues(s);
  for (let i = 0; i < ev.length; i++) if (!(ev[i]! > 0)) ev[i] = 0;
  return ev;
}

/**
 * Effective rank from squared singular values: `p = s²/Σs²`, `exp(−Σ p·ln(p + 1e-12))`
 * (the paper's definition, with its 1e-12 guard).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveRankFromSpectrum } from "./spectrum.ts";
 * assert(Math.abs(effectiveRankFromSpectrum(new Float64Array([1, 1, 1, 1])) - 4) < 1e-9);
 * ```
 */
export function effectiveRankFromSpectrum(squaredSingularValues: Float64Array): number {
  let total = 0;
  for (const v of squaredSingularValues) total += v;
  if (!(total > 0)) return NaN;
  let h = 0;
  for (const v of squaredSingularValues) {
    const p = v / total;
    h -= p * Math.log(p + 1e-12);
  }
  return Math.exp(h);
}

/**
 * Number of principal components needed to explain `share` of the variance: 1 + the index of
 * the first cumulative share of `s²` (descending) that is ≥ `share`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { componentsForVarianceShare } from "./spectrum.ts";
 * assert(componentsForVarianceShare(new Float64Array([5, 4, 1]), 0.9) === 2);
 * ```
 */
export function componentsForVarianceShare(
  squaredSingularValues: Float64Array,
  share = 0.9,
): number {
  let total = 0;
  for (const v of squaredSingularValues) total += v;
  if (!(total > 0)) return NaN;
  let cum = 0;
  for (let i = 0; i < squaredSingularValues.length; i++) {
    cum += squaredSingularValues[i]! / total; // numpy: cumsum of the variance ratios
    if (cum >= share) return i + 1;
  }
  return squaredSingularValues.length;
}

/** Effective rank of the column-centred `X` (see `effectiveRankFromSpectrum`). */
export function effectiveRank(x: Matrix): number {
  return effectiveRankFromSpectrum(centredSquaredSingularValues(x));
}

/** PCA-90: components of the column-centred `X` needed for 90% of the variance. */
export function pca90(x: Matrix): number {
  return componentsForVarianceShare(centredSquaredSingularValues(x), 0.9);
}
