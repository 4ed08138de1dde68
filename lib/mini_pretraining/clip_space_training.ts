import { basename, join } from "node:path";
import { tf } from "../backend/tf.ts";
import { symmetricInfoNce } from "../losses/symmetric_info_nce.ts";
import { dataRegistry } from "../data/registry.ts";
import { loadSib200 } from "../sources/sib200.ts";
import { D_LANGUAGES } from "../sources/wit.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { sha256Hex } from "../util/sha256.ts";
import { ParameterSet, type ParameterSpec } from "../encoders/parameter_set.ts";
import { linear } from "../encoders/transformer_ops.ts";
import { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import { loadSafetensorsWeights, saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { SubwordTokenizer } from "../encoders/subword_tokenizer.ts";
import { isComplete, modelCacheDir } from "../model_cache/model_cache.ts";
import { moduleGrads } from "../resumable_training/module_grads.ts";
import {
  runResumableTraining,
  type TrainingSchedule,
} from "../resumable_training/resumable_trainer.ts";
import type { TrainedTextEncoder } from "./masked_lm_pretraining.ts";
import { readTrainingRecord, type TrainingRecord } from "../model_cache/training_record.ts";
import { stampPixels, type TrainedImageEncoder } from "./image_pretraining.ts";
import {
  readParameterSetInto,
  writeParameterSet,
} from "../resumable_training/parameter_set_file.ts";
import { LengthWindowBatches } from "./length_window_batches.ts";
import type { StampSample } from "./stamp_samples.ts";
import { writeModelManifest } from "../model_cache/model_manifest.ts";
import { withCacheLock } from "../util/cache_lock.ts";
import { modelFileReadOptions } from "../model_cache/model_file_policy.ts";

/** SIB-200 (FLORES) codes of D's languages. */
export const D_SIB_CODES: Readonly<Record<(typeof D_LANGUAGES)[number], string>> = {
  ar: "arb_Arab",
  de: "deu_Latn",
  en: "eng_Latn",
  es: "spa_Latn",
  fr: "fra_Latn",
  it: "ita_Latn",
  ja: "jpn_Jpan",
  pt: "por_Latn",
  zh: "zho_Hans",
};

/** Sizes and optimisation of the mini CLIP and of its multilingual student. */
export interface ClipSpacePlan {
  projectionDim: number;
  maxLength: number;
  /** Mini CLIP: image–English caption pairs per batch. */
  clipBatchSize: number;
  clipTemperature: number;
  clip: TrainingSchedule;
  /** Student: parallel pairs per batch. */
  studentBatchSize: number;
  student: TrainingSchedule;
}

/** The frozen CLIP-space pair of the mini profile. */
export interface ClipSpaceModels {
  clipDir: string;
  studentDir: string;
  image: VitEncoder;
  visualProjection: ParameterSet;
  student: XlmRobertaEncoder;
  dense: ParameterSet;
  tokenizer: SubwordTokenizer;
  maxLength: number;
  clipTraining: TrainingRecord;
  studentTraining: TrainingRecord;
  dispose(): void;
}

/** A parallel pair for distillation: a sentence and its English translation. */
export interface ParallelPair {
  source: string;
  english: string;
  lang: string;
  origin: string;
}

function l2(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12)) as tf.Tensor2D;
}

function pick(
  values: Record<string, Float32Array>,
  names: readonly string[],
): Record<string, Float32Array> {
  return Object.fromEntries(names.map((n) => [n, values[n]!]));
}

/**
 * Distillation pairs: train-image captions (stamps; emoji CLDR names, once per concept) in D's
 * nine languages with the image's English caption,
 * and SIB-200 **train + dev** sentences of the nine languages with their English sentence
 * (English–English pairs included, as Reimers & Gurevych's multilingual distillation does).
 */
export async function distillationPairs(
  samples: readonly StampSample[],
  opts: { sibLimit?: number } = {},
): Promise<ParallelPair[]> {
  const pairs: ParallelPair[] = [];
  const seen = new Set<string>();
  for (const s of samples) {
    if (s.partition !== "train" || !s.captions.en) continue;
    // one image per concept: an emoji's drawings share their names (no repeated pairs)
    if (seen.has(s.concept)) continue;
    seen.add(s.concept);
    for (const l of D_LANGUAGES) {
      const c = s.captions[l];
      if (c) pairs.push({ source: c, english: s.captions.en, lang: l, origin: `stamp:${s.key}` });
    }
  }
  const sib = await loadSib200((await dataRegistry().resolve("sib200")).root, {
    splits: ["train", "dev"],
    languages: D_LANGUAGES.map((l) => D_SIB_CODES[l]),
  });
  const n = Math.min(sib.ids.length, opts.sibLimit ?? Infinity);
  for (let i = 0; i < n; i++) {
    const en = sib.sentences.eng_Latn![i]!;
    for (const l of D_LANGUAGES) {
      pairs.push({
        source: sib.sentences[D_SIB_CODES[l]]![i]!,
        english: en,
        lang: l,
        origin: `sib200-${sib.labels.split[i]}:${sib.ids[i]}`,
      });
    }
  }
  return pairs;
}

