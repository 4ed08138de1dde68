import { basename, join, resolve } from "node:path";
import { kitConfig } from "../config/kit_config.ts";
import { activeBackend } from "../backend/select_backend.ts";
import { dataRegistry } from "../data/registry.ts";
import { loadCocoCaptions } from "../sources/coco_captions.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { vitProcessorPixels } from "../encoders/vit_image_processor.ts";
import type { DropoutRates } from "../encoders/dropout.ts";
import {
  loadSafetensorsImageModel,
  loadSafetensorsTextModel,
  requireModelFolderFiles,
  VIT_FOLDER_FILES,
  XLMR_FOLDER_FILES,
} from "../encoders/safetensors_model_folder.ts";
import { pretrainedModelsDir } from "../encoders/pretrained/transformers_runtime.ts";
import { ParameterSet } from "../encoders/parameter_set.ts";
import type { KCaptionRecord } from "./k_caption_records.ts";
import { kHeadSpecs } from "./k_head_specs.ts";
import {
  K_PAPER_HYPERPARAMETERS,
  kPaperBatchesPerEpoch,
  kPaperFreezeSteps,
  type KPaperHyperparameters,
  kPaperStep,
} from "./k_paper_plan.ts";
import {
  K_TRAINED_SETUPS,
  type KItem,
  type KTrainedSetup,
  kTrainingSet,
} from "./k_training_set.ts";
import { type KFineTunePlan, runKSetupTraining } from "./k_setup_loop.ts";
import { readTrainingRecord, type TrainingRecord } from "../model_cache/training_record.ts";
import { isComplete, modelCacheDir } from "../model_cache/model_cache.ts";
import { readKTranslationsFile } from "./k_translations_file.ts";
import { saveKSetupFolder } from "./k_setup_folder.ts";
import { withCacheLock } from "../util/cache_lock.ts";
import {
  appendKStepCapLog,
  cappedKSteps,
  type RehearsalKStepCap,
  rehearsalKStepCap,
} from "../rehearsal/k_step_cap.ts";
import { kBatchesPerEpoch, kLoopStep } from "./k_epoch_loop.ts";
import type { KLoopTiming } from "./k_setup_loop.ts";

/**
 * The model folders paper K starts from: `KIT_K_TEXT_MODEL` (default
 * `<models>/FacebookAI/xlm-roberta-large`) and `KIT_K_IMAGE_MODEL` (default
 * `<models>/google/vit-base-patch16-224-in21k`), each a Hugging Face folder with
 * `config.json` + `model.safetensors` (+ `tokenizer.json`/`tokenizer_config.json` for the text
 * model, `preprocessor_config.json` for the image model).
 */
export function kPaperModelFolders(): { text: string; image: string } {
  const env = Deno.env.toObject();
  return {
    text: resolve(
      env.KIT_K_TEXT_MODEL || join(pretrainedModelsDir(), "FacebookAI", "xlm-roberta-large"),
    ),
    image: resolve(
      env.KIT_K_IMAGE_MODEL || join(pretrainedModelsDir(), "google", "vit-base-patch16-224-in21k"),
    ),
  };
}

/** K's caption records over COCO images, with where each image file is. */
export interface KPaperCaptions {
  records: KCaptionRecord[];
  imagePath: Map<string, string>;
  /** What the records are: COCO's English captions, or the translations file's records. */
  source: string;
}

/**
 * K's caption records in the paper profile. Images: MS-COCO 2017 train (partition `train`) and
 * val (`val`); in smoke mode the mirror's 51-image `coco-subset` (its `split` field). Records:
 * with a translations file (`KIT_K_TRANSLATIONS`, K's caption-record format, one JSON a line)
 * one record per line, whose `image_id` must be an image of those splits; without one, one
 * record per COCO English caption (English only: the multilingual setups then stop with a
 * KitError asking for the file).
 */
