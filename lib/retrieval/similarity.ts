import { tf } from "../backend/tf.ts";
import { activeBackend } from "../backend/select_backend.ts";
import { KitError } from "../util/kit_error.ts";
import { l2NormalizeRows, type RowMatrix, transposeData } from "./row_matrix.ts";

/**
 * How a similarity matrix is multiplied out. `"js"`: plain JavaScript loops (float64
 * accumulation, the same bits on every backend; ~0.5 s for 554×512·512×554). `"tf"`: one TF.js
 * `matMul` on the active backend (float32 accumulation, so the last bits depend on the kernel;
 * ~9 ms on WASM SIMD, less on a GPU). `"auto"` (default): `"tf"` when
 * `initBackend` has started a backend other than TF.js's slow `cpu`, else `"js"`.
 */
export type MatMulEngine = "auto" | "js" | "tf";

/** Options shared by the functions that build similarity matrices. */
export interface SimilarityOptions {
  engine?: MatMulEngine;
}

/** The engine `engine` (default `"auto"`) stands for now: `"js"` or `"tf"`. */
export function resolveEngine(engine: MatMulEngine | undefined): "js" | "tf" {
  if (engine === "js" || engine === "tf") return engine;
  const b = activeBackend();
  return b !== null && b.name !== "cpu" ? "tf" : "js";
}

function checkSameWidth(a: RowMatrix, b: RowMatrix, what: string): void {
  if (a.cols !== b.cols) {
    throw new KitError(`${what}: embedding widths differ (${a.cols} vs ${b.cols}); expected equal`);
  }
}

/**
 * `Σₖ a[ao+k]·b[bo+k]`, k = 0…d−1 in order, accumulated in float64: the summation of every
 * entry of {@link dotProductsJs} (before its float32 store), so `Math.fround(dotRow(…))` is that
 * entry's exact bits. The products of two float32 values are exact in float64, and `x·y = y·x`,
 * so swapping `a` and `b` gives the same bits.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { dotRow } from "./similarity.ts";
 * assert(dotRow(new Float32Array([1, 2]), 0, new Float32Array([3, 4]), 0, 2) === 11);
 * ```
 */
export function dotRow(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  d: number,
): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[ao + k]! * b[bo + k]!;
  return s;
}

/**
 * `a · bᵀ` in plain JavaScript (float64 accumulation, rounded to float32 on store): a
 * `a.rows × b.rows` row-major Float32Array. Synchronous; the reference for the TF.js path.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { dotProductsJs } from "./similarity.ts";
 * const s = dotProductsJs(matrixFromRows([[1, 2]]), matrixFromRows([[3, 4], [1, 0]]));
 * assert(s[0] === 11 && s[1] === 1);
 * ```
 */
export function dotProductsJs(a: RowMatrix, b: RowMatrix): Float32Array {
  checkSameWidth(a, b, "dotProductsJs");
  const m = a.rows, n = b.rows, d = a.cols, A = a.data, B = b.data;
  const out = new Float32Array(m * n);
  // Blocks of 2 rows × 4 columns share their loads; every entry still sums k = 0…d−1 in order
  // in float64, so the result is the same bits as the one-entry loop at the end.
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = i * d, a1 = a0 + d, o0 = i * n, o1 = o0 + n;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let k = 0; k < d; k++) {
        const x = A[a0 + k]!, y = A[a1 + k]!;
        const c0 = B[b0 + k]!, c1 = B[b1 + k]!, c2 = B[b2 + k]!, c3 = B[b3 + k]!;
        s00 += x * c0;
        s01 += x * c1;
        s02 += x * c2;
        s03 += x * c3;
        s10 += y * c0;
        s11 += y * c1;
        s12 += y * c2;
        s13 += y * c3;
      }
      out[o0 + j] = s00;
      out[o0 + j + 1] = s01;
      out[o0 + j + 2] = s02;
      out[o0 + j + 3] = s03;
      out[o1 + j] = s10;
      out[o1 + j + 1] = s11;
      out[o1 + j + 2] = s12;
      out[o1 + j + 3] = s13;
    }
    for (; j < n; j++) {
      out[o0 + j] = dotRow(A, a0, B, j * d, d);
      out[o1 + j] = dotRow(A, a1, B, j * d, d);
    }
  }
  for (; i < m; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = dotRow(A, i * d, B, j * d, d);
  }
  return out;
}

/**
 * `q · cᵀ` for several query matrices against one candidate matrix: one row-major Float32Array
 * (`q.rows × c.rows`) per query matrix. The TF.js path stacks the query sets into one
 * `matMul` against an explicitly transposed `cᵀ` (TF.js's transpose flags are slow on WASM) and
 * reads the result once with `await data()`, so it works on every backend, WebGPU included.
 * No normalisation is applied here.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { dotProductsMany } from "./similarity.ts";
 * const [s] = await dotProductsMany([matrixFromRows([[1, 2]])], matrixFromRows([[3, 4]]), { engine: "js" });
 * assert(s![0] === 11);
 * ```
 */
export async function dotProductsMany(
  queries: readonly RowMatrix[],
  candidates: RowMatrix,
  options: SimilarityOptions = {},
): Promise<Float32Array[]> {
  for (const q of queries) checkSameWidth(q, candidates, "dotProductsMany");
  if (resolveEngine(options.engine) === "js") {
    return queries.map((q) => dotProductsJs(q, candidates));
  }
  const d = candidates.cols, n = candidates.rows;
  const total = queries.reduce((s, q) => s + q.rows, 0);
  if (total === 0 || n === 0 || d === 0) return queries.map((q) => new Float32Array(q.rows * n));
  // One product for all query sets: fewer kernel launches and a single read-back.
  let stacked: Float32Array;
  if (queries.length === 1) stacked = queries[0]!.data;
  else {
    stacked = new Float32Array(total * d);
    let at = 0;
    for (const q of queries) {
      stacked.set(q.data, at);
      at += q.data.length;
    }
  }
  const s = tf.tidy(() =>
    tf.matMul(
      tf.tensor2d(stacked, [total, d]),
      tf.tensor2d(transposeData(candidates.data, n, d), [d, n]),
    )
  );
  let all: Float32Array;
  try {
    all = (await s.data()) as Float32Array;
  } finally {
    s.dispose();
  }
  const out: Float32Array[] = [];
  let row = 0;
  for (const q of queries) {
    out.push(queries.length === 1 ? all : all.slice(row * n, (row + q.rows) * n));
    row += q.rows;
  }
  return out;
}

/**
 * The similarity matrix of paper D's metrics: dot products of L2-normalised rows (cosine),
 * `a.rows × b.rows`, row-major.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { cosineSimilarityMatrix } from "./similarity.ts";
 * const s = await cosineSimilarityMatrix(matrixFromRows([[2, 0]]), matrixFromRows([[0, 5], [3, 0]]));
 * assert(s[0] === 0 && s[1] === 1);
 * ```
 */
export async function cosineSimilarityMatrix(
  a: RowMatrix,
  b: RowMatrix,
  options: SimilarityOptions = {},
): Promise<Float32Array> {
  const [s] = await dotProductsMany([l2NormalizeRows(a)], l2NormalizeRows(b), options);
  return s!;
}
