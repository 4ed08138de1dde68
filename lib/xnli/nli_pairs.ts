import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";

/**
 * Embedded NLI pairs: premise and hypothesis embeddings are stored once per distinct text
 * (XNLI has three hypotheses per premise) and pairs point into them.
 */
export interface EmbeddedNliPairs {
  premises: RowMatrix;
  hypotheses: RowMatrix;
  /** Per pair: its row in `premises` / `hypotheses`. */
  premiseRow: Int32Array;
  hypothesisRow: Int32Array;
  /** Per pair: class id 0 entailment, 1 neutral, 2 contradiction. */
  labels: Int32Array;
}

/** Number of pairs, after checking that the parts agree. */
export function pairCount(p: EmbeddedNliPairs, what = "NLI pairs"): number {
  const n = p.labels.length;
  if (p.premiseRow.length !== n || p.hypothesisRow.length !== n) {
    throw new KitError(
      `${what}: ${n} labels but ${p.premiseRow.length} premise and ${p.hypothesisRow.length} hypothesis indices`,
    );
  }
  if (p.premises.cols !== p.hypotheses.cols) {
    throw new KitError(
      `${what}: premise width ${p.premises.cols} ≠ hypothesis width ${p.hypotheses.cols}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const a = p.premiseRow[i]!, b = p.hypothesisRow[i]!, y = p.labels[i]!;
    if (a < 0 || a >= p.premises.rows || b < 0 || b >= p.hypotheses.rows) {
      throw new KitError(`${what}: pair ${i} points outside the embeddings`);
    }
    if (!(y === 0 || y === 1 || y === 2)) throw new KitError(`${what}: pair ${i} has label ${y}`);
  }
  return n;
}

/** Copies the rows `pairs[i]` (or all when null) of premise and hypothesis into two buffers. */
export function gatherPairRows(
  p: EmbeddedNliPairs,
  pairs: ArrayLike<number>,
  prem: Float32Array,
  hyp: Float32Array,
): void {
  const d = p.premises.cols;
  for (let i = 0; i < pairs.length; i++) {
    const k = pairs[i]!;
    const a = p.premiseRow[k]! * d, b = p.hypothesisRow[k]! * d;
    prem.set(p.premises.data.subarray(a, a + d), i * d);
    hyp.set(p.hypotheses.data.subarray(b, b + d), i * d);
  }
}
