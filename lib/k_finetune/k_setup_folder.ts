import { join } from "node:path";
import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { readSafetensors } from "../io/safetensors.ts";
import type { SentenceEncoder } from "../encoders/encoder.ts";
import type { ParameterSet } from "../encoders/parameter_set.ts";
import type { VitEncoder } from "../encoders/vit_encoder.ts";
import type { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { linear } from "../encoders/transformer_ops.ts";
import { saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { loadSafetensorsTextModel } from "../encoders/safetensors_model_folder.ts";
import type { TrainingRecord } from "../model_cache/training_record.ts";
import { writeParameterSet } from "../resumable_training/parameter_set_file.ts";
import { writeModelManifest } from "../model_cache/model_manifest.ts";
import { modelFileReadOptions } from "../model_cache/model_file_policy.ts";

/** Tokenizer and config files copied from the text model folder into a setup folder. */
const TEXT_FOLDER_FILES = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "sentencepiece.bpe.model",
];
const IMAGE_FOLDER_FILES = ["config.json", "preprocessor_config.json"];

/**
 * Writes a trained K setup as a model folder that `task embed`, `task bitext` (through
 * embeddings) and notebooks 03/04 read directly: the text tower as a Hugging Face XLM-R folder
 * (`config.json`, `model.safetensors`, the source folder's tokenizer files), K's head
 * (`projection.safetensors`: `text_projection.{weight,bias}` `[P, d]`/`[P]`,
 * `image_projection.*`, `logit_scale`), the image tower as a ViT folder under `image/`, and
 * `training.json` last (the folder is complete once it exists).
 */
export async function saveKSetupFolder(dir: string, m: {
  text: XlmRobertaEncoder;
  image: VitEncoder;
  head: ParameterSet;
  textSource: string;
  imageSource: string;
  record: TrainingRecord;
}): Promise<void> {
  await Deno.mkdir(join(dir, "image"), { recursive: true });
  const copy = async (from: string, to: string, files: string[]) => {
    for (const f of files) {
      try {
        await Deno.copyFile(join(from, f), join(to, f));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  };
  await copy(m.textSource, dir, TEXT_FOLDER_FILES);
  await copy(m.imageSource, join(dir, "image"), IMAGE_FOLDER_FILES);
  await saveSafetensorsWeights(m.text, join(dir, "model.safetensors"));
  await saveSafetensorsWeights(m.image, join(dir, "image", "model.safetensors"));
  await writeParameterSet(m.head, join(dir, "projection.safetensors"));
  await atomicWriteJson(join(dir, "training.json"), m.record);
  await writeModelManifest(dir);
}

/** K's text projection (`text_dense`) of a setup folder: `weight` `[P, d]`, `bias` `[P]`. */
export interface KTextProjection {
  weight: Float32Array;
  bias: Float32Array;
  outDim: number;
  inDim: number;
}

/** Reads `projection.safetensors` of a setup folder; a KitError when the folder has none. */
export async function readKTextProjection(folder: string): Promise<KTextProjection> {
  const path = join(folder, "projection.safetensors");
  try {
    await Deno.stat(path);
  } catch {
    throw new KitError(`${folder}: no projection.safetensors (not a trained K setup folder)`, [
      "--projection needs a setup folder written by notebook 02 (text_projection.weight [P, d], text_projection.bias [P])",
    ]);
  }
  const f = await readSafetensors(path, modelFileReadOptions(path));
  const w = f.tensors.get("text_projection.weight"), b = f.tensors.get("text_projection.bias");
  if (!w || !(w.data instanceof Float32Array) || w.shape.length !== 2) {
    throw new KitError(`${path}: tensor "text_projection.weight" [P, d] (F32) missing`);
  }
  if (!b || !(b.data instanceof Float32Array) || b.shape[0] !== w.shape[0]) {
    throw new KitError(`${path}: tensor "text_projection.bias" [${w.shape[0]}] (F32) missing`);
  }
  return { weight: w.data, bias: b.data, outDim: w.shape[0]!, inDim: w.shape[1]! };
}

/** `x·Wᵀ + b` for rows `x` (`n × inDim`), through the same `linear` as training. */
export async function applyKTextProjection(
  p: KTextProjection,
  x: Float32Array,
  n: number,
): Promise<Float32Array> {
  if (x.length !== n * p.inDim) {
    throw new KitError(`projection expects ${p.inDim}-d rows, got ${x.length / Math.max(1, n)}`);
  }
  const y = tf.tidy(() =>
    linear(
      tf.tensor2d(x, [n, p.inDim]),
      tf.tensor2d(p.weight, [p.outDim, p.inDim]),
      tf.tensor1d(p.bias),
    )
  );
  const out = (await y.data()) as Float32Array;
  y.dispose();
  return out;
}

/**
 * A setup folder (or any XLM-R safetensors folder) as a `SentenceEncoder`: mean-pooled over real
 * tokens, then — with `projection` — K's `text_projection`, as K's evaluation scripts embed the
 * tuned setups. Texts are batched in order of token count (`sortByLength`, default true: the
 * paper profile's FLORES and NLI embeddings run about half the padded tokens) and the rows come
 * back in the caller's order; `onRows` (progress) is called after each batch with its size.
 */
export async function kSetupFolderEncoder(
  folder: string,
  opts: {
    id: string;
    maxLength: number;
    projection: boolean;
    batchSize?: number;
    /** Batch by token count (default true); false batches in the caller's order. */
    sortByLength?: boolean;
  },
): Promise<SentenceEncoder> {
  const proj = opts.projection ? await readKTextProjection(folder) : null;
  const model = await loadSafetensorsTextModel(folder, {
    maxLength: opts.maxLength,
    batchSize: opts.batchSize,
    sortByLength: opts.sortByLength ?? true,
  });
  if (proj && proj.inDim !== model.hiddenSize) {
    model.dispose();
    throw new KitError(
      `${folder}: projection expects ${proj.inDim}-d input, the model is ${model.hiddenSize}-d`,
    );
  }
  let disposed = false;
  return {
    id: opts.id,
    dim: proj ? proj.outDim : model.hiddenSize,
    async embed(texts, _lang, embedOpts) {
      let reported = 0;
      const x = await model.embed(texts, (done) => {
        embedOpts?.onRows?.(done - reported);
        reported = done;
      });
      const data = proj ? await applyKTextProjection(proj, x, texts.length) : x;
      return { data, rows: texts.length, cols: proj ? proj.outDim : model.hiddenSize };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}