export async function paperKCaptions(
  opts: { smoke: boolean; translations?: string | null },
): Promise<KPaperCaptions> {
  const reg = dataRegistry();
  const images: { id: number; path: string; partition: "train" | "val"; en: string[] }[] = [];
  const partitionOf = (split: string | null) =>
    split === "train2017" ? "train" : split === "val2017" ? "val" : null;
  if (opts.smoke) {
    const r = await reg.resolve("coco-subset");
    const coco = await loadCocoCaptions(join(r.root, "captions_subset.json"), "coco-subset");
    for (const im of coco.images) {
      const p = partitionOf(im.split);
      if (!p) continue;
      images.push({
        id: im.id,
        path: join(r.root, "images", im.fileName),
        partition: p,
        en: im.captions.map((c) => c.caption),
      });
    }
  } else {
    for (const split of ["train2017", "val2017"] as const) {
      const r = await reg.resolve("mscoco-2017", {
        requiredPaths: [`annotations/captions_${split}.json`, split],
      });
      const coco = await loadCocoCaptions(join(r.root, `annotations/captions_${split}.json`));
      for (const im of coco.images) {
        images.push({
          id: im.id,
          path: join(r.root, split, im.fileName),
          partition: partitionOf(split)!,
          en: im.captions.map((c) => c.caption),
        });
      }
    }
  }
  const byId = new Map(images.map((im) => [String(im.id), im]));
  const imagePath = new Map(images.map((im) => [String(im.id), im.path]));
  const records: KCaptionRecord[] = [];
  if (opts.translations) {
    for (const l of await readKTranslationsFile(opts.translations)) {
      const im = byId.get(l.image_id);
      if (!im) {
        throw new KitError(
          `${opts.translations}:${l.line}: image_id ${l.image_id} is not an image of ${
            opts.smoke ? "the mirror's coco-subset" : "COCO 2017 train/val"
          }`,
        );
      }
      records.push({
        image_id: l.image_id,
        partition: im.partition,
        captions: l.captions,
        origin: l.origin,
      });
    }
  } else {
    for (const im of images) {
      for (const en of im.en) {
        records.push({
          image_id: String(im.id),
          partition: im.partition,
          captions: { en },
          origin: { en: { kind: "human" } },
        });
      }
    }
  }
  return {
    records,
    imagePath,
    source: opts.translations
      ? `translations file ${basename(opts.translations)}`
      : "COCO English captions (no translations file)",
  };
}

/** K's plan for `trainRecords` records: the paper's (K_PAPER_HYPERPARAMETERS) or smoke sizes. */
export function kPaperFineTunePlan(
  trainRecords: number,
  smoke: boolean,
): { plan: KFineTunePlan; hp: KPaperHyperparameters; lrAt: (step: number) => number } {
  const hp: KPaperHyperparameters = smoke
    ? {
      ...K_PAPER_HYPERPARAMETERS,
      projectionDim: 16,
      imagesPerBatch: 4,
      maxLength: 32,
      epochs: 2,
      validateEvery: 3,
    }
    : { ...K_PAPER_HYPERPARAMETERS };
  if (trainRecords < hp.imagesPerBatch) {
    throw new KitError(
      `K paper plan: ${trainRecords} training records, fewer than a batch of ${hp.imagesPerBatch}`,
    );
  }
  // kStepItems reshuffles per epoch and keeps the last partial batch (drop_last=False)
  const perEpoch = kPaperBatchesPerEpoch(trainRecords, hp);
  const freezeSteps = kPaperFreezeSteps(perEpoch, hp);
  const plan: KFineTunePlan = {
    projectionDim: hp.projectionDim,
    batchSize: hp.imagesPerBatch,
    maxLength: hp.maxLength,
    freezeSteps,
    schedule: {
      steps: perEpoch * hp.epochs,
      lr: hp.lr,
      warmupSteps: 0,
      finalLrFraction: 1 - (hp.epochs - 1) / hp.epochs,
      maxGradNorm: 0,
      weightDecay: 0,
      seed: 0,
      evalEvery: hp.validateEvery,
      checkpointEvery: smoke ? 1000 : 300,
    },
  };
  return { plan, hp, lrAt: (s) => kPaperStep(s, perEpoch, hp).lr };
}

