import type { Matrix } from "./matrix.ts";
import { nativeBlas } from "../backend/openblas.ts";

/** A symmetric `size × size` matrix stored in full, row-major, Float64. */
export interface SymmetricMatrix {
  readonly data: Float64Array;
  readonly size: number;
}

/**
 * The Gram matrix `X·Xᵀ` (rows × rows) in Float64, both triangles filled. Plain JS with 2×2
 * register blocking: about 1–2 GFLOP/s on one core, which beats TF.js-WASM in Float64 and
 * keeps full precision. With native OpenBLAS loaded (`nativeBlas()`), one Float64 `dsyrk`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { gram } from "./gram.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * const g = gram(matrixFromRows([[1, 2], [3, 4], [5, 6]]));
 * assert(g.size === 3 && g.data[1] === 11 && g.data[3] === 11);
 * ```
 */
export function gram(x: Matrix): SymmetricMatrix {
  const n = x.rows, d = x.cols;
  const a = x.data instanceof Float64Array ? x.data : Float64Array.from(x.data);
  const blas = nativeBlas();
  if (blas && n > 0 && d > 0) return { data: blas.gram(a, n, d, false), size: n };
  const g = new Float64Array(n * n);
  // One call per row pair keeps each kernel small and hot, so V8 optimises it after a few calls
  // instead of relying on on-stack replacement of one long-running loop nest (which deopts).
  let i = 0;
  for (; i + 1 < n; i += 2) gramRowPair(a, g, n, d, i);
  if (i < n) gramLastRow(a, g, n, d, i);
  return { data: g, size: n };
}

/** Rows i and i+1 of X·Xᵀ against all rows j ≥ i (2×2 register blocks). */
function gramRowPair(a: Float64Array, g: Float64Array, n: number, d: number, i: number): void {
  const oi = i * d, oi1 = oi + d;
  let s00 = 0, s01 = 0, s11 = 0;
  for (let t = 0; t < d; t++) {
    const u = a[oi + t]!, v = a[oi1 + t]!;
    s00 += u * u;
    s01 += u * v;
    s11 += v * v;
  }
  g[i * n + i] = s00;
  g[i * n + i + 1] = s01;
  g[(i + 1) * n + i] = s01;
  g[(i + 1) * n + i + 1] = s11;
  let j = i + 2;
  for (; j + 1 < n; j += 2) {
    const oj = j * d, oj1 = oj + d;
    let b00 = 0, b01 = 0, b10 = 0, b11 = 0;
    for (let t = 0; t < d; t++) {
      const u0 = a[oi + t]!, u1 = a[oi1 + t]!, v0 = a[oj + t]!, v1 = a[oj1 + t]!;
      b00 += u0 * v0;
      b01 += u0 * v1;
      b10 += u1 * v0;
      b11 += u1 * v1;
    }
    g[i * n + j] = b00;
    g[j * n + i] = b00;
    g[i * n + j + 1] = b01;
    g[(j + 1) * n + i] = b01;
    g[(i + 1) * n + j] = b10;
    g[j * n + i + 1] = b10;
    g[(i + 1) * n + j + 1] = b11;
    g[(j + 1) * n + i + 1] = b11;
  }
  if (j < n) {
    const oj = j * d;
    let c0 = 0, c1 = 0;
    for (let t = 0; t < d; t++) {
      const v = a[oj + t]!;
      c0 += a[oi + t]! * v;
      c1 += a[oi1 + t]! * v;
    }
    g[i * n + j] = c0;
    g[j * n + i] = c0;
    g[(i + 1) * n + j] = c1;
    g[j * n + i + 1] = c1;
  }
}

/** The diagonal entry of the last row when n is odd (all others were filled by symmetry). */
function gramLastRow(a: Float64Array, g: Float64Array, n: number, d: number, i: number): void {
  const oi = i * d;
  let s = 0;
  for (let t = 0; t < d; t++) s += a[oi + t]! * a[oi + t]!;
  g[i * n + i] = s;
}
