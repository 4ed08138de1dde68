import type { TrainingSchedule } from "../resumable_training/resumable_trainer.ts";
import type { MaskedLmPlan } from "../mini_pretraining/masked_lm_pretraining.ts";
import type { ImagePretrainPlan } from "../mini_pretraining/image_pretraining.ts";
import type { KFineTunePlan } from "../k_finetune/k_setup_loop.ts";
import type { ClipSpacePlan } from "../mini_pretraining/clip_space_training.ts";
import {
  type CorpusLimits,
  MINI_CORPUS_LIMITS,
  SMOKE_CORPUS_LIMITS,
} from "../mini_pretraining/pretraining_corpus.ts";

/** Every size and step count of the mini profile's model training. */
export interface MiniTrainingPlan {
  corpus: CorpusLimits;
  maskedLm: MaskedLmPlan;
  image: ImagePretrainPlan;
  k: KFineTunePlan;
  clipSpace: ClipSpacePlan;
  /** SIB-200 train+dev rows used for the student's distillation pairs. */
  sibPairs: number;
}

function schedule(steps: number, lr: number, o: Partial<TrainingSchedule> = {}): TrainingSchedule {
  return {
    steps,
    lr,
    warmupSteps: Math.max(1, Math.round(steps * 0.08)),
    finalLrFraction: 0.1,
    maxGradNorm: 1,
    weightDecay: 0.01,
    seed: 7,
    evalEvery: 0,
    checkpointEvery: 50,
    ...o,
  };
}

/**
 * The mini profile's plan: tiny XLM-R / ViT analogs (d = 64, 2 layers, ≤ 32 tokens, 64×64
 * images in 16-pixel patches) trained in a few minutes on two CPU cores with TF.js WASM.
 */
export const MINI_TRAINING_PLAN: MiniTrainingPlan = {
  corpus: MINI_CORPUS_LIMITS,
  maskedLm: {
    config: "mini-xlmr",
    vocabSize: 8000,
    maxLength: 32,
    batchSize: 64,
    maskRate: 0.15,
    schedule: schedule(600, 1e-3),
  },
  image: { config: "mini-vit", batchSize: 32, schedule: schedule(600, 1e-3) },
  k: {
    projectionDim: 64,
    batchSize: 32,
    maxLength: 32,
    // ≈ half of the first epoch: 2,775 train records (stamps + emoji drawings) / 32 ≈ 87 steps
    freezeSteps: 43,
    schedule: schedule(300, 1e-3, { evalEvery: 30, weightDecay: 0 }),
  },
  clipSpace: {
    projectionDim: 64,
    maxLength: 32,
    clipBatchSize: 32,
    clipTemperature: 0.07,
    // ≈ 11.5 epochs of the 2,775 train images; at 200 steps (2.3 epochs) the training loss was
    // still falling steeply (3.0 → 0.9 by step 1000) and D's "Before" t2i R@1 was 0.015
    clip: schedule(1000, 1e-3, { weightDecay: 0 }),
    studentBatchSize: 64,
    // ≈ 3.5 epochs of the 18,518 distillation pairs (was 300 steps, about one epoch)
    student: schedule(1000, 1e-3, { weightDecay: 0 }),
  },
  sibPairs: Infinity,
};

/** Smoke mode (`KIT_SMOKE=1`): every code path, a few steps each. */
export const SMOKE_TRAINING_PLAN: MiniTrainingPlan = {
  corpus: SMOKE_CORPUS_LIMITS,
  maskedLm: {
    ...MINI_TRAINING_PLAN.maskedLm,
    vocabSize: 1200,
    batchSize: 16,
    schedule: schedule(4, 1e-3, { checkpointEvery: 2 }),
  },
  image: { ...MINI_TRAINING_PLAN.image, batchSize: 8, schedule: schedule(3, 1e-3) },
  k: {
    ...MINI_TRAINING_PLAN.k,
    batchSize: 8,
    freezeSteps: 1,
    schedule: schedule(4, 3e-4, { evalEvery: 2, weightDecay: 0 }),
  },
  clipSpace: {
    ...MINI_TRAINING_PLAN.clipSpace,
    clipBatchSize: 8,
    clip: schedule(3, 3e-4, { weightDecay: 0 }),
    studentBatchSize: 16,
    student: schedule(3, 5e-4, { weightDecay: 0 }),
  },
  sibPairs: 20,
};