/** One trained setup of the paper profile: its model folder and training record. */
export interface PaperKSetupModel {
  setup: KTrainedSetup;
  dir: string;
  training: TrainingRecord;
}

/** K's four setups trained by the kit from the user's model folders (paper profile). */
export interface PaperKSetups {
  folders: { text: string; image: string };
  captions: KPaperCaptions;
  plan: KFineTunePlan;
  hp: KPaperHyperparameters;
  models: Record<KTrainedSetup, PaperKSetupModel>;
  /** The rehearsal's step cap (`KIT_REHEARSE_K_STEPS`): steps each setup trained; else null. */
  rehearsalKSteps: number | null;
}

/**
 * Training-mode dropout of a model folder as Hugging Face applies it in `train()` mode: the
 * config's `hidden_dropout_prob` and `attention_probs_dropout_prob` (xlm-roberta-large: 0.1 and
 * 0.1; vit-base-patch16-224-in21k: 0.0 and 0.0), `fallback` (K's plan: 0.1) where a key is absent.
 */
export async function folderDropoutRates(folder: string, fallback: number): Promise<DropoutRates> {
  const path = join(folder, "config.json");
  const raw = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
  const rate = (k: string): number => {
    const v = raw[k];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !(v >= 0 && v < 1)) {
      throw new KitError(`${path}: "${k}" must be a number in [0, 1), got ${JSON.stringify(v)}`);
    }
    return v;
  };
  return { hidden: rate("hidden_dropout_prob"), attention: rate("attention_probs_dropout_prob") };
}

async function folderFingerprint(folder: string): Promise<string> {
  const config = await Deno.readTextFile(join(folder, "config.json"));
  const st = await Deno.stat(join(folder, "model.safetensors"));
  return sha256Hex(JSON.stringify([config, st.size, st.mtime?.getTime() ?? 0]));
}

/**
 * Trains (or loads from `.cache/models/k-paper-<setup>@<hash>`) paper K's four setups from
 * the XLM-R and ViT model folders of {@link kPaperModelFolders} on COCO caption records
 * ({@link paperKCaptions}) with K's plan ({@link kPaperFineTunePlan}; smoke: tiny sizes), through
 * the same training loop as the mini profile (`runKSetupTraining`). Text goes through the
 * folder's own tokenizer, images through its own preprocessing, decoded batch by batch. Each
 * setup is saved as a model folder (`saveKSetupFolder`).
 */
export function paperKSetups(
  ...args: Parameters<typeof paperKSetupsUnlocked>
): ReturnType<typeof paperKSetupsUnlocked> {
  return withCacheLock("models", () => paperKSetupsUnlocked(...args));
}

