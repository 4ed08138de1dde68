import { KitError } from "../util/kit_error.ts";

/**
 * A dense row-major matrix: entry (i, j) is `data[i * cols + j]`. The diagnostics read either
 * precision and compute in Float64; a `Float32Array` additionally selects numpy's float32
 * semantics where those differ observably (histogram binning, see `dimensionEntropy`).
 */
export interface Matrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Wraps `data` as a `rows × cols` matrix after checking the sizes; `what` names the source in
 * error messages (a file, a language).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "./matrix.ts";
 * const m = matrix(new Float64Array([1, 2, 3, 4, 5, 6]), 2, 3);
 * assert(m.data[m.cols + 2] === 6);
 * ```
 */
export function matrix(
  data: Float32Array | Float64Array,
  rows: number,
  cols: number,
  what = "matrix",
): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new KitError(`${what}: rows and cols must be non-negative integers, got ${rows}×${cols}`);
  }
  if (data.length !== rows * cols) {
    throw new KitError(
      `${what}: expected ${rows}×${cols} = ${rows * cols} values, found ${data.length}`,
    );
  }
  return { data, rows, cols };
}

/**
 * Builds a Float64 matrix from an array of equal-length rows.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./matrix.ts";
 * assert(matrixFromRows([[1, 2], [3, 4]]).rows === 2);
 * ```
 */
export function matrixFromRows(rows: readonly (readonly number[])[], what = "matrix"): Matrix {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0]!.length;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.length !== d) {
      throw new KitError(`${what}: row ${i} has ${r.length} values, expected ${d} like row 0`);
    }
    data.set(r, i * d);
  }
  return { data, rows: n, cols: d };
}

/** Throws a `KitError` naming `what` and the first offending entry when `m` holds NaN or ±Inf. */
export function assertFinite(m: Matrix, what = "matrix"): void {
  const a = m.data;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) {
      const r = Math.floor(i / m.cols), c = i - r * m.cols;
      throw new KitError(`${what}: entry (${r}, ${c}) is ${a[i]}, expected a finite number`);
    }
  }
}

/** `m` with every column's mean subtracted, as a new Float64 matrix. */
export function centreColumns(m: Matrix): Matrix {
  const { rows: n, cols: d } = m;
  const src = m.data;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j]! += src[o + j]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = src[o + j]! - mean[j]!;
  }
  return { data: out, rows: n, cols: d };
}

/** The transpose of `m` as a new Float64 matrix. */
export function transpose(m: Matrix): Matrix {
  const { rows: n, cols: d } = m;
  const src = m.data;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) out[j * n + i] = src[o + j]!;
  }
  return { data: out, rows: d, cols: n };
}
