import { KitError } from "../util/kit_error.ts";
import { type RowMatrix, transposeData } from "./row_matrix.ts";
import { dotProductsJs, dotRow } from "./similarity.ts";

/** Unit roundoff of float32 and float64. */
const U32 = 2 ** -24, U64 = 2 ** -53;

/** γₖ = k·u / (1 − k·u): the bound on the relative error of a length-k dot product. */
function gamma(k: number, u: number): number {
  const ku = k * u;
  if (ku >= 0.5) throw new KitError(`certified similarity: length ${k} too long for a bound`);
  return ku / (1 - ku);
}

function rowNorms(m: RowMatrix): Float64Array {
  const out = new Float64Array(m.rows), d = m.cols, A = m.data;
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += A[r * d + k]! * A[r * d + k]!;
    out[r] = Math.sqrt(s);
  }
  return out;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/**
 * A float32 similarity matrix `S ≈ P·Qᵀ` from any kernel (OpenBLAS sgemm, XNNPACK, WebGPU …)
 * that answers ranking questions with the **exact bits of {@link dotProductsJs}**, the float64
 * reference `J = fround(Σₖ p·q)`, at about the cost of the fast kernel.
 *
 * Why it is exact: for any float32 summation order, |S − p·q| ≤ γ₃₂(d)·Σ|pₖqₖ| ≤ γ₃₂(d)·‖p‖‖q‖
 * (γ(d) = d·u/(1 − d·u), u = 2⁻²⁴; Cauchy–Schwarz), the float64 sum D has
 * |D − p·q| ≤ γ₆₄(d)·‖p‖‖q‖, and |J − D| ≤ 2⁻²⁴|D| (+ a subnormal half-ulp). So every reference
 * entry lies in [S − T, S + T] with a per-row tolerance T (computed generously from the row's
 * norm and the largest candidate norm). A comparison of an entry with a reference value v is
 * decided by `S` alone when S − T > v or S + T < v; only entries within T of v are recomputed
 * with {@link dotRow} (the reference's own summation), and those comparisons are float32 vs
 * float32 reference values, exactly as on `dotProductsJs`'s matrix. Typical rows recompute
 * well under one entry. If the fast product has a non-finite entry, the reference matrix is
 * used instead.
 *
 * `toleranceScale` (default 1) multiplies T; it exists so tests can show that a too-small
 * bound gives wrong ranks. Values below 1 void the guarantee.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { CertifiedSimilarity } from "./certified_similarity.ts";
 * const P = matrixFromRows([[1, 0], [0, 1]]);
 * const C = new CertifiedSimilarity(P, P, new Float32Array([1, 0, 0, 1]));
 * assert(C.rankInRow(0, 0) === 0 && C.argmaxRow(1) === 1);
 * ```
 */
export class CertifiedSimilarity {
  /** Row-major `P.rows × Q.rows` float32 products (fast kernel, or the reference). */
  readonly S: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** Per-row tolerance T (see the class comment). */
  readonly tolerance: Float64Array;
  /** How many reference entries were recomputed so far (for tests and benchmarks). */
  recomputed = 0;

  constructor(
    readonly P: RowMatrix,
    readonly Q: RowMatrix,
    fast: Float32Array,
    readonly toleranceScale = 1,
    private readonly normsP: Float64Array = rowNorms(P),
    private readonly normsQ: Float64Array = rowNorms(Q),
  ) {
    if (P.cols !== Q.cols) {
      throw new KitError(`CertifiedSimilarity: widths differ (${P.cols} vs ${Q.cols})`);
    }
    if (fast.length !== P.rows * Q.rows) {
      throw new KitError(
        `CertifiedSimilarity: expected ${P.rows}×${Q.rows} products, got ${fast.length}`,
      );
    }
    if (!(toleranceScale >= 0)) {
      throw new KitError(`CertifiedSimilarity: toleranceScale must be ≥ 0, got ${toleranceScale}`);
    }
    this.rows = P.rows;
    this.cols = Q.rows;
    this.S = allFinite(fast) ? fast : dotProductsJs(P, Q);
    const d = P.cols;
    let qMax = 0;
    for (const v of normsQ) qMax = Math.max(qMax, v);
    // 1.001: the norms' own float64 rounding; d·2⁻¹²⁵: kernels that flush subnormal products.
    const g = (gamma(d, U32) + gamma(d, U64)) * 1.001;
    this.tolerance = new Float64Array(this.rows);
    for (let r = 0; r < this.rows; r++) {
      const bound = normsP[r]! * qMax * 1.001;
      const e = g * bound + d * 2 ** -125;
      // 2⁻²³ (twice the float32 rounding of the reference) also covers float64 rounding of v ± T.
      this.tolerance[r] = toleranceScale * (e + 2 ** -23 * (bound + e) + 2 ** -140);
    }
  }

