import { KitError } from "../util/kit_error.ts";
import type { SymmetricMatrix } from "./gram.ts";
import { nativeBlas } from "../backend/openblas.ts";

/** A symmetric tridiagonal matrix: `diagonal[i]` and `offDiagonal[i]` = entry (i, i+1). */
export interface Tridiagonal {
  readonly diagonal: Float64Array;
  /** Length `size − 1`. */
  readonly offDiagonal: Float64Array;
}

/**
 * Householder reduction of a symmetric matrix to tridiagonal form (eigenvalues preserved),
 * Float64, reading only the upper triangle of `a`, which is left untouched. Cost ≈ (2/3)·n³
 * multiply-adds; the trailing update of step k is fused with the matrix–vector product of
 * step k+1, so the trailing matrix is streamed once per step. Each step's loops live in small
 * module-level kernels called once per step, which V8 optimises early and keeps optimised.
 */
export function tridiagonalize(a: SymmetricMatrix): Tridiagonal {
  const n = a.size;
  const w = Float64Array.from(a.data); // working copy, upper triangle used
  const diag = new Float64Array(n);
  const off = new Float64Array(Math.max(0, n - 1));
  if (n === 0) return { diagonal: diag, offDiagonal: off };
  // v: Householder vector of the current step (entries > k); p: A22·v, then the update vector
  let cur = new Float64Array(n), curP = new Float64Array(n);
  let nxt = new Float64Array(n), nxtP = new Float64Array(n);
  let beta = n >= 3 ? reflector(w, n, 0, cur, off) : 0;
  if (beta !== 0) {
    symmetricProduct(w, n, 1, cur, curP);
    toUpdateVector(n, 0, beta, cur, curP);
  }
  for (let k = 0; k < n - 2; k++) {
    diag[k] = w[k * n + k]!;
    // A22 ← A22 − v wᵀ − w vᵀ on rows > k; row k+1 first, since step k+1's reflector comes
    // from it; then the remaining rows, accumulating step k+1's product A'·v' on the way.
    const k1 = k + 1;
    if (beta !== 0) rank2UpdateRow(w, n, k1, cur, curP);
    const last = k1 >= n - 2;
    const betaNext = last ? 0 : reflector(w, n, k1, nxt, off);
    if (beta !== 0 && betaNext !== 0) {
      updateAndMultiply(w, n, k1 + 1, cur, curP, nxt, nxtP);
    } else if (beta !== 0) {
      for (let i = k1 + 1; i < n; i++) rank2UpdateRow(w, n, i, cur, curP);
    } else if (betaNext !== 0) {
      symmetricProduct(w, n, k1 + 1, nxt, nxtP);
    }
    if (last) break;
    if (betaNext !== 0) toUpdateVector(n, k1, betaNext, nxt, nxtP);
    beta = betaNext;
    [cur, nxt] = [nxt, cur];
    [curP, nxtP] = [nxtP, curP];
  }
  if (n >= 2) {
    diag[n - 2] = w[(n - 2) * n + n - 2]!;
    off[n - 2] = w[(n - 2) * n + n - 1]!;
  }
  diag[n - 1] = w[(n - 1) * n + n - 1]!;
  return { diagonal: diag, offDiagonal: off };
}

/**
 * Householder vector for row k (entries k+1.. of `out`) mapping w[k, k+1..] to α·e₁; stores
 * α in off[k] and returns β = 2/(vᵀv), or 0 when the row is already reduced.
 */
function reflector(
  w: Float64Array,
  n: number,
  k: number,
  out: Float64Array,
  off: Float64Array,
): number {
  const row = k * n;
  let sq = 0;
  for (let j = k + 2; j < n; j++) sq += w[row + j]! * w[row + j]!;
  const x0 = w[row + k + 1]!;
  if (sq === 0) {
    off[k] = x0;
    return 0;
  }
  const norm = Math.sqrt(sq + x0 * x0);
  const alpha = x0 > 0 ? -norm : norm;
  off[k] = alpha;
  out[k + 1] = x0 - alpha;
  for (let j = k + 2; j < n; j++) out[j] = w[row + j]!;
  return 2 / ((x0 - alpha) * (x0 - alpha) + sq);
}

/** out[from..] = A·vec over the upper triangle of rows/cols ≥ from. */
function symmetricProduct(
  w: Float64Array,
  n: number,
  from: number,
  vec: Float64Array,
  out: Float64Array,
): void {
  for (let i = from; i < n; i++) out[i] = 0;
  for (let i = from; i < n; i++) {
    const row = i * n;
    const vi = vec[i]!;
    let s = w[row + i]! * vi;
    for (let j = i + 1; j < n; j++) {
      const aij = w[row + j]!;
      s += aij * vec[j]!;
      out[j]! += aij * vi;
    }
    out[i]! += s;
  }
}

