import { KitError } from "../util/kit_error.ts";

/** Hyper-parameters of `trainHead` (paper D's training of a text-side head). */
export interface TrainConfig {
  /** Epochs (D: 20). */
  epochs: number;
  /** Optimizer steps per epoch (D: 12). */
  stepsPerEpoch: number;
  /** Images drawn per step; the batch has `languages × batchPerLang` caption rows (D: 32 → 288). */
  batchPerLang: number;
  /** Peak learning rate (D: 1e-3). */
  lr: number;
  /** Weight decay (D: 5e-4). */
  weightDecay: number;
  /** false: coupled decay added to the gradient, torch.optim.Adam (D). true: AdamW. */
  decoupledWeightDecay: boolean;
  /** Global gradient-norm clip; 0 disables (D: 1.0). */
  maxGradNorm: number;
  /** Linear warm-up steps (D: 120). */
  warmupSteps: number;
  /** Cosine decay floor as a fraction of `lr` (D: 0.1). */
  cosineFloor: number;
  /** Weight of the proximity-to-identity regulariser (D: 1e-3). */
  lambdaProx: number;
  /** Weight of the soft-orthogonality regulariser, linear head only (D: 0). */
  lambdaOrtho: number;
  /** InfoNCE temperature τ, fixed (D: 0.07). */
  temperature: number;
  /** Seed of the batch sampler (D: 7). */
  seed: number;
}

/** Paper D's best configuration (`align_text_to_image.py` "BEST from sweep"). */
export const PAPER_D_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  epochs: 20,
  stepsPerEpoch: 12,
  batchPerLang: 32,
  lr: 1e-3,
  weightDecay: 5e-4,
  decoupledWeightDecay: false,
  maxGradNorm: 1.0,
  warmupSteps: 120,
  cosineFloor: 0.1,
  lambdaProx: 1e-3,
  lambdaOrtho: 0,
  temperature: 0.07,
  seed: 7,
});

/**
 * D's defaults overridden by `partial`, validated (KitError naming the bad key).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTrainConfig } from "./train_config.ts";
 * assert(resolveTrainConfig({ epochs: 2 }).stepsPerEpoch === 12);
 * ```
 */
export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const c: TrainConfig = { ...PAPER_D_TRAIN_CONFIG, ...partial };
  const positiveInts: (keyof TrainConfig)[] = ["epochs", "stepsPerEpoch", "batchPerLang"];
  for (const k of positiveInts) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) {
      throw new KitError(`train config: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (!Number.isInteger(c.warmupSteps) || c.warmupSteps < 0) {
    throw new KitError(
      `train config: warmupSteps must be a non-negative integer, got ${c.warmupSteps}`,
    );
  }
  if (!Number.isInteger(c.seed)) {
    throw new KitError(`train config: seed must be an integer, got ${c.seed}`);
  }
  for (const k of ["lr", "weightDecay", "maxGradNorm", "lambdaProx", "lambdaOrtho"] as const) {
    if (!(c[k] >= 0) || !Number.isFinite(c[k])) {
      throw new KitError(`train config: ${k} must be ≥ 0, got ${c[k]}`);
    }
  }
  if (!(c.temperature > 0) || !Number.isFinite(c.temperature)) {
    throw new KitError(`train config: temperature must be > 0, got ${c.temperature}`);
  }
  if (!(c.cosineFloor >= 0 && c.cosineFloor <= 1)) {
    throw new KitError(`train config: cosineFloor must be in [0, 1], got ${c.cosineFloor}`);
  }
  if (typeof c.decoupledWeightDecay !== "boolean") {
    throw new KitError(`train config: decoupledWeightDecay must be true or false`);
  }
  return c;
}
