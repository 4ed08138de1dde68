import { KitError } from "../util/kit_error.ts";

/**
 * A dense row-major float32 matrix: `data[r * cols + c]`. Embedding sets (one row per caption
 * or image) are passed around the retrieval code in this form.
 */
export interface RowMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Wraps `data` as a `rows × cols` matrix after checking the length and that every entry is
 * finite; `what` names the matrix in error messages.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowMatrix } from "./row_matrix.ts";
 * const m = rowMatrix(new Float32Array([1, 0, 0, 1]), 2, 2);
 * assert(m.rows === 2 && m.cols === 2);
 * ```
 */
export function rowMatrix(
  data: Float32Array,
  rows: number,
  cols: number,
  what = "matrix",
): RowMatrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new KitError(`${what}: shape must be non-negative integers, got ${rows}×${cols}`);
  }
  if (data.length !== rows * cols) {
    throw new KitError(
      `${what}: expected ${rows}×${cols} = ${rows * cols} values, got ${data.length}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new KitError(
        `${what}: entry (${Math.floor(i / Math.max(cols, 1))}, ${i % Math.max(cols, 1)}) is ${
          data[i]
        }; expected finite values`,
      );
    }
  }
  return { data, rows, cols };
}

/**
 * A matrix from nested arrays (one inner array per row).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * assert(matrixFromRows([[1, 2], [3, 4]]).data[2] === 3);
 * ```
 */
export function matrixFromRows(rows: readonly (readonly number[])[], what = "matrix"): RowMatrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) {
      throw new KitError(`${what}: row ${i} has ${r.length} values, expected ${cols} like row 0`);
    }
    data.set(r, i * cols);
  });
  return rowMatrix(data, rows.length, cols, what);
}

/**
 * A copy with every row scaled to unit L2 norm (`x / max(‖x‖, 1e-12)`, as torch's
 * `F.normalize`; a zero row stays zero). The norm is accumulated in float64.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { l2NormalizeRows, matrixFromRows } from "./row_matrix.ts";
 * assert(l2NormalizeRows(matrixFromRows([[3, 4]])).data[1] === 0.800000011920929);
 * ```
 */
export function l2NormalizeRows(m: RowMatrix): RowMatrix {
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += data[o + c]! * data[o + c]!;
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
    for (let c = 0; c < cols; c++) out[o + c] = data[o + c]! * inv;
  }
  return { data: out, rows, cols };
}

/**
 * The rows at `indices`, in that order (for a fold's holdout rows).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows, selectRows } from "./row_matrix.ts";
 * assert(selectRows(matrixFromRows([[1], [2], [3]]), [2, 0]).data[0] === 3);
 * ```
 */
export function selectRows(m: RowMatrix, indices: ArrayLike<number>, what = "matrix"): RowMatrix {
  const out = new Float32Array(indices.length * m.cols);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!Number.isInteger(r) || r < 0 || r >= m.rows) {
      throw new KitError(`${what}: row index ${r} out of range [0, ${m.rows})`);
    }
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { data: out, rows: indices.length, cols: m.cols };
}

/** The transpose of a row-major `rows × cols` Float32Array, as a `cols × rows` one. */
export function transposeData(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c]!;
      }
    }
  }
  return out;
}
