/**
 * K's fine-tuning loop with its state on the GPU (issue 24): the pieces `runKSetupTraining`
 * uses when given `deviceState` — one step's loss (`kLoss`, the host path's) and gradients as
 * device tensors (word table gathered on the device, its gradient a dense scatter-add), and the
 * device trainer (K's validation cadence through its `validateAfter` hook). The
 * frozen warm-up gives the towers no gradient at all, so `DeviceAdam` leaves them untouched and
 * starts their moments and bias corrections when they thaw (torch.optim.Adam's semantics).
 */
import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import {
  type DeviceStepResult,
  type DeviceTrainingOptions,
  runDeviceResumableTraining,
} from "../resumable_training/device_resumable_trainer.ts";
import { deviceEmbeddingInput } from "./k_device_train_step.ts";
import {
  isImageCaptionBatch,
  type KDropout,
  kLoss,
  type KLossBatch,
  type KTowers,
  type KTrainable,
  kTrainableModules,
} from "./k_loss.ts";
import type { TrainingOutcome } from "../resumable_training/resumable_trainer.ts";
import type { ParameterSet } from "../encoders/parameter_set.ts";

/** One K step's inputs, prepared by the loop (as the host path's `kLossGrads`). */
export interface KDeviceStepInput {
  towers: KTowers;
  /** An image–caption batch (image setups) or a text–text pivot batch (Eng-Pivot). */
  batch: KLossBatch;
  /** The modules that train at this step (`"head"`: K's frozen warm-up). */
  trainable: KTrainable;
  /** Training-mode dropout at this step (absent: eval mode). */
  dropout?: KDropout;
}

/**
 * Loss (`kLoss`) and gradients of the modules of `trainable` (tensors, nothing read back) of
 * one K step; see the module comment. The frozen modules get no gradient (absent).
 */
export function kDeviceSetupStep(i: KDeviceStepInput): Promise<DeviceStepResult> {
  const { towers, batch } = i;
  const tokens = batch.tokens;
  if (isImageCaptionBatch(batch) && batch.captionImage.length !== tokens.batch) {
    throw new KitError(
      `K step: ${tokens.batch} captions but ${batch.captionImage.length} image indices`,
    );
  }
  if (!isImageCaptionBatch(batch) && i.trainable === "all") {
    throw new KitError("K step: a text–text pivot batch does not use the image tower");
  }
  const owners: [string, string, tf.Variable][] = [];
  for (const [m, ps] of Object.entries(kTrainableModules(towers, i.trainable))) {
    for (const n of ps.deviceNames) owners.push([m, n, ps.tensor(n) as tf.Variable]);
  }
  return Promise.resolve().then(() => {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.tidy(() =>
          kLoss(towers, batch, deviceEmbeddingInput(towers.text, tokens), i.dropout ?? {})
        ),
      owners.map((o) => o[2]),
    );
    const out: Record<string, Record<string, tf.Tensor>> = {};
    for (const [m, n, v] of owners) {
      const g = grads[v.name];
      if (g) (out[m] ??= {})[n] = g;
    }
    return { loss: value, grads: out };
  });
}

/** `runDeviceResumableTraining` over K's modules (text, image unless text-only, head). */
export async function runKSetupOnDevice(
  o: Omit<DeviceTrainingOptions, "task" | "selectStepZero"> & {
    modules: Record<string, ParameterSet>;
    step: DeviceTrainingOptions["task"]["step"];
    /** When validation runs (K's loop: `kLoopStep(stepsDone - 1).validateAfter`). */
    validateAfter?: (stepsDone: number) => boolean;
    validate: (stepsDone: number) => Promise<number>;
  },
): Promise<TrainingOutcome> {
  const { modules, step, validateAfter, validate, ...rest } = o;
  return await runDeviceResumableTraining({
    ...rest,
    selectStepZero: false,
    task: { modules, step, validateAfter, validate },
  });
}
