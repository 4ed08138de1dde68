import { KitError } from "../util/kit_error.ts";

/**
 * Paper K's neighbourhood radius of each sentence **within its own language** (nkrasner/cl-clip-align@d75b729 `Alignment/text-image/flores-sts.py`, `xsim`; their
 * `flores-sts.py` `xsim`): with cosine distances D(i, j) = 1 − cos(x_i, x_j),
 * r(i) = (sum of the k smallest D(i, ·) over j ≠ i) / (2k). `selfCos` is the `n × n` cosine
 * matrix of the language with itself (row-major). Computed in float64.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { xsimRadii } from "./k_xsim.ts";
 * const r = xsimRadii(new Float32Array([1, 0.5, 0, 0.5, 1, 0, 0, 0, 1]), 3, 1);
 * assert(r[0] === 0.25 && r[2] === 0.5);
 * ```
 */
export function xsimRadii(
  selfCos: Float32Array | Float64Array,
  n: number,
  k: number,
): Float64Array {
  if (!Number.isInteger(n) || n < 1 || selfCos.length !== n * n) {
    throw new KitError(
      `xsimRadii: expected an n×n within-language cosine matrix, got ${selfCos.length} values for n=${n}`,
    );
  }
  if (!Number.isInteger(k) || k < 1 || k > n - 1) {
    throw new KitError(
      `xsimRadii: k must be an integer in [1, n−1=${n - 1}] (self excluded), got ${k}`,
    );
  }
  const out = new Float64Array(n);
  const best = new Float64Array(k); // k smallest distances, ascending
  for (let i = 0; i < n; i++) {
    let filled = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = 1 - selfCos[i * n + j]!;
      if (filled === k && !(d < best[k - 1]!)) continue;
      let pos = filled === k ? k - 1 : filled;
      while (pos > 0 && d < best[pos - 1]!) {
        best[pos] = best[pos - 1]!;
        pos--;
      }
      best[pos] = d;
      if (filled < k) filled++;
    }
    let s = 0;
    for (let t = 0; t < k; t++) s += best[t]!;
    out[i] = s / (2 * k);
  }
  return out;
}

/**
 * Paper K's `xsim` score matrix (nkrasner/cl-clip-align@d75b729 `Alignment/text-image/flores-sts.py`; **not** LASER's ratio margin, which lib/retrieval keeps
 * as `margin`): S(i, j) = 1 − D_xy(i, j) / (r_x(i) + r_y(j)) with D_xy = 1 − cos(x_i, y_j) and
 * the within-language radii of {@link xsimRadii}. `cos` is the `nx × ny` cross-language cosine
 * matrix. Returns a row-major Float64Array. A zero denominator (k duplicates of a sentence on
 * both sides) gives ±Infinity or NaN, as numpy does.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { xsimScores } from "./k_xsim.ts";
 * const s = xsimScores(new Float32Array([1, 0, 0, 1]), 2, 2, new Float64Array([0.25, 0.25]), new Float64Array([0.25, 0.25]));
 * assert(s[0] === 1 && s[1] === -1);
 * ```
 */
export function xsimScores(
  cos: Float32Array | Float64Array,
  nx: number,
  ny: number,
  rx: Float64Array,
  ry: Float64Array,
): Float64Array {
  if (cos.length !== nx * ny || rx.length !== nx || ry.length !== ny) {
    throw new KitError(
      `xsimScores: expected a ${nx}×${ny} matrix and radii of lengths ${nx} and ${ny}, got ${cos.length}, ${rx.length}, ${ry.length}`,
    );
  }
  const out = new Float64Array(nx * ny);
  for (let i = 0; i < nx; i++) {
    const o = i * ny, r = rx[i]!;
    for (let j = 0; j < ny; j++) out[o + j] = 1 - (1 - cos[o + j]!) / (r + ry[j]!);
  }
  return out;
}

/**
 * K's xsim matrix from the three cosine matrices of a bitext pair: `cos` (a × b), `aa` (a × a)
 * and `bb` (b × b), all n × n; neighbourhood `k` (K: 4).
 */
export function xsimFromCosines(
  cos: Float32Array | Float64Array,
  aa: Float32Array | Float64Array,
  bb: Float32Array | Float64Array,
  n: number,
  k = 4,
): Float64Array {
  return xsimScores(cos, n, n, xsimRadii(aa, n, k), xsimRadii(bb, n, k));
}