/** The mini CLIP's training images: **train** partition with an English caption (the leakage tests check it). */
export function clipTrainingImages(samples: readonly StampSample[]): StampSample[] {
  return samples.filter((s) => s.partition === "train" && s.captions.en);
}

/**
 * The mini profile's stand-in for paper D's frozen encoders (OpenCLIP ViT-B-32 images +
 * `clip-ViT-B-32-multilingual-v1` text), made the way those were made:
 * 1. a mini CLIP — the pretrained ViT analog and an English text tower (initialised from the
 *    masked-LM encoder), with `visual_projection` / `text_projection`, trained by symmetric
 *    InfoNCE (τ fixed) on **train** stamps and their English captions;
 * 2. a multilingual student — the masked-LM encoder + a bias-free `Dense` layer — trained by
 *    mean-squared error to map a sentence in any of D's nine languages onto the frozen CLIP
 *    text embedding of its English translation (train-stamp captions + SIB-200 train/dev).
 * No val/test stamp is used (D's cross-validation runs on those). Cached and resumable.
 */
export function trainClipSpacePair(
  ...args: Parameters<typeof trainClipSpacePairUnlocked>
): ReturnType<typeof trainClipSpacePairUnlocked> {
  return withCacheLock("models", () => trainClipSpacePairUnlocked(...args));
}

