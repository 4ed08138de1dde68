import { KitError } from "../util/kit_error.ts";

/**
 * Groups texts into batches of at most `batchSize` by their indices: consecutive texts in the
 * caller's order, or — with `sortByLength` — in order of token count (`lengths[i]`, ties by
 * index: stable and deterministic), so each batch holds texts of similar length and pads less
 * (sentence-transformers' `encode` sorts the same way). The caller writes each batch's rows back
 * to the indices it names.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { paddedTokenCount, textBatches } from "./length_sorted_batches.ts";
 * const lengths = [9, 3, 8, 3];
 * assert.deepEqual(textBatches(lengths, 2, false), [[0, 1], [2, 3]]);
 * assert.deepEqual(textBatches(lengths, 2, true), [[1, 3], [2, 0]]);
 * assert.equal(paddedTokenCount(lengths, textBatches(lengths, 2, false)), 2 * 9 + 2 * 8);
 * assert.equal(paddedTokenCount(lengths, textBatches(lengths, 2, true)), 2 * 3 + 2 * 9);
 * ```
 */
export function textBatches(
  lengths: readonly number[],
  batchSize: number,
  sortByLength: boolean,
): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new KitError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const order = lengths.map((_, i) => i);
  if (sortByLength) order.sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** Tokens the batches are padded to: Σ over batches of its size × its longest text (≥ 1). */
export function paddedTokenCount(
  lengths: readonly number[],
  batches: readonly (readonly number[])[],
): number {
  let n = 0;
  for (const b of batches) n += b.length * Math.max(1, ...b.map((i) => lengths[i]!));
  return n;
}

/** What a text model's forward passes have held so far (cumulative). */
export interface TokenPaddingStats {
  /** Texts embedded. */
  texts: number;
  /** Their real tokens (special tokens included, padding excluded). */
  realTokens: number;
  /** Tokens of the padded batches the encoder ran: batch × its longest text, summed. */
  paddedTokens: number;
  /** Forward passes (batches, and the parts of a batch split to fit WASM's heap). */
  forwardPasses: number;
}
