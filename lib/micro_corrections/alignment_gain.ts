import { KitError } from "../util/kit_error.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";

/** Cosine of row i of `a` with row i of `b` (float64; 0 when either row is zero). */
export function rowCosines(a: RowMatrix, b: RowMatrix): Float64Array {
  const out = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let ab = 0, aa = 0, bb = 0;
    const oa = i * a.cols, ob = i * b.cols;
    for (let c = 0; c < a.cols; c++) {
      const x = a.data[oa + c]!, y = b.data[ob + c]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    out[i] = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  }
  return out;
}

/**
 * Per item, how much the aligned caption moved towards its own image:
 * gain_i = cos(t̃_i, v_i) − cos(t_i, v_i).
 */
export function alignmentGains(
  before: RowMatrix,
  after: RowMatrix,
  images: RowMatrix,
): Float64Array {
  for (const [name, m] of [["after", after], ["images", images]] as const) {
    if (m.rows !== before.rows || m.cols !== before.cols) {
      throw new KitError(
        `alignmentGains: ${name} is ${m.rows}×${m.cols}; expected ${before.rows}×${before.cols} like the captions before`,
      );
    }
  }
  const a = rowCosines(after, images);
  const b = rowCosines(before, images);
  return a.map((x, i) => x - b[i]!);
}

/**
 * The `count` items with the largest gain (ties: lower index first), best first.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { topGainAnchors } from "./alignment_gain.ts";
 * assert(topGainAnchors(new Float64Array([0.1, 0.3, 0.2]), 2).join() === "1,2");
 * ```
 */
export function topGainAnchors(gains: Float64Array, count: number): number[] {
  const idx = Array.from(gains.keys());
  idx.sort((i, j) => gains[j]! - gains[i]! || i - j);
  return idx.slice(0, Math.min(count, idx.length));
}