/** `trainClipSpacePair` without the models cache lock (the caller holds it). */
async function trainClipSpacePairUnlocked(opts: {
  samples: readonly StampSample[];
  textBase: TrainedTextEncoder;
  imageBase: TrainedImageEncoder;
  plan: ClipSpacePlan;
  sibLimit?: number;
  quiet?: boolean;
}): Promise<ClipSpaceModels> {
  const { plan } = opts;
  const train = clipTrainingImages(opts.samples);
  if (train.length < plan.clipBatchSize) {
    throw new KitError("mini CLIP: too few train stamps with English captions");
  }
  const tok = opts.textBase.tokenizer;
  const P = plan.projectionDim;

  // ---- 1. mini CLIP
  const clipFp = sha256Hex(JSON.stringify({
    train: train.map((s) => [s.key, s.captions.en]),
    // base models by cache-folder name (name@hash), never by path: the cache key must not
    // depend on where the project or its cache lives
    text: basename(opts.textBase.dir),
    image: basename(opts.imageBase.dir),
  }));
  const clipPlan = {
    projectionDim: P,
    maxLength: plan.maxLength,
    batch: plan.clipBatchSize,
    temperature: plan.clipTemperature,
    schedule: plan.clip,
  };
  const clipDir = modelCacheDir("mini-clip", clipPlan, clipFp);
  const image = new VitEncoder(opts.imageBase.model.config);
  const clipText = new XlmRobertaEncoder(opts.textBase.model.config);
  const projSpecs: ParameterSpec[] = [
    {
      name: "visual_projection.weight",
      shape: [P, image.dim],
      init: { kind: "normal", std: 1 / Math.sqrt(image.dim) },
    },
    {
      name: "text_projection.weight",
      shape: [P, clipText.dim],
      init: { kind: "normal", std: 1 / Math.sqrt(clipText.dim) },
    },
  ];
  const proj = new ParameterSet(projSpecs, plan.clip.seed);
  let clipTraining: TrainingRecord;
  const t0 = performance.now();
  if (await isComplete(clipDir)) {
    await loadSafetensorsWeights(
      image,
      join(clipDir, "image_encoder.safetensors"),
      modelFileReadOptions(join(clipDir, "image_encoder.safetensors")),
    );
    await loadSafetensorsWeights(
      clipText,
      join(clipDir, "text_encoder.safetensors"),
      modelFileReadOptions(join(clipDir, "text_encoder.safetensors")),
    );
    await readParameterSetInto(
      proj,
      join(clipDir, "projection.safetensors"),
      modelFileReadOptions(join(clipDir, "projection.safetensors")),
    );
    clipTraining = await readTrainingRecord(clipDir);
  } else {
    image.params.setState(pick(opts.imageBase.model.params.values, image.params.names));
    clipText.params.setState(pick(opts.textBase.model.params.values, clipText.params.names));
    const px = await stampPixels(train, image.config);
    const per = image.config.num_channels * image.config.image_size ** 2;
    const patchLen = image.config.num_channels * image.config.patch_size ** 2;
    const B = plan.clipBatchSize;
    const perEpoch = Math.floor(train.length / B);
    const outcome = await runResumableTraining({
      label: "train mini CLIP (train stamps, English)",
      checkpointPath: join(clipDir, "checkpoint.safetensors"),
      fingerprint: `${clipFp}|${JSON.stringify(clipPlan)}`,
      schedule: plan.clip,
      quiet: opts.quiet,
      task: {
        modules: { text: clipText.params, image: image.params, proj },
        step: async (step) => {
          const epoch = Math.floor(step / perEpoch);
          const perm = new SeededRandom(plan.clip.seed * 104729 + epoch).shuffle(
            Array.from({ length: train.length }, (_, i) => i),
          );
          const idx = perm.slice((step % perEpoch) * B, (step % perEpoch) * B + B);
          const tb = tok.batch(idx.map((i) => train[i]!.captions.en!), plan.maxLength);
          const batchPx = new Float32Array(B * per);
          idx.forEach((i, j) => batchPx.set(px.subarray(i * per, (i + 1) * per), j * per));
          const x0 = tf.tensor2d(clipText.embeddingInput(tb), [tb.batch * tb.length, clipText.dim]);
          const patches = tf.tensor2d(image.patchify(batchPx, B), [B * image.numPatches, patchLen]);
          const r = await moduleGrads({ text: clipText.params, image: image.params, proj }, [
            x0,
            patches,
          ], ([x, p]) => {
            const T = l2(
              linear(
                clipText.meanPool(tb, clipText.encode(tb, x as tf.Tensor2D)),
                proj.tensor("text_projection.weight"),
                null,
              ),
            );
            const I = l2(
              linear(
                image.meanPool(image.encode(p as tf.Tensor2D, B), B),
                proj.tensor("visual_projection.weight"),
                null,
              ),
            );
            return symmetricInfoNce(T, I, plan.clipTemperature);
          });
          const tg = r.grads.text ?? {};
          clipText.embeddingGrad(tb, r.inputGrads[0]!, tg);
          return {
            loss: r.loss,
            grads: { text: tg, image: r.grads.image ?? {}, proj: r.grads.proj ?? {} },
          };
        },
      },
    });
    clipTraining = {
      name: "mini-clip",
      plan: clipPlan,
      data: {
        trainImages: train.length,
        captions: "English captions of train stamps",
        fingerprint: clipFp,
      },
      lossHistory: outcome.lossHistory,
      valHistory: outcome.valHistory,
      bestStep: outcome.bestStep,
      bestValLoss: null,
      seconds: (performance.now() - t0) / 1000,
      parameters: image.params.count + clipText.params.count + proj.count,
    };
    await atomicWriteJson(join(clipDir, "image_config.json"), image.config);
    await atomicWriteJson(join(clipDir, "text_config.json"), clipText.config);
    await atomicWriteJson(join(clipDir, "tokenizer.json"), tok.toJSON());
    await saveSafetensorsWeights(image, join(clipDir, "image_encoder.safetensors"));
    await saveSafetensorsWeights(clipText, join(clipDir, "text_encoder.safetensors"));
    await writeParameterSet(proj, join(clipDir, "projection.safetensors"));
    await atomicWriteJson(join(clipDir, "training.json"), clipTraining);
    await writeModelManifest(clipDir);
    await Deno.remove(join(clipDir, "checkpoint.safetensors")).catch(() => {});
  }

  // ---- 2. multilingual student distilled onto the CLIP text embeddings
  const pairs = await distillationPairs(opts.samples, { sibLimit: opts.sibLimit });
  const studentFp = sha256Hex(
    JSON.stringify({ pairs: pairs.map((p) => [p.source, p.english]), clip: basename(clipDir) }),
  );
  const studentPlan = {
    projectionDim: P,
    maxLength: plan.maxLength,
    batch: plan.studentBatchSize,
    schedule: plan.student,
  };
  const studentDir = modelCacheDir("mini-clip-multilingual-student", studentPlan, studentFp);
  const student = new XlmRobertaEncoder(opts.textBase.model.config);
  const dense = new ParameterSet([
    {
      name: "linear.weight",
      shape: [P, student.dim],
      init: { kind: "normal", std: 1 / Math.sqrt(student.dim) },
    },
  ], plan.student.seed);
  let studentTraining: TrainingRecord;
  const t1 = performance.now();
  if (await isComplete(studentDir)) {
    await loadSafetensorsWeights(
      student,
      join(studentDir, "model.safetensors"),
      modelFileReadOptions(join(studentDir, "model.safetensors")),
    );
    await readParameterSetInto(
      dense,
      join(studentDir, "dense.safetensors"),
      modelFileReadOptions(join(studentDir, "dense.safetensors")),
    );
    studentTraining = await readTrainingRecord(studentDir);
  } else {
    student.params.setState(pick(opts.textBase.model.params.values, student.params.names));
    // teacher targets: the frozen mini CLIP text embedding of every distinct English sentence
    const english = [...new Set(pairs.map((p) => p.english))];
    const target = new Map<string, Float32Array>();
    for (let i = 0; i < english.length; i += 128) {
      const chunk = english.slice(i, i + 128);
      const tb = tok.batch(chunk, plan.maxLength);
      const t = tf.tidy(() =>
        linear(clipText.embed(tb), proj.tensor("text_projection.weight"), null)
      );
      const data = (await t.data()) as Float32Array;
      t.dispose();
      chunk.forEach((s, j) => target.set(s, data.slice(j * P, (j + 1) * P)));
    }
    const B = plan.studentBatchSize;
    const windows = new LengthWindowBatches(
      pairs.map((p) => tok.encode(p.source, plan.maxLength).length),
      B,
    );
    const outcome = await runResumableTraining({
      label: "distil multilingual student onto mini CLIP text",
      checkpointPath: join(studentDir, "checkpoint.safetensors"),
      fingerprint: `${studentFp}|${JSON.stringify(studentPlan)}`,
      schedule: plan.student,
      quiet: opts.quiet,
      task: {
        modules: { student: student.params, dense },
        step: async (_s, rng) => {
          const batch = Array.from(windows.next(rng), (i) => pairs[i]!);
          const tb = tok.batch(batch.map((p) => p.source), plan.maxLength);
          const y = new Float32Array(B * P);
          batch.forEach((p, j) => y.set(target.get(p.english)!, j * P));
          const x0 = tf.tensor2d(student.embeddingInput(tb), [tb.batch * tb.length, student.dim]);
          const yt = tf.tensor2d(y, [B, P]);
          const r = await moduleGrads({ student: student.params, dense }, [x0], ([x]) => {
            const out = linear(
              student.meanPool(tb, student.encode(tb, x as tf.Tensor2D)),
              dense.tensor("linear.weight"),
              null,
            );
            return tf.mean(tf.square(tf.sub(out, yt))) as tf.Scalar;
          });
          yt.dispose();
          const sg = r.grads.student ?? {};
          student.embeddingGrad(tb, r.inputGrads[0]!, sg);
          return { loss: r.loss, grads: { student: sg, dense: r.grads.dense ?? {} } };
        },
      },
    });
    const byOrigin: Record<string, number> = {};
    for (const p of pairs) {
      const k = p.origin.split(":")[0]!;
      byOrigin[k] = (byOrigin[k] ?? 0) + 1;
    }
    studentTraining = {
      name: "mini-clip-multilingual-student",
      plan: studentPlan,
      data: {
        pairs: pairs.length,
        pairsBySource: byOrigin,
        languages: [...D_LANGUAGES],
        fingerprint: studentFp,
      },
      lossHistory: outcome.lossHistory,
      valHistory: outcome.valHistory,
      bestStep: outcome.bestStep,
      bestValLoss: null,
      seconds: (performance.now() - t1) / 1000,
      parameters: student.params.count + dense.count,
    };
    await atomicWriteJson(join(studentDir, "config.json"), student.config);
    await atomicWriteJson(join(studentDir, "tokenizer.json"), tok.toJSON());
    await saveSafetensorsWeights(student, join(studentDir, "model.safetensors"));
    await writeParameterSet(dense, join(studentDir, "dense.safetensors"));
    await atomicWriteJson(join(studentDir, "training.json"), studentTraining);
    await writeModelManifest(studentDir);
    await Deno.remove(join(studentDir, "checkpoint.safetensors")).catch(() => {});
  }
  clipText.dispose();
  const visualProjection = new ParameterSet([projSpecs[0]!], 0);
  visualProjection.setState({
    "visual_projection.weight": proj.values["visual_projection.weight"]!,
  });
  proj.dispose();
  return {
    clipDir,
    studentDir,
    image,
    visualProjection,
    student,
    dense,
    tokenizer: tok,
    maxLength: plan.maxLength,
    clipTraining,
    studentTraining,
    dispose: () => [image, visualProjection, student, dense].forEach((m) => m.dispose()),
  };
}
