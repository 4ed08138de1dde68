import { KitError } from "../util/kit_error.ts";
import { type KLoopStep, kLoopStep } from "./k_epoch_loop.ts";

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

/**
 * What K's code does at one global step: {@link kLoopStep}'s epoch, batch, frozen towers,
 * validation after the step (the model kept if its loss is the lowest) and training mode, and
 * the learning rate.
 */
export interface KPaperStep extends KLoopStep {
  /** Learning rate of this step (constant within an epoch). */
  lr: number;
}

/** Steps of epoch 0 with the towers frozen: batches with `batch_idx / batchesPerEpoch < f`. */
export function kPaperFreezeSteps(
  batchesPerEpoch: number,
  hp: KPaperHyperparameters = K_PAPER_HYPERPARAMETERS,
): number {
  return Math.min(batchesPerEpoch, Math.ceil(batchesPerEpoch * hp.freezeFraction));
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

/**
 * The plan of global step `step` (0-based) with `batchesPerEpoch` batches an epoch
 * (`dropoutThroughout`: dropout at every training step instead of K's until-first-validation).
 */
export function kPaperStep(
  step: number,
  batchesPerEpoch: number,
  hp: KPaperHyperparameters = K_PAPER_HYPERPARAMETERS,
  dropoutThroughout = false,
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
  const s = kLoopStep(step, {
    batchesPerEpoch,
    freezeSteps: kPaperFreezeSteps(batchesPerEpoch, hp),
    validateEvery: hp.validateEvery,
    dropoutThroughout,
  });
  return { ...s, lr: hp.lr * (1 - s.epoch / hp.epochs) };
}
