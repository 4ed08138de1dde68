import { join } from "node:path";
import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import type { ParameterSet } from "../encoders/parameter_set.ts";
import type { TokenBatch, XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { Dropout, type DropoutRates } from "../encoders/dropout.ts";
import type { VitEncoder } from "../encoders/vit_encoder.ts";
import type { TrainingRecord } from "../model_cache/training_record.ts";
import {
  runResumableTraining,
  type StepResult,
  type TrainingOutcome,
  type TrainingSchedule,
} from "../resumable_training/resumable_trainer.ts";
import {
  type KDropout,
  kLoss,
  type KLossBatch,
  kLossGrads,
  type KTowers,
  type KTrainable,
  kTrainableModules,
} from "./k_loss.ts";
import { kBatchesPerEpoch, type KEpochLoop, kLoopStep } from "./k_epoch_loop.ts";
import { kDeviceSetupStep, runKSetupOnDevice } from "./k_device_setup_training.ts";
import { deviceEmbeddingInput } from "./k_device_train_step.ts";
import {
  isTextOnlySetup,
  K_SETUP_LANGUAGES,
  kBatchTexts,
  type KItem,
  kStepItems,
  type KTrainedSetup,
  type KTrainingSet,
  kValidationBatches,
} from "./k_training_set.ts";

/** Sizes and optimisation of K's fine-tuning. */
export interface KFineTunePlan {
  projectionDim: number;
  /** Images per batch (K: 32). */
  batchSize: number;
  maxLength: number;
  /** Steps in which only the projections and scale train (K: the first half of epoch 0). */
  freezeSteps: number;
  schedule: TrainingSchedule;
}

/** What `runKSetupTraining` needs: the towers and head to train, and how to feed them. */
export interface KSetupTrainingInput {
  setup: KTrainedSetup;
  set: KTrainingSet;
  /** Towers and head, initialised (trained in place; the best validation state is restored). */
  text: XlmRobertaEncoder;
  image: VitEncoder;
  head: ParameterSet;
  /** Token ids of a batch of texts, padded with the text config's `pad_token_id`. */
  tokenize(texts: string[]): TokenBatch;
  /** Preprocessed pixels (`C×S×S` each, concatenated) of items of `set.train` or `set.val`. */
  pixels(items: readonly KItem[], part: "train" | "val"): Promise<Float32Array>;
  plan: KFineTunePlan;
  /** Where the checkpoint goes (`dir/checkpoint.safetensors`). */
  dir: string;
  fingerprint: string;
  quiet?: boolean;
  stopAfterSteps?: number;
  /** Learning rate of each step (default: the schedule's warm-up + linear decay). */
  lrAt?: (step: number) => number;
  /**
   * Training-mode dropout of the towers (K's paper plan: Hugging Face's, from each folder's
   * config); seeded per step, in frozen warm-up steps too (PyTorch's `train()` mode), never in
   * validation. Applied as K's loop leaves the mode (`kLoopStep().trainMode`: from each epoch's
   * start until its first validation) unless `dropoutThroughout`. Default none (the mini plan).
   * Callers put it in `fingerprint`.
   */
  dropout?: { text: DropoutRates; image: DropoutRates };
  /** Dropout at every training step (a switch; K's code: until each epoch's first validation). */
  dropoutThroughout?: boolean;
  /**
   * The text tower's word-embedding table, always with torch.optim.Adam's dense update unless
   * `"lazy"`: `"dense"` (default; the mini plan, whose gradient clipping needs every gradient) —
   * a dense `vocab × d` gradient; `"rows"` (the paper profile's 250k × 1024 table) — the gradient
   * kept as the rows a batch looked up, the update still dense (every row's moments decay;
   * `Adam.stepSparse`), no clipping; `"lazy"` — only the looked-up rows updated
   * (torch.optim.SparseAdam; a deviation, for speed).
   */
  wordTable?: "dense" | "rows" | "lazy";
  /**
   * WebGPU only (issue 24): train with the state on the device (`runDeviceResumableTraining`):
   * every parameter — the word table too, so the text tower must not keep it host-only — stays
   * on the GPU, the word table gathered there with a dense gradient and torch's dense Adam
   * (`wordTable` "dense" or "rows" alike; not "lazy"), per-parameter step counts; the same loss
   * (`kLoss`), loop (`kLoopStep`) and validation as the host path; losses read every
   * `readLossEvery` steps (default 1). Default: the host trainer.
   */
  deviceState?: { readLossEvery?: number };
  /** `performance.now()` when the caller started (for the record's seconds). */
  t0: number;
  /**
   * A validation after this many steps besides K's cadence (the rehearsal's step cap: its last
   * step, so the validation's cost is measured). Callers put it in `fingerprint`.
   */
  validateAfterStep?: number;
  /** Filled with when each step and validation of this call ran (the rehearsal's timings). */
  timing?: KLoopTiming;
}

/** When the steps and validations of one `runKSetupTraining` call ran (`performance.now()`). */
export interface KLoopTiming {
  /** Each step's start (the call of its batch), in the order run, with its global index. */
  steps: { step: number; t: number }[];
  /** Each validation's start and end. */
  validations: { t0: number; t1: number }[];
}

/**
 * One K setup's fine-tuning loop (mini and paper profiles alike; see {@link trainKSetup}):
 * per-step losses and gradients, the frozen warm-up, validation, resumable checkpoints; returns
 * the training record and whether the run completed.
 */
export async function runKSetupTraining(
  o: KSetupTrainingInput,
): Promise<{ record: TrainingRecord; completed: boolean }> {
  const { setup, set, text, image, head, plan } = o;
  const langs = K_SETUP_LANGUAGES[setup];
  const textOnly = isTextOnlySetup(setup);
  const trainItems = set.train, valItems = set.val;
  const B = plan.batchSize;
  const towers: KTowers = { text, image, head };
  const loop: KEpochLoop = {
    batchesPerEpoch: kBatchesPerEpoch(trainItems.length, B),
    freezeSteps: plan.freezeSteps,
    validateEvery: plan.schedule.evalEvery,
    dropoutThroughout: o.dropoutThroughout ?? false,
  };
  const wordName = `${text.prefix}embeddings.word_embeddings.weight`;
  const wordTable = o.wordTable ?? "dense";

  /** K's loss batch of `items`: image–caption (image setups) or text–text pivot (Eng-Pivot). */
  const lossBatch = async (items: readonly KItem[], part: "train" | "val"): Promise<KLossBatch> => {
    const bt = kBatchTexts(setup, items);
    const tokens = o.tokenize(bt.texts);
    if (textOnly) return { tokens, nEnglish: bt.nEnglish, enIdx: bt.enIdx };
    const pixels = await o.pixels(items, part);
    return { tokens, pixels, images: items.length, captionImage: bt.imageIdx };
  };

  /** The summed embeddings of `tokens`: gathered on the host, or on the device (`deviceState`). */
  const embedInput = (tokens: TokenBatch): tf.Tensor2D =>
    o.deviceState
      ? deviceEmbeddingInput(text, tokens)
      : tf.tensor2d(text.embeddingInput(tokens), [tokens.batch * tokens.length, text.dim]);
  /** What K's loop trains at `step`: the modules (towers frozen or not) and the dropout. */
  const stepPlan = (step: number): { trainable: KTrainable; dropout: KDropout } => {
    const at = kLoopStep(step, loop);
    // the frozen warm-up trains the head only; the towers' parameters get no gradient, so
    // their Adam state starts when they thaw (torch: requires_grad = False)
    const trainable: KTrainable = at.towersFrozen ? "head" : textOnly ? "text+head" : "all";
    const dSeed = (plan.schedule.seed * 1_000_003 + step) * 2;
    const dropout = o.dropout && at.trainMode
      ? {
        text: new Dropout(o.dropout.text, dSeed),
        image: new Dropout(o.dropout.image, dSeed + 1),
      }
      : {};
    return { trainable, dropout };
  };
  const trainBatch = (step: number) => {
    o.timing?.steps.push({ step, t: performance.now() });
    return lossBatch(kStepItems(trainItems, B, plan.schedule.seed, step), "train");
  };
  // after within-epoch batch k·evalEvery (k ≥ 1) only: not before training, not at the end
  // (and after `validateAfterStep`, the rehearsal's cap)
  const validateAfter = (stepsDone: number) =>
    kLoopStep(stepsDone - 1, loop).validateAfter || stepsDone === o.validateAfterStep;
  // eval mode (no dropout); the plain mean of the per-batch losses of a seeded shuffle
  const validate = async (stepsDone: number) => {
    const t0 = performance.now();
    const v = await validateLoss(stepsDone);
    o.timing?.validations.push({ t0, t1: performance.now() });
    return v;
  };
  const validateLoss = async (stepsDone: number) => {
    const batches = kValidationBatches(valItems, B, plan.schedule.seed * 7907 + stepsDone);
    let total = 0;
    for (const items of batches) {
      const batch = await lossBatch(items, "val");
      const l = tf.tidy(() => kLoss(towers, batch, embedInput(batch.tokens)));
      total += (await l.data())[0]!;
      l.dispose();
    }
    return batches.length > 0 ? total / batches.length : 0;
  };
  // Eng-Pivot never touches the image tower: it is not among the trained modules
  const modules = kTrainableModules(towers, textOnly ? "text+head" : "all");

  // ── issue 24: device-resident training on WebGPU (k_device_setup_training.ts) ──
  if (o.deviceState) {
    if (wordTable === "lazy") {
      throw new KitError(
        `K ${setup}: deviceState updates the word table with dense Adam (wordTable "lazy" is host-only)`,
      );
    }
    const outcome = await runKSetupOnDevice({
      label: `fine-tune K ${setup}`,
      checkpointPath: join(o.dir, "checkpoint.safetensors"),
      fingerprint: `${o.fingerprint}|${JSON.stringify(plan)}|${JSON.stringify(loop)}|device`,
      schedule: plan.schedule,
      stopAfterSteps: o.stopAfterSteps,
      quiet: o.quiet,
      lrAt: o.lrAt,
      readLossEvery: o.deviceState.readLossEvery,
      modules,
      step: async (step) => {
        const batch = await trainBatch(step);
        return kDeviceSetupStep({ towers, batch, ...stepPlan(step) });
      },
      validateAfter,
      validate,
    });
    return { record: kTrainingRecord(outcome), completed: outcome.completed };
  }
  // ── end issue 24 ──

  const outcome = await runResumableTraining({
    label: `fine-tune K ${setup}`,
    checkpointPath: join(o.dir, "checkpoint.safetensors"),
    fingerprint: `${o.fingerprint}|${JSON.stringify(plan)}|${JSON.stringify(loop)}|${wordTable}`,
    schedule: plan.schedule,
    stopAfterSteps: o.stopAfterSteps,
    quiet: o.quiet,
    selectStepZero: false,
    lrAt: o.lrAt,
    sparseRowUpdate: wordTable === "lazy" ? "lazy" : "dense",
    task: {
      modules,
      step: async (step): Promise<StepResult> => {
        const batch = await trainBatch(step);
        const { trainable, dropout } = stepPlan(step);
        const r = await kLossGrads(towers, batch, trainable, {
          dropout,
          wordGrad: wordTable === "dense" ? "dense" : "sparse",
        });
        return {
          loss: r.loss,
          grads: r.grads,
          sparse: r.wordRows ? { text: { [wordName]: r.wordRows } } : undefined,
        };
      },
      validateAfter,
      validate,
    },
  });
  return { record: kTrainingRecord(outcome), completed: outcome.completed };

  /** The training record of this setup's run. */
  function kTrainingRecord(outcome: TrainingOutcome): TrainingRecord {
    return {
      name: `k-${setup}`,
      plan,
      data: {
        setup,
        objective: textOnly
          ? "text only: es/ja/hi caption → batch's English captions, cross-entropy (no image term)"
          : "text → image cross-entropy, one language per caption record",
        imageLanguages: langs.image,
        pivotLanguages: langs.pivot,
        trainImages: set.trainKeys.length,
        valImages: set.valKeys.length,
        captionsPerLang: set.captionsPerLang,
        languageAssignment: set.assignment === null ? null : {
          seed: set.assignmentSeed,
          note: "each training record's one language, fixed for all epochs (record id → language)",
          records: set.assignment,
        },
        imageTowerTrained: !textOnly,
        loop: {
          batchesPerEpoch: loop.batchesPerEpoch,
          lastBatch: trainItems.length - (loop.batchesPerEpoch - 1) * B,
          validateEvery: loop.validateEvery,
          dropout: o.dropout
            ? (loop.dropoutThroughout
              ? "at every training step (switch on)"
              : "train() mode from each epoch's start until its first validation (K's loop)")
            : "none",
          adam: "per-parameter state (torch.optim.Adam): the towers' moments start when they thaw",
        },
        fingerprint: o.fingerprint,
      },
      lossHistory: outcome.lossHistory,
      valHistory: outcome.valHistory,
      bestStep: outcome.bestStep,
      bestValLoss: Number.isFinite(outcome.bestValLoss) ? outcome.bestValLoss : null,
      seconds: (performance.now() - o.t0) / 1000,
      parameters: text.params.count + (textOnly ? 0 : image.params.count) + head.count,
    };
  }
}