/** `paperKSetups` without the models cache lock (the caller holds it). */
async function paperKSetupsUnlocked(
  opts: { smoke?: boolean; quiet?: boolean; translations?: string | null } = {},
): Promise<PaperKSetups> {
  const smoke = opts.smoke ?? kitConfig().smoke;
  const folders = kPaperModelFolders();
  // every missing file listed at once, with the layout, before anything is read
  await requireModelFolderFiles(folders.text, XLMR_FOLDER_FILES, "KIT_K_TEXT_MODEL folder");
  await requireModelFolderFiles(folders.image, VIT_FOLDER_FILES, "KIT_K_IMAGE_MODEL folder");
  const translations = opts.translations !== undefined
    ? opts.translations
    : (Deno.env.get("KIT_K_TRANSLATIONS") || null);
  const captions = await paperKCaptions({ smoke, translations });
  const nTrain = captions.records.filter((r) => r.partition === "train").length;
  const full = kPaperFineTunePlan(nTrain, smoke);
  const { hp, lrAt } = full;
  // the rehearsal's step cap (KIT_REHEARSE_K_STEPS; never set by a normal run): the plan's first
  // steps only, at the real learning rates (lrAt keeps the full plan's epochs)
  const cap = rehearsalKStepCap();
  const plan: KFineTunePlan = cap
    ? (() => {
      const c = cappedKSteps(
        { steps: full.plan.schedule.steps, freezeSteps: full.plan.freezeSteps },
        cap.steps,
      );
      return {
        ...full.plan,
        freezeSteps: c.freezeSteps,
        schedule: { ...full.plan.schedule, steps: c.steps },
      };
    })()
    : full.plan;
  // Eng-Pivot's own text folder when given (K's align_roberta.py: SENT_MODEL = True, i.e.
  // sentence-transformers/paraphrase-xlm-r-multilingual-v1); default the XLM-R folder
  const engPivotText = Deno.env.get("KIT_K_ENG_PIVOT_TEXT_MODEL");
  const foldersOf = (setup: KTrainedSetup) =>
    setup === "eng-pivot" && engPivotText ? { ...folders, text: resolve(engPivotText) } : folders;
  // K's loop leaves dropout on only until each epoch's first validation; the switch keeps it on
  const dropoutThroughout = Deno.env.get("KIT_K_DROPOUT_THROUGHOUT") === "1";
  const models = {} as Record<KTrainedSetup, PaperKSetupModel>;
  for (const setup of K_TRAINED_SETUPS) {
    const set = kTrainingSet(captions.records, setup, plan.schedule.seed);
    if (set.train.length < plan.batchSize) {
      throw new KitError(
        `K ${setup} (paper profile): ${set.train.length} training records in its languages, fewer than a batch of ${plan.batchSize}`,
        [
          "the non-English setups need K's translated COCO captions: set KIT_K_TRANSLATIONS to a file with one JSON a line,",
          '{"image_id": <COCO id>, "captions": {"en": …, "es": …, "ja": …, "hi": …, "qu": …}} (qu optional)',
        ],
      );
    }
    const setupFolders = foldersOf(setup);
    const base = {
      text: await folderFingerprint(setupFolders.text),
      image: await folderFingerprint(setupFolders.image),
    };
    const dropout = {
      text: await folderDropoutRates(setupFolders.text, hp.dropout),
      image: await folderDropoutRates(setupFolders.image, hp.dropout),
    };
    const fingerprint = kPaperSetupFingerprint({
      setup,
      base,
      dropout,
      dropoutThroughout,
      onDevice: onWebGpu(),
      rehearsalKSteps: cap ? plan.schedule.steps : null,
      set,
    });
    const dir = modelCacheDir(`k-paper-${setup}`, plan, fingerprint);
    if (!(await isComplete(dir))) {
      await trainPaperSetup({
        setup,
        set,
        folders: setupFolders,
        captions,
        plan,
        lrAt,
        dropout,
        dropoutThroughout,
        dir,
        fingerprint,
        quiet: opts.quiet,
        cap: cap ? { ...cap, fullPlan: full.plan } : null,
      });
    }
    models[setup] = { setup, dir, training: await readTrainingRecord(dir) };
  }
  return { folders, captions, plan, hp, models, rehearsalKSteps: cap ? plan.schedule.steps : null };
}

/**
 * The data fingerprint of one paper setup's model (part of its `.cache/models` key): code
 * version, training mode, dropout, setup, base folders, its records — and the rehearsal's step
 * cap when set (`rehearsalKSteps`; absent otherwise, so a normal run's key is unchanged), so a
 * shortened model is never taken for a full one.
 */
