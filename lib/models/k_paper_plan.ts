import { KitError } from "../util/kit_error.ts";

/**
 * Paper K's fine-tuning settings as its code runs them (nkrasner/cl-clip-align,
 * `Alignment/text-image/finetune_clip.py` defaults): 512-d projections, Adam lr 1e-5, 10 epochs
 * with `LambdaLR(1 − epoch/epochs)` stepped once per epoch, 32 images a batch, captions
 * truncated at 128 tokens, Hugging Face's dropout 0.1, both towers frozen while
 * `batch_idx / len(loader) < 0.5` in epoch 0 (`warmup_ratio`), validation after every
 * 300th batch of an epoch (`batch_idx > 0 and batch_idx % 300 == 0`), the checkpoint with the
 * lowest validation loss kept.
 */
export const K_PAPER_HYPERPARAMETERS = {
  projectionDim: 512,
  lr: 1e-5,
  epochs: 10,
  imagesPerBatch: 32,
  maxLength: 128,
  dropout: 0.1,
  freezeFraction: 0.5,
  validateEvery: 300,
} as const;

export type KPaperHyperparameters = {
  -readonly [K in keyof typeof K_PAPER_HYPERPARAMETERS]: number;
};

/** What K's code does at one global step. */
export interface KPaperStep {
  epoch: number;
  /** `batch_idx` within the epoch. */
  batch: number;
  /** Learning rate of this step (constant within an epoch). */
  lr: number;
  /** Towers frozen at this step (only projections and scale train). */
  towersFrozen: boolean;
  /** Run validation after this step (and keep the model if its loss is the lowest). */
  validateAfter: boolean;
}

/** Batches per epoch for `trainImages` images (the last batch may be smaller, as DataLoader's). */
export function kPaperBatchesPerEpoch(
  trainImages: number,
  hp: KPaperHyperparameters = K_PAPER_HYPERPARAMETERS,
): number {
  if (!Number.isInteger(trainImages) || trainImages < 1) {
    throw new KitError(`K plan: trainImages must be a positive integer, got ${trainImages}`);
  }
  return Math.ceil(trainImages / hp.imagesPerBatch);
}

/** The plan of global step `step` (0-based) with `batchesPerEpoch` batches an epoch. */
export function kPaperStep(
  step: number,
  batchesPerEpoch: number,
  hp: KPaperHyperparameters = K_PAPER_HYPERPARAMETERS,
): KPaperStep {
  if (!Number.isInteger(batchesPerEpoch) || batchesPerEpoch < 1) {
    throw new KitError(
      `K plan: batchesPerEpoch must be a positive integer, got ${batchesPerEpoch}`,
    );
  }
  const total = batchesPerEpoch * hp.epochs;
  if (!Number.isInteger(step) || step < 0 || step >= total) {
    throw new KitError(`K plan: step ${step} outside [0, ${total})`);
  }
  const epoch = Math.floor(step / batchesPerEpoch), batch = step % batchesPerEpoch;
  return {
    epoch,
    batch,
    lr: hp.lr * (1 - epoch / hp.epochs),
    towersFrozen: epoch === 0 && batch / batchesPerEpoch < hp.freezeFraction,
    validateAfter: batch > 0 && batch % hp.validateEvery === 0,
  };
}
