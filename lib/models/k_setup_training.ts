import { basename, join } from "node:path";
import { tf } from "../backend/tf.ts";
import { textToImageCrossEntropy } from "../losses/text_to_image_cross_entropy.ts";
import { pivotTextCrossEntropy } from "../losses/pivot_text_cross_entropy.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { sha256Hex } from "../util/sha256.ts";
import { readSafetensors, type SafeTensorInput, writeSafetensors } from "../io/safetensors.ts";
import type { KSetupId } from "../encoders/encoder.ts";
import { ParameterSet, type ParameterSpec } from "../encoders/parameter_set.ts";
import { linear } from "../encoders/transformer_ops.ts";
import { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import {
  readEncoderConfig,
  type VitConfig,
  type XlmRobertaConfig,
} from "../encoders/encoder_config.ts";
import { loadSafetensorsWeights, saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { SubwordTokenizer } from "../encoders/subword_tokenizer.ts";
import { isComplete, modelCacheDir } from "./model_cache.ts";
import { moduleGrads } from "./module_grads.ts";
import {
  runResumableTraining,
  type StepResult,
  type TrainingSchedule,
} from "./resumable_trainer.ts";
import {
  readTrainingRecord,
  type TrainedTextEncoder,
  type TrainingRecord,
} from "./masked_lm_pretraining.ts";
import { stampPixels, type TrainedImageEncoder } from "./image_pretraining.ts";
import type { KCaptionLang, KCaptionRecord } from "./k_caption_records.ts";
import type { StampSample } from "./stamp_samples.ts";

/** K's setups that are trained (all but the untuned `xlmr`). */
export type KTrainedSetup = Exclude<KSetupId, "xlmr">;
export const K_TRAINED_SETUPS: readonly KTrainedSetup[] = [
  "eng-only",
  "eng-pivot",
  "multilingual",
  "multilingual-qu",
];

/** Which captions each setup trains on: image–caption languages, and Eng-Pivot's parallel languages. */
export const K_SETUP_LANGUAGES: Readonly<
  Record<KTrainedSetup, { image: KCaptionLang[]; pivot: KCaptionLang[] }>
> = {
  "eng-only": { image: ["en"], pivot: [] },
  "eng-pivot": { image: ["en"], pivot: ["es", "ja", "hi"] },
  "multilingual": { image: ["en", "es", "ja", "hi"], pivot: [] },
  "multilingual-qu": { image: ["en", "es", "ja", "hi", "qu"], pivot: [] },
};

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

/** The parameters of K's projections and learned scale. */
export function kHeadSpecs(textDim: number, imageDim: number, p: number): ParameterSpec[] {
  const s = { kind: "normal", std: 1 / Math.sqrt(textDim) } as const;
  const si = { kind: "normal", std: 1 / Math.sqrt(imageDim) } as const;
  return [
    { name: "text_projection.weight", shape: [p, textDim], init: s },
    { name: "text_projection.bias", shape: [p], init: { kind: "zeros" } },
    { name: "image_projection.weight", shape: [p, imageDim], init: si },
    { name: "image_projection.bias", shape: [p], init: { kind: "zeros" } },
    { name: "logit_scale", shape: [], init: { kind: "ones" } },
  ];
}

/** A trained K setup: both towers, projections, scale and the tokenizer. */
export interface KSetupModel {
  setup: KTrainedSetup;
  dir: string;
  text: XlmRobertaEncoder;
  image: VitEncoder;
  head: ParameterSet;
  tokenizer: SubwordTokenizer;
  maxLength: number;
  training: TrainingRecord;
  dispose(): void;
}

/** One image's captions for a setup, with the image's row in the pixel array. */
interface Item {
  row: number;
  record: KCaptionRecord;
}

/** The caption of `item` used at epoch `epoch`: languages rotated, missing ones skipped. */
export function rotatedCaption(
  rec: KCaptionRecord,
  langs: readonly KCaptionLang[],
  index: number,
  epoch: number,
): string | null {
  for (let k = 0; k < langs.length; k++) {
    const l = langs[(index + epoch + k) % langs.length]!;
    const c = rec.captions[l];
    if (c) return c;
  }
  return null;
}

/** The training set a setup actually uses (for the notebook's table and the leakage tests). */
export interface KTrainingSet {
  /** Dataset keys of the training images (all in the train partition). */
  trainKeys: string[];
  valKeys: string[];
  /** Captions available per language among the training images. */
  captionsPerLang: Partial<Record<KCaptionLang, number>>;
}

/** The train/val items of a setup: images that have a caption in one of its image languages. */
export function kTrainingSet(
  records: readonly KCaptionRecord[],
  setup: KTrainedSetup,
): KTrainingSet {
  const langs = K_SETUP_LANGUAGES[setup];
  const usable = (r: KCaptionRecord) =>
    langs.image.some((l) => r.captions[l]) && (langs.pivot.length === 0 || r.captions.en);
  const train = records.filter((r) => r.partition === "train" && usable(r));
  const val = records.filter((r) => r.partition === "val" && usable(r));
  const captionsPerLang: Partial<Record<KCaptionLang, number>> = {};
  for (const r of train) {
    for (const l of [...langs.image, ...langs.pivot]) {
      if (r.captions[l]) captionsPerLang[l] = (captionsPerLang[l] ?? 0) + 1;
    }
  }
  return {
    trainKeys: train.map((r) => r.image_id),
    valKeys: val.map((r) => r.image_id),
    captionsPerLang,
  };
}

/**
 * Fine-tunes one of K's setups from the pretrained mini towers (SPEC §1): text embedding =
 * mean-pooled XLM-R analog → `text_projection`, image embedding = mean-pooled ViT analog →
 * `image_projection`, logits `T·Iᵀ·s` with a learned scale `s` (initialised to 1, no
 * normalisation), cross-entropy text → image only; Eng-Pivot adds the text–text cross-entropy of
 * each es/ja/hi caption against the batch's English captions (weight 1). Multilingual setups
 * rotate each image's caption language by epoch. Both towers are fine-tuned after
 * `freezeSteps` head-only steps; the checkpoint with the lowest validation loss (val stamps)
 * is kept. Training images: **train** partition only. Cached and resumable.
 */
export async function trainKSetup(opts: {
  setup: KTrainedSetup;
  records: readonly KCaptionRecord[];
  samples: readonly StampSample[];
  textBase: TrainedTextEncoder;
  imageBase: TrainedImageEncoder;
  plan: KFineTunePlan;
  quiet?: boolean;
  stopAfterSteps?: number;
}): Promise<KSetupModel> {
  const { setup, plan } = opts;
  const langs = K_SETUP_LANGUAGES[setup];
  const set = kTrainingSet(opts.records, setup);
  if (set.trainKeys.length < plan.batchSize) {
    throw new KitError(
      `K ${setup}: ${set.trainKeys.length} training images, fewer than a batch of ${plan.batchSize}`,
    );
  }
  const byKey = new Map(opts.records.map((r) => [r.image_id, r]));
  const sampleByKey = new Map(opts.samples.map((s) => [s.key, s]));
  const fingerprint = sha256Hex(JSON.stringify({
    setup,
    langs,
    train: set.trainKeys.map((k) => byKey.get(k)!.captions),
    val: set.valKeys.map((k) => byKey.get(k)!.captions),
    // base models by cache-folder name (name@hash), never by path (location-independent key)
    text: basename(opts.textBase.dir),
    image: basename(opts.imageBase.dir),
  }));
  const dir = modelCacheDir(`k-${setup}`, plan, fingerprint);
  if (await isComplete(dir)) return await loadKSetupModel(dir, setup, plan.maxLength);

  const t0 = performance.now();
  const text = new XlmRobertaEncoder(opts.textBase.model.config);
  text.params.setState(pick(opts.textBase.model.params.values, text.params.names));
  const image = new VitEncoder(opts.imageBase.model.config);
  image.params.setState(pick(opts.imageBase.model.params.values, image.params.names));
  const head = new ParameterSet(
    kHeadSpecs(text.dim, image.dim, plan.projectionDim),
    plan.schedule.seed,
  );
  const tok = opts.textBase.tokenizer;
  const trainItems: Item[] = set.trainKeys.map((k, row) => ({ row, record: byKey.get(k)! }));
  const valItems: Item[] = set.valKeys.map((k, row) => ({ row, record: byKey.get(k)! }));
  const stampOf = (k: string) => {
    const s = sampleByKey.get(k);
    if (!s) throw new KitError(`K ${setup}: caption record ${k} has no image in the mini dataset`);
    return s;
  };
  const trainPx = await stampPixels(set.trainKeys.map(stampOf), image.config);
  const valPx = await stampPixels(set.valKeys.map(stampOf), image.config);
  const per = image.config.num_channels * image.config.image_size ** 2;
  const patchLen = image.config.num_channels * image.config.patch_size ** 2;
  const B = plan.batchSize;
  const perEpoch = Math.floor(trainItems.length / B);

  /** Texts of a batch: image-loss captions (one per image, or every language for validation) and pivot captions. */
  const batchTexts = (items: Item[], epoch: number, allLangs: boolean) => {
    const texts: string[] = [], imageIdx: number[] = [];
    items.forEach((it, j) => {
      if (allLangs) {
        for (const l of langs.image) {
          const c = it.record.captions[l];
          if (c) {
            texts.push(c);
            imageIdx.push(j);
          }
        }
      } else {
        const c = rotatedCaption(it.record, langs.image, it.row, epoch);
        if (c) {
          texts.push(c);
          imageIdx.push(j);
        }
      }
    });
    const nImage = texts.length;
    const enIdx: number[] = [];
    if (langs.pivot.length > 0) {
      // English caption row of each image in the image-loss block (Eng-Pivot: one en caption per image)
      const enRow = new Map<number, number>();
      imageIdx.forEach((j, r) => enRow.set(j, r));
      for (const l of langs.pivot) {
        items.forEach((it, j) => {
          const c = it.record.captions[l];
          if (c && enRow.has(j)) {
            texts.push(c);
            enIdx.push(enRow.get(j)!);
          }
        });
      }
    }
    return { texts, imageIdx, nImage, enIdx };
  };

  const headLoss = (
    pooledT: tf.Tensor2D,
    pooledI: tf.Tensor2D,
    bt: ReturnType<typeof batchTexts>,
  ): tf.Scalar => {
    const T = linear(
      pooledT,
      head.tensor("text_projection.weight"),
      head.tensor("text_projection.bias"),
    );
    const I = linear(
      pooledI,
      head.tensor("image_projection.weight"),
      head.tensor("image_projection.bias"),
    );
    const scale = head.tensor("logit_scale") as tf.Scalar;
    const Timg = bt.enIdx.length > 0 ? tf.slice(T, [0, 0], [bt.nImage, -1]) as tf.Tensor2D : T;
    let loss = textToImageCrossEntropy(Timg, I, scale, bt.imageIdx);
    if (bt.enIdx.length > 0) {
      const Tx = tf.slice(T, [bt.nImage, 0], [-1, -1]) as tf.Tensor2D;
      loss = tf.add(loss, pivotTextCrossEntropy(Tx, Timg, scale, bt.enIdx)) as tf.Scalar;
    }
    return loss;
  };
  const pooled = (
    x0: tf.Tensor2D,
    patches: tf.Tensor2D,
    tb: ReturnType<typeof tok.batch>,
    nImages: number,
  ) => ({
    t: text.meanPool(tb, text.encode(tb, x0)),
    i: image.meanPool(image.encode(patches, nImages), nImages),
  });

  const outcome = await runResumableTraining({
    label: `fine-tune K ${setup}`,
    checkpointPath: join(dir, "checkpoint.safetensors"),
    fingerprint: `${fingerprint}|${JSON.stringify(plan)}`,
    schedule: plan.schedule,
    stopAfterSteps: opts.stopAfterSteps,
    quiet: opts.quiet,
    task: {
      modules: { text: text.params, image: image.params, head },
      step: async (step): Promise<StepResult> => {
        const epoch = Math.floor(step / perEpoch);
        const perm = new SeededRandom(plan.schedule.seed * 7919 + epoch).shuffle(
          Array.from({ length: trainItems.length }, (_, i) => i),
        );
        const slot = step % perEpoch;
        const items = perm.slice(slot * B, slot * B + B).map((i) => trainItems[i]!);
        const bt = batchTexts(items, epoch, false);
        const tb = tok.batch(bt.texts, plan.maxLength);
        const px = new Float32Array(B * per);
        items.forEach((it, j) =>
          px.set(trainPx.subarray(it.row * per, (it.row + 1) * per), j * per)
        );
        const x0 = tf.tensor2d(text.embeddingInput(tb), [tb.batch * tb.length, text.dim]);
        const patches = tf.tensor2d(image.patchify(px, B), [B * image.numPatches, patchLen]);
        if (step < plan.freezeSteps) {
          // K's warm-up: towers frozen, only the projections and the scale learn
          const [pt, pi] = tf.tidy(() => {
            const p = pooled(x0, patches, tb, B);
            return [p.t, p.i];
          });
          tf.dispose([x0, patches]);
          const r = await moduleGrads(
            { head },
            [pt!, pi!],
            ([t, i]) => headLoss(t as tf.Tensor2D, i as tf.Tensor2D, bt),
          );
          return { loss: r.loss, grads: { head: r.grads.head ?? {} } };
        }
        const r = await moduleGrads(
          { text: text.params, image: image.params, head },
          [x0, patches],
          ([x, p]) => {
            const e = pooled(x as tf.Tensor2D, p as tf.Tensor2D, tb, B);
            return headLoss(e.t, e.i, bt);
          },
        );
        const tg = r.grads.text ?? {};
        text.embeddingGrad(tb, r.inputGrads[0]!, tg);
        return {
          loss: r.loss,
          grads: { text: tg, image: r.grads.image ?? {}, head: r.grads.head ?? {} },
        };
      },
      validate: async () => {
        let total = 0, weight = 0;
        for (let s = 0; s < valItems.length; s += B) {
          const items = valItems.slice(s, s + B);
          if (items.length < 2) continue;
          const bt = batchTexts(items, 0, true);
          if (bt.texts.length === 0) continue;
          const tb = tok.batch(bt.texts, plan.maxLength);
          const px = new Float32Array(items.length * per);
          items.forEach((it, j) =>
            px.set(valPx.subarray(it.row * per, (it.row + 1) * per), j * per)
          );
          const l = tf.tidy(() => {
            const e = pooled(
              tf.tensor2d(text.embeddingInput(tb), [tb.batch * tb.length, text.dim]),
              tf.tensor2d(image.patchify(px, items.length), [
                items.length * image.numPatches,
                patchLen,
              ]),
              tb,
              items.length,
            );
            return headLoss(e.t, e.i, bt);
          });
          total += (await l.data())[0]! * bt.texts.length;
          weight += bt.texts.length;
          l.dispose();
        }
        return weight > 0 ? total / weight : 0;
      },
    },
  });
  const training: TrainingRecord = {
    name: `k-${setup}`,
    plan,
    data: {
      setup,
      imageLanguages: langs.image,
      pivotLanguages: langs.pivot,
      trainImages: set.trainKeys.length,
      valImages: set.valKeys.length,
      captionsPerLang: set.captionsPerLang,
      fingerprint,
    },
    lossHistory: outcome.lossHistory,
    valHistory: outcome.valHistory,
    bestStep: outcome.bestStep,
    bestValLoss: Number.isFinite(outcome.bestValLoss) ? outcome.bestValLoss : null,
    seconds: (performance.now() - t0) / 1000,
    parameters: text.params.count + image.params.count + head.count,
  };
  const model: KSetupModel = {
    setup,
    dir,
    text,
    image,
    head,
    tokenizer: tok,
    maxLength: plan.maxLength,
    training,
    dispose: () => [text, image, head].forEach((m) => m.dispose()),
  };
  if (outcome.completed) {
    await atomicWriteJson(join(dir, "text_config.json"), text.config);
    await atomicWriteJson(join(dir, "image_config.json"), image.config);
    await atomicWriteJson(join(dir, "tokenizer.json"), tok.toJSON());
    await saveSafetensorsWeights(text, join(dir, "text_encoder.safetensors"));
    await saveSafetensorsWeights(image, join(dir, "image_encoder.safetensors"));
    await writeParameterSet(head, join(dir, "projection.safetensors"));
    await atomicWriteJson(join(dir, "training.json"), training);
    await Deno.remove(join(dir, "checkpoint.safetensors")).catch(() => {});
  }
  return model;
}

function pick(
  values: Record<string, Float32Array>,
  names: readonly string[],
): Record<string, Float32Array> {
  return Object.fromEntries(names.map((n) => {
    const v = values[n];
    if (!v) throw new KitError(`pretrained weights lack "${n}"`);
    return [n, v];
  }));
}

/** Writes a parameter set as safetensors (F32, its own names). */
export async function writeParameterSet(ps: ParameterSet, path: string): Promise<void> {
  const tensors: Record<string, SafeTensorInput> = {};
  for (const s of ps.specs) {
    tensors[s.name] = { dtype: "F32", shape: s.shape, data: ps.values[s.name]! };
  }
  await writeSafetensors(path, tensors, { format: "pt" });
}

/** Reads a parameter set written by `writeParameterSet` (KitError naming a missing tensor). */
export async function readParameterSetInto(ps: ParameterSet, path: string): Promise<void> {
  const f = await readSafetensors(path);
  const state: Record<string, Float32Array> = {};
  for (const s of ps.specs) {
    const t = f.tensors.get(s.name);
    if (!t || !(t.data instanceof Float32Array)) {
      throw new KitError(`${path}: tensor "${s.name}" missing`);
    }
    state[s.name] = t.data;
  }
  ps.setState(state);
}

/** Loads a finished K setup folder. */
export async function loadKSetupModel(
  dir: string,
  setup: KTrainedSetup,
  maxLength: number,
): Promise<KSetupModel> {
  const tc = await readEncoderConfig(join(dir, "text_config.json")) as XlmRobertaConfig;
  const ic = await readEncoderConfig(join(dir, "image_config.json")) as VitConfig;
  const text = new XlmRobertaEncoder(tc);
  const image = new VitEncoder(ic);
  await loadSafetensorsWeights(text, join(dir, "text_encoder.safetensors"));
  await loadSafetensorsWeights(image, join(dir, "image_encoder.safetensors"));
  const training = await readTrainingRecord(dir);
  const pd = (training.plan as KFineTunePlan).projectionDim;
  const head = new ParameterSet(kHeadSpecs(text.dim, image.dim, pd), 0);
  await readParameterSetInto(head, join(dir, "projection.safetensors"));
  const tokenizer = await SubwordTokenizer.read(join(dir, "tokenizer.json"));
  return {
    setup,
    dir,
    text,
    image,
    head,
    tokenizer,
    maxLength,
    training,
    dispose: () => [text, image, head].forEach((m) => m.dispose()),
  };
}