export function kPaperSetupFingerprint(o: {
  setup: KTrainedSetup;
  base: { text: string; image: string };
  dropout: { text: DropoutRates; image: DropoutRates };
  dropoutThroughout: boolean;
  onDevice: boolean;
  rehearsalKSteps: number | null;
  set: Pick<ReturnType<typeof kTrainingSet>, "train" | "val">;
}): string {
  return sha256Hex(JSON.stringify({
    version: "k-paper-setup/3 (per-parameter Adam; K's train/eval modes and validation cadence)",
    // issue 24: on WebGPU the state stays on the device (dense word table, per-parameter steps)
    ...(o.onDevice ? { training: "device-resident (dense word table)" } : {}),
    dropoutThroughout: o.dropoutThroughout,
    setup: o.setup,
    base: o.base,
    dropout: o.dropout,
    ...(o.rehearsalKSteps !== null ? { rehearsalKSteps: o.rehearsalKSteps } : {}),
    train: o.set.train.map((it) => [it.id, it.lang, it.record.captions]),
    val: o.set.val.map((it) => [it.id, it.lang, it.record.captions]),
  }));
}

/** Whether K's paper setups train with their state on the GPU (the WebGPU backend is active). */
function onWebGpu(): boolean {
  return activeBackend()?.name === "webgpu";
}

async function trainPaperSetup(o: {
  setup: KTrainedSetup;
  set: ReturnType<typeof kTrainingSet>;
  folders: { text: string; image: string };
  captions: KPaperCaptions;
  plan: KFineTunePlan;
  lrAt: (s: number) => number;
  dropout: { text: DropoutRates; image: DropoutRates };
  dropoutThroughout: boolean;
  dir: string;
  fingerprint: string;
  quiet?: boolean;
  /** The rehearsal's step cap and the uncapped plan (its counts go into the cap's log). */
  cap?: (RehearsalKStepCap & { fullPlan: KFineTunePlan }) | null;
}): Promise<void> {
  const t0 = performance.now();
  const timing: KLoopTiming | undefined = o.cap ? { steps: [], validations: [] } : undefined;
  const { plan } = o;
  // off WebGPU the folder's encoder keeps its word table on the host only (gathered in
  // JavaScript; its gradient row-sparse, its update dense Adam), so the 250k × 1024 table is not
  // on the device; on WebGPU (issue 24) every parameter, the table too, stays on the device
  const onDevice = onWebGpu();
  const src = await loadSafetensorsTextModel(o.folders.text, {
    maxLength: plan.maxLength,
    hostWordEmbeddings: !onDevice,
  });
  const text = src.encoder;
  const img = await loadSafetensorsImageModel(o.folders.image);
  const image = img.encoder;
  const head = new ParameterSet(
    kHeadSpecs(text.dim, image.dim, plan.projectionDim),
    plan.schedule.seed,
  );
  try {
    const pixels = async (items: readonly KItem[]) => {
      const bytes = await Promise.all(items.map((it) => {
        const p = o.captions.imagePath.get(it.record.image_id);
        if (!p) {
          throw new KitError(`K ${o.setup}: no image file for image_id ${it.record.image_id}`);
        }
        return Deno.readFile(p);
      }));
      return await vitProcessorPixels(bytes, img.preprocess);
    };
    const training = await runKSetupTraining({
      setup: o.setup,
      set: o.set,
      text,
      image,
      head,
      tokenize: (texts) => src.tokenize(texts),
      pixels: (items) => pixels(items),
      plan,
      dir: o.dir,
      fingerprint: o.fingerprint,
      quiet: o.quiet,
      lrAt: o.lrAt,
      dropout: o.dropout,
      dropoutThroughout: o.dropoutThroughout,
      ...(o.cap ? { validateAfterStep: plan.schedule.steps, timing } : {}),
      // host: torch.optim.Adam's dense update of the word table, from its row-sparse gradient;
      // WebGPU (issue 24): every parameter stays on the device, losses read every 50 steps
      // (under the rehearsal's cap the loss is read every step, so each step's time includes
      // its GPU work, not only its dispatch)
      ...(onDevice
        ? { deviceState: { readLossEvery: o.cap ? 1 : 50 } }
        : { wordTable: "rows" as const }),
      t0,
    });
    const trainedAt = performance.now();
    if (!training.completed) return;
    if (o.cap && timing) {
      await appendKStepCapLog(o.cap.log, {
        notebook: o.cap.notebook,
        setup: o.setup,
        ...kStepCapTimes(timing, trainedAt, plan.freezeSteps),
        ...kPlannedCounts(o.cap.fullPlan, o.set.train.length, o.dropoutThroughout),
      });
    }
    training.record.data.textModel = basename(o.folders.text);
    training.record.data.imageModel = basename(o.folders.image);
    training.record.data.captions = o.captions.source;
    training.record.data.dropout = o.dropout;
    training.record.data.wordEmbeddings = onDevice
      ? "dense Adam (torch.optim.Adam) on the device, from the dense scatter-add gradient"
      : "dense Adam (torch.optim.Adam) from the row-sparse gradient: every row's moments decay";
    await saveKSetupFolder(o.dir, {
      text,
      image,
      head,
      textSource: o.folders.text,
      imageSource: o.folders.image,
      record: training.record,
    });
    await Deno.remove(join(o.dir, "checkpoint.safetensors")).catch(() => {});
  } finally {
    src.dispose();
    img.dispose();
    head.dispose();
  }
}

