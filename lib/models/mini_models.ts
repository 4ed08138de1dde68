import { basename, join } from "node:path";
import { kitConfig } from "../config/kit_config.ts";
import { activeBackend, type BackendInfo, initBackend } from "../backend/select_backend.ts";
import { cacheDir } from "../util/paths.ts";
import { KitError } from "../util/kit_error.ts";
import type { KSetupId } from "../encoders/encoder.ts";
import type { ImageEncoder, SentenceEncoder } from "../encoders/encoder.ts";
import { linear } from "../encoders/transformer_ops.ts";
import { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { loadSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { clipImageEncoder, multilingualClipTextEncoder } from "../encoders/pretrained/mod.ts";
import { loadStampSamples, type StampSample } from "../mini_pretraining/stamp_samples.ts";
import {
  buildPretrainingCorpus,
  type PretrainingCorpus,
} from "../mini_pretraining/pretraining_corpus.ts";
import {
  pretrainMaskedLm,
  type TrainedTextEncoder,
} from "../mini_pretraining/masked_lm_pretraining.ts";
import {
  pretrainImageEncoder,
  type TrainedImageEncoder,
} from "../mini_pretraining/image_pretraining.ts";
import { type KCaptionSet, loadKCaptionSet } from "../k_finetune/k_caption_records.ts";
import { K_TRAINED_SETUPS, type KTrainedSetup } from "../k_finetune/k_training_set.ts";
import { type KSetupModel } from "../k_finetune/k_setup_model.ts";
import { trainKSetup } from "../k_finetune/k_setup_training.ts";
import {
  type ClipSpaceModels,
  trainClipSpacePair,
} from "../mini_pretraining/clip_space_training.ts";
import {
  MINI_TRAINING_PLAN,
  type MiniTrainingPlan,
  SMOKE_TRAINING_PLAN,
} from "./mini_training_plan.ts";
import { MiniImageEncoder, MiniSentenceEncoder } from "./mini_encoders.ts";
import { modelFolderFingerprint } from "../model_cache/model_cache.ts";
import { kPaperModelFolders, paperKSetups } from "../k_finetune/k_paper_setups.ts";
import { kPaperOnnxXlmrEncoder, kPaperSetupFolderEncoder } from "./k_paper_encoder_pool.ts";
import { modelFileReadOptions } from "../model_cache/model_file_policy.ts";
import { applyRehearsalEmbedLimit } from "../rehearsal/embed_limit.ts";

/** The pretrained mini towers and the data they came from. */
export interface MiniBaseModels {
  smoke: boolean;
  plan: MiniTrainingPlan;
  samples: StampSample[];
  datasetHash: string;
  corpus: PretrainingCorpus;
  text: TrainedTextEncoder;
  image: TrainedImageEncoder;
}

/**
 * The backend for training: the one already chosen in this process, else `kitConfig().backend`
 * — except that `auto` does not settle on a *software* WebGPU adapter (Mesa lavapipe/llvmpipe,
 * SwiftShader), which is correct but several times slower than WASM; then WASM is used (with
 * native OpenBLAS when it loads).
 */
export async function initTrainingBackend(): Promise<BackendInfo> {
  const current = activeBackend();
  if (current) return current;
  const info = await initBackend();
  if (
    info.requested === "auto" && info.name === "webgpu" &&
    /llvmpipe|lavapipe|swiftshader/i.test(info.device)
  ) {
    try {
      return await initBackend("wasm+openblas");
    } catch {
      return await initBackend("wasm"); // OpenBLAS absent (its reason was printed once)
    }
  }
  return info;
}

/** Memo of the base towers per (smoke, cache folder). */
const bases = new Map<string, Promise<MiniBaseModels>>();

/** Options shared by the loaders. */
export interface MiniModelOptions {
  /** Smoke sizes (default `kitConfig().smoke`). */
  smoke?: boolean;
  /** No progress bars. */
  quiet?: boolean;
}

/** The plan for `smoke`. */
export function miniTrainingPlan(smoke: boolean): MiniTrainingPlan {
  return smoke ? SMOKE_TRAINING_PLAN : MINI_TRAINING_PLAN;
}

/**
 * Trains (or loads from the cache) the mini profile's two pretrained towers: the XLM-R analog
 * (masked LM on monolingual text) and the ViT analog (stamp categories). Memoised per process
 * (per smoke flag and cache folder).
 */
export function miniBaseModels(opts: MiniModelOptions = {}): Promise<MiniBaseModels> {
  const smoke = opts.smoke ?? kitConfig().smoke;
  const key = `${smoke}|${cacheDir()}`;
  let p = bases.get(key);
  if (!p) {
    p = (async () => {
      await initTrainingBackend();
      const plan = miniTrainingPlan(smoke);
      const { samples, datasetHash } = await loadStampSamples({ smoke });
      const corpus = await buildPretrainingCorpus(samples, plan.corpus);
      const text = await pretrainMaskedLm(corpus, plan.maskedLm, { quiet: opts.quiet });
      const image = await pretrainImageEncoder(samples, plan.image, { quiet: opts.quiet });
      return { smoke, plan, samples, datasetHash, corpus, text, image };
    })();
    p.catch(() => bases.delete(key));
    bases.set(key, p);
  }
  return p;
}

/** K's four trained setups (mini), with the caption records they were trained on. */
export interface MiniKSetups {
  base: MiniBaseModels;
  captions: KCaptionSet;
  models: Record<KTrainedSetup, KSetupModel>;
  dispose(): void;
}

/** Trains (or loads) K's four fine-tuned setups of the mini profile. */
export async function miniKSetups(opts: MiniModelOptions = {}): Promise<MiniKSetups> {
  const base = await miniBaseModels(opts);
  const captions = await loadKCaptionSet(base.samples, { smoke: base.smoke });
  const models = {} as Record<KTrainedSetup, KSetupModel>;
  for (const setup of K_TRAINED_SETUPS) {
    models[setup] = await trainKSetup({
      setup,
      records: captions.records,
      samples: base.samples,
      textBase: base.text,
      imageBase: base.image,
      plan: base.plan.k,
      quiet: opts.quiet,
    });
  }
  return {
    base,
    captions,
    models,
    dispose: () => Object.values(models).forEach((m) => m.dispose()),
  };
}

function shortHash(dir: string): string {
  return dir.split("@").pop() ?? dir;
}

/** The untuned mini XLM-R analog as a `SentenceEncoder` (mean-pooled over real tokens). */
async function untunedMiniEncoder(base: MiniBaseModels): Promise<SentenceEncoder> {
  const model = new XlmRobertaEncoder(base.text.model.config);
  await loadSafetensorsWeights(
    model,
    join(base.text.dir, "model.safetensors"),
    modelFileReadOptions(join(base.text.dir, "model.safetensors")),
  );
  return new MiniSentenceEncoder({
    id: `mini/k/xlmr@${shortHash(base.text.dir)}`,
    fingerprint: await modelFolderFingerprint(base.text.dir),
    model,
    tokenizer: base.text.tokenizer,
    maxLength: base.text.maxLength,
  });
}

/** Token limit of K's evaluation scripts (`max_length=500` in their flores-sts.py). */
export const K_EVAL_MAX_LENGTH = 500;

/**
 * Paper K's text encoders, one per setup (`K_SETUPS`), each mean-pooled over real tokens, and
 * evaluated as K's scripts do (the authors' `Alignment/text-image/flores-sts.py`,
 * nkrasner/cl-clip-align@d75b729): the untuned `xlmr` on the mean-pooled encoder output,
 * every tuned setup on the **projected** embedding (mean-pooled text tower → `text_projection`,
 * K's `text_dense`).
 * - mini profile: the kit's own models, trained here on first use (or loaded from
 *   `cacheDir()/models/…`): `xlmr` is the masked-LM-pretrained XLM-R analog, the others are
 *   fine-tuned from it on the stamps' caption records (train partition); their `dim` is the
 *   projection's width.
 * - paper profile: `xlmr` is the XLM-R folder of `kPaperModelFolders()` (TF.js from its
 *   `model.safetensors`, else its ONNX export) and each fine-tuned setup is a setup folder
 *   (`saveKSetupFolder`) trained by notebook 02 (`paperKSetups`, cached) — or, with
 *   `KIT_K_SETUPS_DIR`, `<dir>/<setup>/` folders made elsewhere; embedded with the folder's own
 *   tokenizer, mean-pooled, through `projection.safetensors`. A missing folder or file is a
 *   `KitError` naming it. The five encoders' `id` and `dim` are read from the folders at once;
 *   their weights (XLM-R-large: ≈ 2.2 GB fp32 each) load on first use and share one residency
 *   slot for the process (`lib/models/k_paper_encoder_pool.ts`): using an encoder whose weights
 *   are not resident first releases the one that is, so one is held at a time (a notebook that
 *   goes back to a setup reads its folder again).
 *
 * ```ts ignore
 * // ignored by `deno test --doc`: it trains the mini models on first use (minutes)
 * import assert from "node:assert/strict";
 * import { loadKSetupEncoders } from "./mod.ts";
 * const enc = await loadKSetupEncoders({ smoke: true });
 * const m = await enc.multilingual.embed(["Un perro."], "es");
 * assert.equal(m.rows, 1);
 * for (const e of Object.values(enc)) e.dispose();
 * ```
 */
export async function loadKSetupEncoders(
  opts: MiniModelOptions = {},
): Promise<Record<KSetupId, SentenceEncoder>> {
  if (kitConfig().profile === "paper") {
    const out = {} as Record<KSetupId, SentenceEncoder>;
    const folders = kPaperModelFolders();
    try {
      // K's evaluation scripts pad/truncate at 500 tokens (flores-sts.py): no FLORES cut-off
      const o = { maxLength: K_EVAL_MAX_LENGTH };
      // untuned XLM-R: the TF.js tower when the folder has model.safetensors, else its ONNX export
      // (every paper encoder loads its weights on first use, one resident at a time)
      out.xlmr = await Deno.stat(join(folders.text, "model.safetensors")).then(() =>
          true, () => false)
        ? await kPaperSetupFolderEncoder(folders.text, {
          id: `hf/${basename(folders.text)}/mean`,
          ...o,
          projection: false,
        })
        : await kPaperOnnxXlmrEncoder(folders.text, o);
      // KIT_K_SETUPS_DIR: setup folders made elsewhere (e.g. K's checkpoints converted to the
      // folder format of saveKSetupFolder) are read as they are; otherwise notebook 02's
      const given = Deno.env.get("KIT_K_SETUPS_DIR");
      const k = given ? null : await paperKSetups(opts);
      for (const s of K_TRAINED_SETUPS) {
        const dir = k ? k.models[s].dir : join(given!, s);
        out[s] = await kPaperSetupFolderEncoder(dir, {
          id: `kit/k/${s}@${shortHash(dir)}/projected`,
          ...o,
          projection: true,
        });
      }
    } catch (err) {
      for (const e of Object.values(out)) e.dispose();
      if (err instanceof KitError) {
        throw new KitError(`paper profile, K setups: ${err.message}`, [
          ...err.hints,
          `K starts from two model folders: ${folders.text} (KIT_K_TEXT_MODEL; FacebookAI/xlm-roberta-large:`,
          "config.json, model.safetensors, tokenizer.json, tokenizer_config.json) and",
          `${folders.image} (KIT_K_IMAGE_MODEL; google/vit-base-patch16-224-in21k: config.json, model.safetensors,`,
          "preprocessor_config.json); notebook 02 trains K's four setups from them (cached under .cache/models/k-paper-*).",
        ]);
      }
      throw err;
    }
    return applyRehearsalEmbedLimit(out); // rehearsal only (KIT_REHEARSE_EMBED_LIMIT); else `out`
  }
  const k = await miniKSetups(opts);
  const out = { xlmr: await untunedMiniEncoder(k.base) } as Record<KSetupId, SentenceEncoder>;
  for (const setup of K_TRAINED_SETUPS) {
    const m = k.models[setup];
    m.image.dispose();
    const P = m.head.specs.find((s) => s.name === "text_projection.weight")!.shape[0]!;
    out[setup] = new MiniSentenceEncoder({
      id: `mini/k/${setup}@${shortHash(m.dir)}/projected`,
      fingerprint: await modelFolderFingerprint(m.dir),
      model: m.text,
      tokenizer: m.tokenizer,
      maxLength: m.maxLength,
      project: (x) =>
        linear(
          x,
          m.head.tensor("text_projection.weight"),
          m.head.tensor("text_projection.bias"),
        ),
      dim: P,
      onDispose: () => {
        m.text.dispose();
        m.head.dispose();
      },
    });
  }
  return out;
}

/** Paper D's frozen CLIP-space pair (mini: trained by the kit; paper: the published models). */
export interface ClipSpacePair {
  image: ImageEncoder;
  text: SentenceEncoder;
  /** What the pair was trained on, for notebooks and provenance. */
  trainedOn: string;
}

/** Trains (or loads) the mini CLIP and its multilingual student. */
export async function miniClipSpaceModels(opts: MiniModelOptions = {}): Promise<ClipSpaceModels> {
  const base = await miniBaseModels(opts);
  return await trainClipSpacePair({
    samples: base.samples,
    textBase: base.text,
    imageBase: base.image,
    plan: base.plan.clipSpace,
    sibLimit: base.plan.sibPairs,
    quiet: opts.quiet,
  });
}

/**
 * Paper D's frozen encoder pair: image embeddings in CLIP space and a multilingual text encoder
 * distilled into the same space.
 * - mini profile: the kit's mini CLIP image tower (+ `visual_projection`) and its multilingual
 *   student (+ Dense), trained on **train** stamps (English captions for CLIP; captions in D's
 *   nine languages and SIB-200 train/dev for the student) — never on val/test stamps.
 * - paper profile: OpenCLIP ViT-B-32 (`openai`) images and
 *   `sentence-transformers/clip-ViT-B-32-multilingual-v1` text from the user's model folders
 *   (lib/encoders/pretrained; a missing folder is a `KitError` naming it).
 */
export async function loadClipSpacePair(opts: MiniModelOptions = {}): Promise<ClipSpacePair> {
  if (kitConfig().profile === "paper") {
    const image = await clipImageEncoder();
    try {
      const text = await multilingualClipTextEncoder();
      return {
        image,
        text,
        trainedOn:
          "OpenAI CLIP ViT-B/32 (400M web image–text pairs); text: clip-ViT-B-32-multilingual-v1 (distilled on parallel text)",
      };
    } catch (err) {
      image.dispose();
      throw err;
    }
  }
  const m = await miniClipSpaceModels(opts);
  const P = m.visualProjection.specs[0]!.shape[0]!;
  const imageFingerprint = await modelFolderFingerprint(m.clipDir);
  const textFingerprint = await modelFolderFingerprint(m.studentDir);
  const image = new MiniImageEncoder({
    id: `mini/d/clip-image@${shortHash(m.clipDir)}`,
    fingerprint: imageFingerprint,
    model: m.image,
    project: (x) => linear(x, m.visualProjection.tensor("visual_projection.weight"), null),
    dim: P,
    onDispose: () => {
      m.image.dispose();
      m.visualProjection.dispose();
    },
  });
  const text = new MiniSentenceEncoder({
    id: `mini/d/multilingual-student@${shortHash(m.studentDir)}`,
    fingerprint: textFingerprint,
    model: m.student,
    tokenizer: m.tokenizer,
    maxLength: m.maxLength,
    project: (x) => linear(x, m.dense.tensor("linear.weight"), null),
    dim: P,
    onDispose: () => {
      m.student.dispose();
      m.dense.dispose();
    },
  });
  const d = m.studentTraining.data as { pairs?: number };
  return {
    image,
    text,
    trainedOn: `mini CLIP (ViT analog + English text tower) on ${
      (m.clipTraining.data as { trainImages?: number }).trainImages ?? "?"
    } train stamps with English captions; multilingual student distilled on ${
      d.pairs ?? "?"
    } parallel pairs (train-stamp captions in ar de en es fr it ja pt zh + SIB-200 train/dev); no val/test stamp`,
  };
}
