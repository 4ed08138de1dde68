import type { SeededRandom } from "../util/seeded_random.ts";

/**
 * Batches of items of similar length, to spend little compute on padding: items are ordered by
 * length once (ties by index), and each batch is `size` consecutive items of that order from a
 * random start. Every item is equally likely to start a batch; the draw depends only on `rng`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeededRandom } from "../util/seeded_random.ts";
 * import { LengthWindowBatches } from "./length_window_batches.ts";
 * const b = new LengthWindowBatches([5, 1, 9, 2], 2);
 * assert(b.next(new SeededRandom(1)).length === 2);
 * ```
 */
export class LengthWindowBatches {
  readonly #order: Int32Array;
  readonly size: number;

  constructor(lengths: ArrayLike<number>, size: number) {
    const idx = Array.from({ length: lengths.length }, (_, i) => i);
    idx.sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    this.#order = Int32Array.from(idx);
    this.size = Math.min(size, lengths.length);
  }

  /** Indices of the next batch. */
  next(rng: SeededRandom): Int32Array {
    const start = rng.int(this.#order.length - this.size + 1);
    return this.#order.slice(start, start + this.size);
  }
}