/**
 * The capped run's times from its timing: a step lasts from its start to the next step's or
 * validation's start (batch, forward, backward, Adam); what follows the last validation until
 * `end` is the checkpoint write (with the best-state restore), counted as one.
 */
export function kStepCapTimes(timing: KLoopTiming, end: number, freezeSteps: number): {
  frozenSteps: number;
  thawedSteps: number;
  frozenSeconds: number;
  thawedSeconds: number;
  frozenStepSeconds: number[];
  thawedStepSeconds: number[];
  validations: number;
  validationSeconds: number;
  checkpoints: number;
  checkpointSeconds: number;
} {
  const starts = [...timing.steps.map((s) => s.t), ...timing.validations.map((v) => v.t0), end]
    .sort((a, b) => a - b);
  const r = {
    frozenSteps: 0,
    thawedSteps: 0,
    frozenSeconds: 0,
    thawedSeconds: 0,
    frozenStepSeconds: [] as number[],
    thawedStepSeconds: [] as number[],
    validations: timing.validations.length,
    validationSeconds: timing.validations.reduce((a, v) => a + (v.t1 - v.t0), 0) / 1000,
    checkpoints: 0,
    checkpointSeconds: 0,
  };
  for (const s of timing.steps) {
    const next = starts.find((t) => t > s.t) ?? end;
    const sec = (next - s.t) / 1000;
    if (s.step < freezeSteps) {
      r.frozenSteps++;
      r.frozenSeconds += sec;
      r.frozenStepSeconds.push(sec);
    } else {
      r.thawedSteps++;
      r.thawedSeconds += sec;
      r.thawedStepSeconds.push(sec);
    }
  }
  const lastVal = timing.validations.at(-1);
  if (lastVal) {
    r.checkpoints = 1;
    r.checkpointSeconds = Math.max(0, end - lastVal.t1) / 1000;
  }
  return r;
}

/** The full plan's steps, frozen steps, validations (K's cadence) and checkpoint writes. */
function kPlannedCounts(
  plan: KFineTunePlan,
  trainItems: number,
  dropoutThroughout: boolean,
): {
  plannedSteps: number;
  plannedFrozenSteps: number;
  plannedValidations: number;
  plannedCheckpoints: number;
} {
  const loop = {
    batchesPerEpoch: kBatchesPerEpoch(trainItems, plan.batchSize),
    freezeSteps: plan.freezeSteps,
    validateEvery: plan.schedule.evalEvery,
    dropoutThroughout,
  };
  let validations = 0;
  for (let s = 0; s < plan.schedule.steps; s++) if (kLoopStep(s, loop).validateAfter) validations++;
  return {
    plannedSteps: plan.schedule.steps,
    plannedFrozenSteps: plan.freezeSteps,
    plannedValidations: validations,
    plannedCheckpoints: Math.ceil(plan.schedule.steps / plan.schedule.checkpointEvery),
  };
}