  /** The reference entry (r, c): `dotProductsJs(P, Q)[r·cols + c]`, bit for bit. */
  exact(r: number, c: number): number {
    this.recomputed++;
    const d = this.P.cols;
    return Math.fround(dotRow(this.P.data, r * d, this.Q.data, c * d, d));
  }

  /**
   * The 0-based rank of candidate `truth` in row `r` of the reference matrix under a stable
   * descending sort (equal scores: lower index first), as `rankInRow` on `dotProductsJs`'s
   * matrix.
   */
  rankInRow(r: number, truth: number): number {
    const S = this.S, o = r * this.cols, nc = this.cols;
    const t = this.exact(r, truth), T = this.tolerance[r]!;
    const hi = t + T, lo = t - T;
    // Branch-free first pass (four counters each, as rankInRow): entries certainly above, and
    // entries that may be above (the truth's own entry is discounted).
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    const end = o + nc;
    let i = o;
    for (; i + 4 <= end; i += 4) {
      const v0 = S[i]!, v1 = S[i + 1]!, v2 = S[i + 2]!, v3 = S[i + 3]!;
      a0 += +(v0 > hi);
      a1 += +(v1 > hi);
      a2 += +(v2 > hi);
      a3 += +(v3 > hi);
      b0 += +(v0 >= lo);
      b1 += +(v1 >= lo);
      b2 += +(v2 >= lo);
      b3 += +(v3 >= lo);
    }
    for (; i < end; i++) {
      a0 += +(S[i]! > hi);
      b0 += +(S[i]! >= lo);
    }
    const st = S[o + truth]!;
    const certain = a0 + a1 + a2 + a3 - +(st > hi), maybe = b0 + b1 + b2 + b3 - +(st >= lo);
    if (maybe === certain) return certain; // no other entry is near t
    let above = 0;
    for (let c = 0; c < nc; c++) {
      const v = S[o + c]!;
      if (v > hi) above++;
      else if (v >= lo && c !== truth) {
        const x = this.exact(r, c);
        if (x > t || (x === t && c < truth)) above++;
      }
    }
    return above;
  }

  /** The index of row `r`'s largest reference entry (ties → lowest index), as `argmaxRows`. */
  argmaxRow(r: number): number {
    const S = this.S, o = r * this.cols, nc = this.cols;
    if (nc === 0) throw new KitError("CertifiedSimilarity.argmaxRow: a row has no candidates");
    let m = -Infinity;
    for (let c = 0; c < nc; c++) if (S[o + c]! > m) m = S[o + c]!;
    // The largest reference entry is ≥ m − T; an entry with S + T below that cannot be it.
    const floor = m - 2 * this.tolerance[r]!;
    let best = -1, bv = -Infinity;
    for (let c = 0; c < nc; c++) {
      if (S[o + c]! < floor) continue;
      const x = this.exact(r, c);
      if (best < 0 || x > bv) {
        best = c;
        bv = x;
      }
    }
    return best;
  }

  /** The same similarities seen from the other side: `Q·Pᵀ` (e.g. image × caption). */
  transpose(): CertifiedSimilarity {
    return new CertifiedSimilarity(
      this.Q,
      this.P,
      transposeData(this.S, this.rows, this.cols),
      this.toleranceScale,
      this.normsQ,
      this.normsP,
    );
  }
}
