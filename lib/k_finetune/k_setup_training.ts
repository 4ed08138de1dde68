import { basename, join } from "node:path";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { withCacheLock } from "../util/cache_lock.ts";
import { ParameterSet } from "../encoders/parameter_set.ts";
import { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import { saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { isComplete, modelCacheDir } from "../model_cache/model_cache.ts";
import { writeModelManifest } from "../model_cache/model_manifest.ts";
import { writeParameterSet } from "../resumable_training/parameter_set_file.ts";
import type { TrainedTextEncoder } from "../mini_pretraining/masked_lm_pretraining.ts";
import { stampPixels, type TrainedImageEncoder } from "../mini_pretraining/image_pretraining.ts";
import type { StampSample } from "../mini_pretraining/stamp_samples.ts";
import type { KCaptionRecord } from "./k_caption_records.ts";
import { kHeadSpecs } from "./k_head_specs.ts";
import {
  isTextOnlySetup,
  K_SETUP_LANGUAGES,
  type KItem,
  type KTrainedSetup,
  kTrainingSet,
} from "./k_training_set.ts";
import { type KFineTunePlan, runKSetupTraining } from "./k_setup_loop.ts";
import { type KSetupModel, loadKSetupModel } from "./k_setup_model.ts";

/**
 * Fine-tunes one of K's setups ([K] Table 1, arXiv:2505.13628) from the pretrained mini towers,
 * as the authors' `Alignment/text-image/finetune_clip.py` and `Alignment/text-text/align_roberta.py`
 * (nkrasner/cl-clip-align@d75b729) train them.
 * - Image setups (Eng-Only, Multilingual, +Quechua): text embedding = mean-pooled XLM-R analog →
 *   `text_projection`, image embedding = mean-pooled ViT analog → `image_projection`, logits
 *   `T·Iᵀ·s` with a learned scale `s` (initialised to 1, no normalisation), cross-entropy
 *   text → image only. Each caption record is trained in its one assigned language in every
 *   epoch ({@link kTrainingSet}). Both towers are fine-tuned after `freezeSteps` head-only steps.
 * - Eng-Pivot: **text only** (K's `align_roberta.py`): each es/ja/hi caption is scored against
 *   the batch's English captions through the text tower + `text_projection` (same scale),
 *   cross-entropy; no image term, the image tower is never run nor updated (it stays the
 *   pretrained ViT analog).
 * The checkpoint with the lowest validation loss is kept, never the untrained step 0.
 * Training records: **train** partition only. Cached and resumable.
 */
export function trainKSetup(
  ...args: Parameters<typeof trainKSetupUnlocked>
): ReturnType<typeof trainKSetupUnlocked> {
  return withCacheLock("models", () => trainKSetupUnlocked(...args));
}

/** `trainKSetup` without the models cache lock (the caller holds it). */
async function trainKSetupUnlocked(opts: {
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
  const textOnly = isTextOnlySetup(setup);
  const set = kTrainingSet(opts.records, setup, plan.schedule.seed);
  if (set.train.length < plan.batchSize) {
    throw new KitError(
      `K ${setup}: ${set.train.length} training records, fewer than a batch of ${plan.batchSize}`,
    );
  }
  const sampleByKey = new Map(opts.samples.map((s) => [s.key, s]));
  const fingerprint = sha256Hex(JSON.stringify({
    version:
      "k-setup/3 (per-parameter Adam; K's epoch loop: last batch kept, within-epoch validation)",
    setup,
    langs,
    train: set.train.map((it) => [it.id, it.lang, it.record.captions]),
    val: set.val.map((it) => [it.id, it.lang, it.record.captions]),
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
  const stampOf = (k: string) => {
    const s = sampleByKey.get(k);
    if (!s) throw new KitError(`K ${setup}: caption record ${k} has no image in the mini dataset`);
    return s;
  };
  const trainPx = textOnly ? null : await stampPixels(set.trainKeys.map(stampOf), image.config);
  const valPx = textOnly ? null : await stampPixels(set.valKeys.map(stampOf), image.config);
  const per = image.config.num_channels * image.config.image_size ** 2;
  const pixelsOf = (src: Float32Array, items: readonly KItem[]) => {
    const px = new Float32Array(items.length * per);
    items.forEach((it, j) => px.set(src.subarray(it.row * per, (it.row + 1) * per), j * per));
    return px;
  };
  const training = await runKSetupTraining({
    setup,
    set,
    text,
    image,
    head,
    tokenize: (texts) => tok.batch(texts, plan.maxLength),
    pixels: (items, part) => Promise.resolve(pixelsOf(part === "train" ? trainPx! : valPx!, items)),
    plan,
    dir,
    fingerprint,
    quiet: opts.quiet,
    stopAfterSteps: opts.stopAfterSteps,
    t0,
  });
  const model: KSetupModel = {
    setup,
    dir,
    text,
    image,
    head,
    tokenizer: tok,
    maxLength: plan.maxLength,
    training: training.record,
    dispose: () => [text, image, head].forEach((m) => m.dispose()),
  };
  if (training.completed) {
    await atomicWriteJson(join(dir, "text_config.json"), text.config);
    await atomicWriteJson(join(dir, "image_config.json"), image.config);
    await atomicWriteJson(join(dir, "tokenizer.json"), tok.toJSON());
    await saveSafetensorsWeights(text, join(dir, "text_encoder.safetensors"));
    await saveSafetensorsWeights(image, join(dir, "image_encoder.safetensors"));
    await writeParameterSet(head, join(dir, "projection.safetensors"));
    await atomicWriteJson(join(dir, "training.json"), training.record);
    await writeModelManifest(dir);
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