/** Turns p = A22·v into the update vector β·p − (β²/2)(pᵀv)·v (entries > k), in place. */
function toUpdateVector(
  n: number,
  k: number,
  beta: number,
  v: Float64Array,
  p: Float64Array,
): void {
  let pv = 0;
  for (let i = k + 1; i < n; i++) pv += p[i]! * v[i]!;
  const kk = 0.5 * beta * beta * pv;
  for (let i = k + 1; i < n; i++) p[i] = beta * p[i]! - kk * v[i]!;
}

/** Row i (upper part, j ≥ i) ← row − v_i·u_j − u_i·v_j. */
function rank2UpdateRow(
  w: Float64Array,
  n: number,
  i: number,
  v: Float64Array,
  u: Float64Array,
): void {
  const row = i * n;
  const vi = v[i]!, ui = u[i]!;
  for (let j = i; j < n; j++) w[row + j]! -= vi * u[j]! + ui * v[j]!;
}

/** Rank-2 update of rows ≥ from fused with out[from..] = A'·vec on the updated rows. */
function updateAndMultiply(
  w: Float64Array,
  n: number,
  from: number,
  v: Float64Array,
  u: Float64Array,
  vec: Float64Array,
  out: Float64Array,
): void {
  for (let i = from; i < n; i++) out[i] = 0;
  for (let i = from; i < n; i++) {
    const row = i * n;
    const vi = v[i]!, ui = u[i]!, xi = vec[i]!;
    const aii = w[row + i]! - (vi * u[i]! + ui * v[i]!);
    w[row + i] = aii;
    let s = aii * xi;
    for (let j = i + 1; j < n; j++) {
      const aij = w[row + j]! - (vi * u[j]! + ui * v[j]!);
      w[row + j] = aij;
      s += aij * vec[j]!;
      out[j]! += aij * xi;
    }
    out[i]! += s;
  }
}

/**
 * Eigenvalues of a symmetric tridiagonal matrix by the implicit QL method with Wilkinson shifts
 * (Numerical Recipes' `tqli` without eigenvectors), returned sorted descending. O(n²).
 */
export function tridiagonalEigenvalues(t: Tridiagonal): Float64Array {
  const n = t.diagonal.length;
  const d = Float64Array.from(t.diagonal);
  const e = new Float64Array(n);
  e.set(t.offDiagonal);
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= eps * dd) break;
      }
      if (m !== l) {
        if (iter++ === 100) {
          throw new KitError(`tridiagonalEigenvalues: no convergence for eigenvalue ${l} of ${n}`);
        }
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.sqrt(g * g + 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
        let s = 1, c = 1, p = 0;
        let i: number;
        let underflow = false;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i]!;
          const b = c * e[i]!;
          r = Math.sqrt(f * f + g * g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1]! -= p;
            e[m] = 0;
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (underflow) continue;
        d[l]! -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  d.sort();
  d.reverse();
  return d;
}

/**
 * All eigenvalues of a symmetric matrix (upper triangle read), sorted descending: Householder
 * tridiagonalisation + implicit QL, Float64. Absolute accuracy ≈ 1e-15·‖A‖. With native
 * OpenBLAS loaded (`nativeBlas()`), LAPACK's `dsyevd` (eigenvalues only) instead. (The small
 * Jacobi solver with eigenvectors, `smallSymmetricEigen` in lib/micro_corrections/spectral_init.ts,
 * is kept apart: it serves another size and returns vectors; see there.)
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { symmetricEigenvalues } from "./symmetric_eigen.ts";
 * const ev = symmetricEigenvalues({ data: new Float64Array([2, 1, 1, 2]), size: 2 });
 * assert(Math.abs(ev[0]! - 3) < 1e-12 && Math.abs(ev[1]! - 1) < 1e-12);
 * ```
 */
export function symmetricEigenvalues(a: SymmetricMatrix): Float64Array {
  if (a.data.length !== a.size * a.size) {
    throw new KitError(`symmetricEigenvalues: expected ${a.size}² values, found ${a.data.length}`);
  }
  const blas = nativeBlas();
  if (blas) return blas.symmetricEigenvalues(a.data, a.size);
  return tridiagonalEigenvalues(tridiagonalize(a));
}
