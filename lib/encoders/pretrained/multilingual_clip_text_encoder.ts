import { join } from "node:path";
import type { EmbedOptions, SentenceEncoder } from "../encoder.ts";
import { rowMatrix } from "../../retrieval/row_matrix.ts";
import { KitError } from "../../util/kit_error.ts";
import { applyDenseLayer, loadDenseLayer } from "./dense_layer.ts";
import { loadMeanPooledTextModel, type TextModelOptions } from "./mean_pooled_text_model.ts";
import {
  modelContentFingerprint,
  type ModelContentFingerprintOptions,
  onnxModelFiles,
} from "./model_content_fingerprint.ts";
import {
  isModelFile,
  modelFolderName,
  PAPER_MODELS,
  paperModelFolder,
  readModelJson,
  requireModelDirectory,
} from "./model_folder.ts";

const SPEC = PAPER_MODELS["multilingual-clip-text"];

/** Checks `1_Pooling/config.json`, when present, asks for mean pooling only. */
async function checkPoolingConfig(folder: string): Promise<void> {
  const file = join("1_Pooling", "config.json");
  if (!(await isModelFile(join(folder, file)))) return;
  const config = await readModelJson(folder, file, SPEC);
  const modes = Object.entries(config).filter(([k, v]) =>
    k.startsWith("pooling_mode_") && v === true
  )
    .map(([k]) => k);
  if (modes.length !== 1 || modes[0] !== "pooling_mode_mean_tokens") {
    throw new KitError(
      `${join(folder, file)}: expected mean pooling only (pooling_mode_mean_tokens: true), found ${
        modes.join(", ") || "no pooling mode"
      }; this encoder implements mean pooling`,
    );
  }
}

/** `max_seq_length` from `sentence_bert_config.json`, or 128 (this model's value). */
async function sentenceBertMaxLength(folder: string): Promise<number> {
  const file = "sentence_bert_config.json";
  if (!(await isModelFile(join(folder, file)))) return 128;
  const v = (await readModelJson(folder, file, SPEC)).max_seq_length;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new KitError(
      `${join(folder, file)}: "max_seq_length" must be a positive integer, got ${
        JSON.stringify(v)
      }`,
    );
  }
  return v;
}

/**
 * Paper D's caption encoder, `sentence-transformers/clip-ViT-B-32-multilingual-v1`: the
 * multilingual DistilBERT (ONNX, via transformers.js) mean-pooled over real tokens, then the
 * model's own `2_Dense` layer (768 → 512, no bias, identity activation), read from
 * `2_Dense/config.json` and `2_Dense/model.safetensors`. Output rows (512-d, in CLIP's space)
 * are **not** normalised; paper D L2-normalises them. Truncates at `max_seq_length` from
 * `sentence_bert_config.json` (128). Its `fingerprint` (the result caches' key, e.g. of paper D's
 * embeddings) is the content hash of every file that decides the rows — the ONNX file,
 * config.json, the tokenizer files, 1_Pooling and sentence_bert_config.json when present,
 * 2_Dense's config and weights — and the resolved options (`modelContentFingerprint`; the ONNX
 * file's hash is remembered, so only the first load of a folder reads it whole).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilingualClipTextEncoder } from "./multilingual_clip_text_encoder.ts";
 * // With the paper profile's model (`./kit task fetch --models`):
 * //   const enc = await multilingualClipTextEncoder();
 * //   // .cache/models/sentence-transformers/clip-ViT-B-32-multilingual-v1
 * //   const m = await enc.embed(["Ein Hund im Schnee"], "de"); // 1 × 512
 * //   enc.dispose();
 * // Without it: an error naming the folder, before anything is loaded.
 * const dir = await Deno.makeTempDir();
 * const missing = `${dir}/clip-ViT-B-32-multilingual-v1`;
 * await assert.rejects(() => multilingualClipTextEncoder(missing), /does not exist/);
 * await Deno.remove(dir);
 * ```
 */
export async function multilingualClipTextEncoder(
  folder: string = paperModelFolder("multilingual-clip-text"),
  opts: TextModelOptions & ModelContentFingerprintOptions = {},
): Promise<SentenceEncoder> {
  await requireModelDirectory(folder, SPEC);
  await checkPoolingConfig(folder);
  const dense = await loadDenseLayer(folder, SPEC);
  const defaultMaxLength = await sentenceBertMaxLength(folder);
  const model = await loadMeanPooledTextModel(folder, SPEC, { ...opts, defaultMaxLength });
  if (dense.inFeatures !== model.hiddenSize) {
    model.dispose();
    throw new KitError(
      `${
        join(folder, "2_Dense", "config.json")
      }: in_features ${dense.inFeatures} does not match the transformer's hidden size ${model.hiddenSize} (config.json)`,
    );
  }
  let fingerprint: string;
  try {
    const optional = [join("1_Pooling", "config.json"), "sentence_bert_config.json"];
    const present: string[] = [];
    for (const f of optional) if (await isModelFile(join(folder, f))) present.push(f);
    fingerprint = await modelContentFingerprint(
      folder,
      [
        ...model.files,
        ...await onnxModelFiles(folder, model.onnxPath),
        ...present,
        join("2_Dense", "config.json"),
        join("2_Dense", "model.safetensors"),
      ],
      { encoder: "multilingual-clip-text", ...model.settings, dense: "2_Dense" },
      opts.hashCache ? { hashCache: opts.hashCache } : {},
    );
  } catch (err) {
    model.dispose();
    throw err;
  }
  const id = `hf/${modelFolderName(folder)}@${model.fingerprint}/mean+dense`;
  return {
    id,
    dim: dense.outFeatures,
    fingerprint,
    async embed(texts: readonly string[], _lang: string, opts: EmbedOptions = {}) {
      const pooled = await model.embedPooled(texts, opts.onRows);
      const data = applyDenseLayer(dense, pooled, texts.length);
      return rowMatrix(data, texts.length, dense.outFeatures, id);
    },
    dispose: () => model.dispose(),
  };
}
