import { basename, join } from "node:path";
import { tf } from "../backend/tf.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { sha256Hex } from "../util/sha256.ts";
import type { KSetupId } from "../encoders/encoder.ts";
import { ParameterSet } from "../encoders/parameter_set.ts";
import { type TokenBatch, XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { Dropout, type DropoutRates } from "../encoders/dropout.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import {
  readEncoderConfig,
  type VitConfig,
  type XlmRobertaConfig,
} from "../encoders/encoder_config.ts";
import { loadSafetensorsWeights, saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { SubwordTokenizer } from "../encoders/subword_tokenizer.ts";
import { isComplete, modelCacheDir } from "../model_cache/model_cache.ts";
import { kHeadSpecs } from "./k_head_specs.ts";
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

export { kHeadSpecs };
import {
  runResumableTraining,
  type StepResult,
  type TrainingOutcome,
  type TrainingSchedule,
} from "../resumable_training/resumable_trainer.ts";
import { type TrainedTextEncoder } from "../mini_pretraining/masked_lm_pretraining.ts";
import { readTrainingRecord, type TrainingRecord } from "../model_cache/training_record.ts";
import { stampPixels, type TrainedImageEncoder } from "../mini_pretraining/image_pretraining.ts";
import type { KCaptionLang, KCaptionRecord } from "./k_caption_records.ts";
import { assignCaptionLanguages, kRecordIds } from "./k_language_assignment.ts";
import type { StampSample } from "../mini_pretraining/stamp_samples.ts";
import { writeModelManifest } from "../model_cache/model_manifest.ts";
import { withCacheLock } from "../util/cache_lock.ts";
import {
  readParameterSetInto,
  writeParameterSet,
} from "../resumable_training/parameter_set_file.ts";

/** K's setups that are trained (all but the untuned `xlmr`). */
export type KTrainedSetup = Exclude<KSetupId, "xlmr">;
export const K_TRAINED_SETUPS: readonly KTrainedSetup[] = [
  "eng-only",
  "eng-pivot",
  "multilingual",
  "multilingual-qu",
];

/**
 * Which captions each setup trains on: `image` = the languages of the image–caption loss (each
 * record in one of them, {@link assignCaptionLanguages}); `pivot` = Eng-Pivot's non-English
 * languages, each scored against the batch's English captions (text only, no image).
 */
export const K_SETUP_LANGUAGES: Readonly<
  Record<KTrainedSetup, { image: KCaptionLang[]; pivot: KCaptionLang[] }>
> = {
  "eng-only": { image: ["en"], pivot: [] },
  "eng-pivot": { image: [], pivot: ["es", "ja", "hi"] },
  "multilingual": { image: ["en", "es", "ja", "hi"], pivot: [] },
  "multilingual-qu": { image: ["en", "es", "ja", "hi", "qu"], pivot: [] },
};

/** Whether a setup is K's text-only Eng-Pivot (no image term, image tower untouched). */
export function isTextOnlySetup(setup: KTrainedSetup): boolean {
  return K_SETUP_LANGUAGES[setup].pivot.length > 0;
}

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

/** One training/validation caption record of a setup, with its image's row in the pixel array. */
export interface KItem {
  row: number;
  /** Record id (K-TRAIN; {@link kRecordIds}). */
  id: string;
  record: KCaptionRecord;
  /** Image setups: the record's one assigned language; Eng-Pivot: null (all its languages). */
  lang: KCaptionLang | null;
}

/** The training set a setup actually uses (for the notebook's table and the leakage tests). */
export interface KTrainingSet {
  /** Dataset keys of the training images (all in the train partition). */
  trainKeys: string[];
  valKeys: string[];
  /** Captions trained on per language (image setups: assigned records; Eng-Pivot: en + pivots). */
  captionsPerLang: Partial<Record<KCaptionLang, number>>;
  /** Image setups: record id → its one language (fixed for all epochs); Eng-Pivot: null. */
  assignment: Record<string, KCaptionLang> | null;
  /** Seed of the language assignment (the plan's schedule seed), null for Eng-Pivot. */
  assignmentSeed: number | null;
  train: KItem[];
  val: KItem[];
}

function setupItems(
  records: readonly KCaptionRecord[],
  setup: KTrainedSetup,
  seed: number,
): KItem[] {
  const langs = K_SETUP_LANGUAGES[setup];
  const ids = kRecordIds(records);
  if (isTextOnlySetup(setup)) {
    return records.flatMap((record, i) =>
      record.captions.en && langs.pivot.some((l) => record.captions[l])
        ? [{ row: 0, id: ids[i]!, record, lang: null }]
        : []
    );
  }
  const a = assignCaptionLanguages(records, langs.image, seed);
  return records.flatMap((record, i) => {
    const lang = a.byIndex[i] ?? null;
    return lang ? [{ row: 0, id: ids[i]!, record, lang }] : [];
  });
}

/**
 * The train/val items of a setup. Image setups: every record with a caption in one of its
 * languages, each assigned one language once ({@link assignCaptionLanguages}, seeded; train and
 * val assigned separately, as K's `_singles` files are). Eng-Pivot: records with an English
 * caption and at least one of es/ja/hi.
 */
export function kTrainingSet(
  records: readonly KCaptionRecord[],
  setup: KTrainedSetup,
  seed: number,
): KTrainingSet {
  const langs = K_SETUP_LANGUAGES[setup];
  const withRows = (xs: KItem[]) => xs.map((it, row) => ({ ...it, row }));
  const train = withRows(setupItems(records.filter((r) => r.partition === "train"), setup, seed));
  const val = withRows(setupItems(records.filter((r) => r.partition === "val"), setup, seed + 1));
  const captionsPerLang: Partial<Record<KCaptionLang, number>> = {};
  const add = (l: KCaptionLang) => (captionsPerLang[l] = (captionsPerLang[l] ?? 0) + 1);
  for (const it of train) {
    if (it.lang) add(it.lang);
    else for (const l of ["en", ...langs.pivot] as const) if (it.record.captions[l]) add(l);
  }
  const textOnly = isTextOnlySetup(setup);
  return {
    trainKeys: train.map((it) => it.record.image_id),
    valKeys: val.map((it) => it.record.image_id),
    captionsPerLang,
    assignment: textOnly ? null : Object.fromEntries(train.map((it) => [it.id, it.lang!])),
    assignmentSeed: textOnly ? null : seed,
    train,
    val,
  };
}

/** The texts of one batch of items and how the loss pairs them. */
export interface KBatchTexts {
  texts: string[];
  /** Language and record id of each text (for the no-translation-pairs tests). */
  langs: KCaptionLang[];
  ids: string[];
  /** Image setups: image (batch position) of each text; Eng-Pivot: empty. */
  imageIdx: number[];
  /** Eng-Pivot: the first `nEnglish` texts are the batch's English captions. */
  nEnglish: number;
  /** Eng-Pivot: for each non-English text (after the English block), its English row. */
  enIdx: number[];
}

/**
 * The texts a batch of `items` contributes: image setups, each record's one assigned caption
 * (scored against the batch's images); Eng-Pivot, the English captions then every es/ja/hi
 * caption the records have (each scored against the batch's English captions).
 */
export function kBatchTexts(setup: KTrainedSetup, items: readonly KItem[]): KBatchTexts {
  const out: KBatchTexts = { texts: [], langs: [], ids: [], imageIdx: [], nEnglish: 0, enIdx: [] };
  const push = (it: KItem, l: KCaptionLang) => {
    const c = it.record.captions[l];
    if (!c) throw new KitError(`K ${setup}: record ${it.id} has no ${l} caption`);
    out.texts.push(c);
    out.langs.push(l);
    out.ids.push(it.id);
  };
  if (isTextOnlySetup(setup)) {
    for (const it of items) push(it, "en");
    out.nEnglish = items.length;
    for (const l of K_SETUP_LANGUAGES[setup].pivot) {
      items.forEach((it, j) => {
        if (it.record.captions[l]) {
          push(it, l);
          out.enIdx.push(j);
        }
      });
    }
    return out;
  }
  items.forEach((it, j) => {
    push(it, it.lang!);
    out.imageIdx.push(j);
  });
  return out;
}

/**
 * The items of global step `step`: a seeded reshuffle per epoch (a DataLoader with
 * `shuffle=True`), `B` items per step, the last batch of an epoch partial (`drop_last=False`:
 * every record is trained on in every epoch).
 */
export function kStepItems(
  items: readonly KItem[],
  batchSize: number,
  seed: number,
  step: number,
): KItem[] {
  if (items.length < 1) throw new KitError("K: no training records");
  const perEpoch = kBatchesPerEpoch(items.length, batchSize);
  const epoch = Math.floor(step / perEpoch);
  const perm = new SeededRandom(seed * 7919 + epoch).shuffle(
    Array.from({ length: items.length }, (_, i) => i),
  );
  const slot = step % perEpoch;
  return perm.slice(slot * batchSize, slot * batchSize + batchSize).map((i) => items[i]!);
}

/**
 * The validation batches of one validation: `batchSize` items each in a seeded shuffle (K's
 * validation DataLoader has `shuffle=True`; `seed` differs per validation), the last partial.
 */
export function kValidationBatches(
  items: readonly KItem[],
  batchSize: number,
  seed: number,
): KItem[][] {
  const perm = new SeededRandom(seed).shuffle(Array.from({ length: items.length }, (_, i) => i));
  const out: KItem[][] = [];
  for (let s = 0; s < perm.length; s += batchSize) {
    out.push(perm.slice(s, s + batchSize).map((i) => items[i]!));
  }
  return out;
}

/**
 * Fine-tunes one of K's setups from the pretrained mini towers (SPEC §1).
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
  const trainBatch = (step: number) =>
    lossBatch(kStepItems(trainItems, B, plan.schedule.seed, step), "train");
  // after within-epoch batch k·evalEvery (k ≥ 1) only: not before training, not at the end
  const validateAfter = (stepsDone: number) => kLoopStep(stepsDone - 1, loop).validateAfter;
  // eval mode (no dropout); the plain mean of the per-batch losses of a seeded shuffle
  const validate = async (stepsDone: number) => {
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
