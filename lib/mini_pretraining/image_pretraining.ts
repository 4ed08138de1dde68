import { join } from "node:path";
import { tf } from "../backend/tf.ts";
import { crossEntropyRows } from "../losses/cross_entropy.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/sha256.ts";
import { KitError } from "../util/kit_error.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import { readEncoderConfig, type VitConfig } from "../encoders/encoder_config.ts";
import { loadSafetensorsWeights, saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { imagePixels } from "../encoders/image_pixels.ts";
import { isComplete, modelCacheDir } from "../model_cache/model_cache.ts";
import { moduleGrads } from "../resumable_training/module_grads.ts";
import {
  runResumableTraining,
  type TrainingSchedule,
} from "../resumable_training/resumable_trainer.ts";
import { readTrainingRecord, type TrainingRecord } from "../model_cache/training_record.ts";
import type { StampSample } from "./stamp_samples.ts";
import { writeModelManifest } from "../model_cache/model_manifest.ts";
import { withCacheLock } from "../util/cache_lock.ts";
import { modelFileReadOptions } from "../model_cache/model_file_policy.ts";

/** Sizes and optimisation of the image encoder's supervised pretraining. */
export interface ImagePretrainPlan {
  config: string;
  batchSize: number;
  schedule: TrainingSchedule;
}

/** A trained image encoder as stored in its cache folder. */
export interface TrainedImageEncoder {
  dir: string;
  model: VitEncoder;
  training: TrainingRecord;
}

/** Pixels of `samples` (normalised, `C×H×W` each) for a ViT config. */
export async function stampPixels(
  samples: readonly StampSample[],
  c: VitConfig,
): Promise<Float32Array> {
  return await imagePixels(samples.map((s) => s.png), c);
}

/** Copies image `i` of `pixels` into `out` at slot `j`, mirrored left–right when `flip`. */
export function copyImage(
  pixels: Float32Array,
  i: number,
  out: Float32Array,
  j: number,
  c: VitConfig,
  flip: boolean,
): void {
  const S = c.image_size, n = c.num_channels * S * S;
  const src = pixels.subarray(i * n, (i + 1) * n);
  if (!flip) {
    out.set(src, j * n);
    return;
  }
  for (let ch = 0; ch < c.num_channels; ch++) {
    for (let y = 0; y < S; y++) {
      const row = ch * S * S + y * S;
      for (let x = 0; x < S; x++) out[j * n + row + x] = src[row + S - 1 - x]!;
    }
  }
}

/** The images the ViT analog is pretrained on: the **train** partition only (the leakage tests check it). */
export function imagePretrainingSet(samples: readonly StampSample[]): StampSample[] {
  return samples.filter((s) => s.partition === "train");
}

/**
 * Pretrains the mini profile's ViT analog (standing in for ImageNet-21k supervised
 * pretraining) by classifying each **train** image's `category` — a stamp's category folder
 * (`animals/mammals`, `food/fruit`, …), an emoji's concept (its drawings share a class) — from its
 * mean-pooled embedding, with random left–right flips. Cached under
 * `cacheDir()/models/mini-vit-cls@<hash>` (`config.json`, `model.safetensors` in the
 * `ViTForImageClassification` layout, `labels.json`, `training.json`); resumable.
 */
export function pretrainImageEncoder(
  ...args: Parameters<typeof pretrainImageEncoderUnlocked>
): ReturnType<typeof pretrainImageEncoderUnlocked> {
  return withCacheLock("models", () => pretrainImageEncoderUnlocked(...args));
}

/** `pretrainImageEncoder` without the models cache lock (the caller holds it). */
async function pretrainImageEncoderUnlocked(
  samples: readonly StampSample[],
  plan: ImagePretrainPlan,
  opts: { quiet?: boolean; stopAfterSteps?: number; name?: string } = {},
): Promise<TrainedImageEncoder> {
  const name = opts.name ?? "mini-vit-cls";
  const train = imagePretrainingSet(samples);
  if (train.length === 0) throw new KitError("image pretraining: no train stamps");
  const labels = [...new Set(train.map((s) => s.category))].sort();
  const fingerprint = sha256Hex(train.map((s) => `${s.key}\t${s.category}`).join("\n"));
  const dir = modelCacheDir(name, plan, fingerprint);
  if (await isComplete(dir)) return await loadTrainedImageEncoder(dir);
  const t0 = performance.now();
  const config = await readEncoderConfig(plan.config) as VitConfig;
  await atomicWriteJson(join(dir, "config.json"), config);
  await atomicWriteJson(join(dir, "labels.json"), labels);
  const model = new VitEncoder(config, { seed: plan.schedule.seed, numLabels: labels.length });
  const pixels = await stampPixels(train, config);
  const y = train.map((s) => labels.indexOf(s.category));
  const per = config.num_channels * config.image_size ** 2;
  const patchLen = config.num_channels * config.patch_size ** 2;
  const outcome = await runResumableTraining({
    label: `pretrain ${name} (stamp categories)`,
    checkpointPath: join(dir, "checkpoint.safetensors"),
    fingerprint: `${fingerprint}|${JSON.stringify(plan)}`,
    schedule: plan.schedule,
    stopAfterSteps: opts.stopAfterSteps,
    quiet: opts.quiet,
    task: {
      modules: { image: model.params },
      step: async (_s, rng) => {
        const B = plan.batchSize;
        const batch = new Float32Array(B * per);
        const targets: number[] = [];
        for (let j = 0; j < B; j++) {
          const i = rng.int(train.length);
          copyImage(pixels, i, batch, j, config, rng.next() < 0.5);
          targets.push(y[i]!);
        }
        const patches = tf.tensor2d(model.patchify(batch, B), [B * model.numPatches, patchLen]);
        const r = await moduleGrads({ image: model.params }, [patches], ([p]) => {
          const pooled = model.meanPool(model.encode(p as tf.Tensor2D, B), B);
          return crossEntropyRows(model.classify(pooled), targets);
        });
        return { loss: r.loss, grads: { image: r.grads.image ?? {} } };
      },
    },
  });
  const training: TrainingRecord = {
    name,
    plan,
    data: { trainImages: train.length, categories: labels.length, fingerprint },
    lossHistory: outcome.lossHistory,
    valHistory: outcome.valHistory,
    bestStep: outcome.bestStep,
    bestValLoss: null,
    seconds: (performance.now() - t0) / 1000,
    parameters: model.params.count,
  };
  if (outcome.completed) {
    await saveSafetensorsWeights(model, join(dir, "model.safetensors"), {
      trained_by: "image-pivot-kit",
    });
    await atomicWriteJson(join(dir, "training.json"), training);
    await writeModelManifest(dir);
    await Deno.remove(join(dir, "checkpoint.safetensors")).catch(() => {});
  }
  return { dir, model, training };
}

/** Loads a finished image encoder folder. */
export async function loadTrainedImageEncoder(dir: string): Promise<TrainedImageEncoder> {
  const config = await readEncoderConfig(join(dir, "config.json")) as VitConfig;
  const labels = JSON.parse(await Deno.readTextFile(join(dir, "labels.json"))) as string[];
  const model = new VitEncoder(config, { numLabels: labels.length });
  await loadSafetensorsWeights(
    model,
    join(dir, "model.safetensors"),
    modelFileReadOptions(join(dir, "model.safetensors")),
  );
  return { dir, model, training: await readTrainingRecord(dir) };
}
