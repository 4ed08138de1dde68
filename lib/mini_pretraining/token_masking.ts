import type { SeededRandom } from "../util/seeded_random.ts";
import type { TokenBatch } from "../encoders/xlm_roberta_encoder.ts";

/** A masked-LM batch: corrupted inputs, and the positions and original ids to predict. */
export interface MaskedBatch {
  inputs: TokenBatch;
  /** Flat positions (row·length + column) of the tokens to predict. */
  positions: Int32Array;
  /** Their original ids. */
  targets: Int32Array;
}

/**
 * BERT/RoBERTa masking: each real, non-special token is chosen with probability `rate`
 * (at least one per batch); a chosen token becomes `<mask>` (80 %), a random piece (10 %) or
 * stays (10 %), and must be predicted. Ids `< firstPiece` and `maskId` are special.
 */
export function maskTokens(
  batch: TokenBatch,
  rng: SeededRandom,
  opts: {
    rate: number;
    maskId: number;
    firstPiece: number;
    vocabSize: number;
    padId: number;
    eosId: number;
  },
): MaskedBatch {
  const ids = batch.ids.slice();
  const positions: number[] = [], targets: number[] = [];
  const candidates: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < opts.firstPiece || id === opts.maskId) continue;
    candidates.push(i);
    if (rng.next() < opts.rate) positions.push(i);
  }
  if (positions.length === 0 && candidates.length > 0) {
    positions.push(candidates[rng.int(candidates.length)]!);
  }
  for (const p of positions) {
    targets.push(ids[p]!);
    const r = rng.next();
    if (r < 0.8) ids[p] = opts.maskId;
    else if (r < 0.9) ids[p] = opts.firstPiece + rng.int(opts.maskId - opts.firstPiece);
  }
  return {
    inputs: { ids, batch: batch.batch, length: batch.length },
    positions: Int32Array.from(positions),
    targets: Int32Array.from(targets),
  };
}
