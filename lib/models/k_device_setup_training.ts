/**
 * K's fine-tuning loop with its state on the GPU (issue 24): the pieces `runKSetupTraining`
 * uses when given `deviceState` — one step's loss and gradients as device tensors (word table
 * gathered on the device, its gradient a dense scatter-add), and the device trainer. The
 * frozen warm-up gives the towers no gradient at all, so `DeviceAdam` leaves them untouched and
 * starts their moments and bias corrections when they thaw (torch.optim.Adam's semantics).
 */
import { tf } from "../backend/tf.ts";
import type { Dropout } from "../encoders/dropout.ts";
import type { ParameterSet } from "../encoders/parameter_set.ts";
import type { VitEncoder } from "../encoders/vit_encoder.ts";
import type { TokenBatch, XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import {
  type DeviceStepResult,
  type DeviceTrainingOptions,
  runDeviceResumableTraining,
} from "./device_resumable_trainer.ts";
import { deviceEmbeddingInput } from "./k_device_train_step.ts";
import type { TrainingOutcome } from "./resumable_trainer.ts";

/** One K step's inputs, prepared by the loop. */
export interface KDeviceStepInput {
  text: XlmRobertaEncoder;
  image: VitEncoder;
  /** The projections and the scale. */
  head: ParameterSet;
  /** Eng-Pivot: text only (no image tower, no pixels). */
  textOnly: boolean;
  images: number;
  tokens: TokenBatch;
  /** `images` preprocessed images (`C×S×S` each), or null for text-only setups. */
  pixels: Float32Array | null;
  /** Warm-up: towers frozen (no gradient), only the head learns. */
  frozen: boolean;
  dropout?: { text: Dropout; image: Dropout };
  /** The setup's loss from the pooled text (and image) embeddings. */
  loss: (pooledText: tf.Tensor2D, pooledImage: tf.Tensor2D | null) => tf.Scalar;
}

/** Loss and gradients (tensors, nothing read back) of one K step; see the module comment. */
export function kDeviceSetupStep(i: KDeviceStepInput): Promise<DeviceStepResult> {
  const { text, image, tokens } = i;
  const c = image.config;
  const patches = i.pixels
    ? tf.tensor2d(image.patchify(i.pixels, i.images), [
      i.images * image.numPatches,
      c.num_channels * c.patch_size * c.patch_size,
    ])
    : null;
  const trained: [string, ParameterSet][] = [];
  if (!i.frozen) {
    trained.push(["text", text.params]);
    if (!i.textOnly) trained.push(["image", image.params]);
  }
  trained.push(["head", i.head]);
  return Promise.resolve().then(() => {
    const owners: [string, string, tf.Variable][] = [];
    for (const [m, ps] of trained) {
      for (const n of ps.deviceNames) owners.push([m, n, ps.tensor(n) as tf.Variable]);
    }
    try {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const t = text.meanPool(
              tokens,
              text.encode(tokens, deviceEmbeddingInput(text, tokens), i.dropout?.text),
            );
            const p = patches
              ? image.meanPool(image.encode(patches, i.images, i.dropout?.image), i.images)
              : null;
            return i.loss(t, p);
          }),
        owners.map((o) => o[2]),
      );
      const out: Record<string, Record<string, tf.Tensor>> = {};
      for (const [m, n, v] of owners) {
        const g = grads[v.name];
        if (g) (out[m] ??= {})[n] = g;
      }
      return { loss: value, grads: out };
    } finally {
      patches?.dispose();
    }
  });
}

/** `runDeviceResumableTraining` over K's modules (text, image unless text-only, head). */
export async function runKSetupOnDevice(
  o: Omit<DeviceTrainingOptions, "task" | "selectStepZero"> & {
    modules: Record<string, ParameterSet>;
    step: DeviceTrainingOptions["task"]["step"];
    validate: () => Promise<number>;
  },
): Promise<TrainingOutcome> {
  const { modules, step, validate, ...rest } = o;
  return await runDeviceResumableTraining({
    ...rest,
    selectStepZero: false,
    task: { modules, step, validate },
  });
}
