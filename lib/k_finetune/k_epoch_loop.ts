import { KitError } from "../util/kit_error.ts";

/**
 * The shape of K's training loop (nkrasner/cl-clip-align at d75b729,
 * `Alignment/text-image/finetune_clip.py` and `Alignment/text-text/align_roberta.py`, `train()`):
 * epochs of `ceil(records / batch)` batches (a DataLoader with `shuffle=True`, `drop_last=False`:
 * the last partial batch is trained on), the towers frozen for the first `freezeSteps` global
 * steps, validation after a batch whose within-epoch index `batch_idx` is a positive multiple of
 * `validateEvery` (none after the last step otherwise). `model.train()` is called at the start of
 * each epoch and `model.eval()` at each validation, never `train()` again within the epoch: so
 * dropout is on only until the first validation of each epoch (`dropoutThroughout`: on at every
 * training step instead).
 */
export interface KEpochLoop {
  batchesPerEpoch: number;
  freezeSteps: number;
  /** Validate after within-epoch batches `k·validateEvery`, k ≥ 1 (0: never). */
  validateEvery: number;
  dropoutThroughout: boolean;
}

/** What K's loop does at one global step. */
export interface KLoopStep {
  epoch: number;
  /** `batch_idx` within the epoch. */
  batch: number;
  /** Towers frozen at this step (only the projections and the scale train). */
  towersFrozen: boolean;
  /** Validation runs after this step. */
  validateAfter: boolean;
  /** The towers are in training mode (dropout on) at this step. */
  trainMode: boolean;
}

/** Batches an epoch of `records` records in batches of `batchSize` (the last one partial). */
export function kBatchesPerEpoch(records: number, batchSize: number): number {
  if (!Number.isInteger(records) || records < 1) {
    throw new KitError(`K loop: the number of training records must be positive, got ${records}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new KitError(`K loop: batch size must be a positive integer, got ${batchSize}`);
  }
  return Math.ceil(records / batchSize);
}

/** The loop's plan at 0-based global step `step`. */
export function kLoopStep(step: number, loop: KEpochLoop): KLoopStep {
  const per = loop.batchesPerEpoch;
  if (!Number.isInteger(per) || per < 1) {
    throw new KitError(`K loop: batchesPerEpoch must be a positive integer, got ${per}`);
  }
  if (!Number.isInteger(step) || step < 0) {
    throw new KitError(`K loop: step must be a non-negative integer, got ${step}`);
  }
  const epoch = Math.floor(step / per), batch = step % per;
  const every = loop.validateEvery;
  return {
    epoch,
    batch,
    towersFrozen: step < loop.freezeSteps,
    validateAfter: every > 0 && batch > 0 && batch % every === 0,
    // eval() from the first validation of the epoch on: batches after batch `every`
    trainMode: loop.dropoutThroughout || every <= 0 || batch <= every,
  };
}
