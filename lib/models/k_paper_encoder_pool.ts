import { join } from "node:path";
import type { SentenceEncoder } from "../encoders/encoder.ts";
import { readEncoderConfig } from "../encoders/encoder_config.ts";
import {
  type LazyEncoderSpec,
  ResidentEncoderPool,
  type ResidentEncoderPoolStats,
} from "../encoders/resident_encoder_pool.ts";
import {
  requireModelFolderFiles,
  XLMR_FOLDER_FILES,
} from "../encoders/safetensors_model_folder.ts";
import {
  modelContentFingerprint,
  type ModelContentFingerprintOptions,
  onnxModelFiles,
  xlmrMeanPooledEncoder,
  xlmrMeanPooledEncoderInfo,
} from "../encoders/pretrained/mod.ts";
import { kSetupFolderEncoder, readKTextProjection } from "../k_finetune/k_setup_folder.ts";
import { KitError } from "../util/kit_error.ts";

/**
 * The one residency slot of the paper profile's K encoders, for the whole process: however many
 * times `loadKSetupEncoders()` is called (notebook 03 calls it again for its try-it cell), at
 * most one XLM-R-large encoder's weights (≈ 2.2 GB fp32) are held at a time.
 */
const kPaperPool = new ResidentEncoderPool();

/** The paper K encoders' slot: which encoder is resident, loads and releases so far. */
export function kPaperEncoderPoolStats(): ResidentEncoderPoolStats {
  return kPaperPool.stats();
}

/** Options of the paper K encoders (as `kSetupFolderEncoder`'s). */
export interface KPaperEncoderOptions {
  id: string;
  maxLength: number;
  /** Through the folder's `projection.safetensors` (K's `text_dense`): the tuned setups. */
  projection: boolean;
  batchSize?: number;
}

/** Tokenizer files a setup folder may hold besides `XLMR_FOLDER_FILES` (hashed when present). */
const OPTIONAL_TOKENIZER_FILES = ["special_tokens_map.json", "sentencepiece.bpe.model"] as const;

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((i) => i.isFile, () => false);
}

/**
 * The content fingerprint of a K setup folder read as `kPaperSetupFolderEncoder(folder, opts)`
 * embeds it: sha256 (`modelContentFingerprint`) of `config.json`, `model.safetensors`, the
 * tokenizer files (and `special_tokens_map.json`, `sentencepiece.bpe.model` when present), with
 * `projection` `projection.safetensors`, and the options that decide the rows (maxLength,
 * projection, pooling, batch size; `id` is not one of them). No weights are loaded: the files are
 * streamed through sha256 once (XLM-R-large: 2.2 GB, seconds) and their hashes remembered by
 * path, size, mtime and inode (`.cache/file_hashes/model_files.json`).
 */
export async function kSetupFolderFingerprint(
  folder: string,
  opts: Omit<KPaperEncoderOptions, "id">,
  hash: ModelContentFingerprintOptions = {},
): Promise<string> {
  const files: string[] = [...XLMR_FOLDER_FILES];
  for (const f of OPTIONAL_TOKENIZER_FILES) if (await isFile(join(folder, f))) files.push(f);
  if (opts.projection) files.push("projection.safetensors");
  return await modelContentFingerprint(folder, files, {
    encoder: "k-setup-folder",
    pooling: "mean-real-tokens",
    maxLength: opts.maxLength,
    projection: opts.projection ? "text_projection" : null,
    // absent: the loader's default (its value is code, in the result cache's code fingerprint)
    batchSize: opts.batchSize ?? "default",
  }, hash);
}

/**
 * A setup folder (or K's untuned XLM-R safetensors folder) as a `SentenceEncoder` whose weights
 * load on first use into the paper K slot, evicting the encoder resident there. Checked now,
 * without reading the weights: the folder's files (a `KitError` naming a missing one), its
 * `config.json` (the width) and, with `projection`, `projection.safetensors` (its `[P, d]`
 * shape, which must take the model's width: `dim` is P). Its `fingerprint`
 * (`kSetupFolderFingerprint`: the content hash of every file that decides the rows and the
 * options) is computed here too, without loading the weights, so notebooks 03/04 cache its
 * results and resume a killed run (lib/eval_cache).
 */
export async function kPaperSetupFolderEncoder(
  folder: string,
  opts: KPaperEncoderOptions & ModelContentFingerprintOptions,
): Promise<SentenceEncoder> {
  await requireModelFolderFiles(folder, XLMR_FOLDER_FILES, "XLM-R model folder");
  const config = await readEncoderConfig(join(folder, "config.json"));
  if (config.model_type !== "xlm-roberta") {
    throw new KitError(
      `${join(folder, "config.json")}: model_type "${config.model_type}" is not a text model`,
      ["text embeddings need an XLM-R folder (model_type xlm-roberta)"],
    );
  }
  let dim = config.hidden_size;
  if (opts.projection) {
    const p = await readKTextProjection(folder);
    if (p.inDim !== config.hidden_size) {
      throw new KitError(
        `${folder}: projection expects ${p.inDim}-d input, the model is ${config.hidden_size}-d`,
      );
    }
    dim = p.outDim;
  }
  const { hashCache, ...encoderOpts } = opts;
  const fingerprint = await kSetupFolderFingerprint(
    folder,
    encoderOpts,
    hashCache ? { hashCache } : {},
  );
  return kPaperPool.lazy({
    id: opts.id,
    dim,
    fingerprint,
    load: () => kSetupFolderEncoder(folder, encoderOpts),
  });
}

/**
 * K's untuned XLM-R from an ONNX export (`xlmrMeanPooledEncoder`) in the paper K slot: id and
 * width from the folder's config, tokenizer and ONNX file size; the ONNX session is created on
 * first use. Its `fingerprint` is the content hash of the ONNX file(s), `config.json`, the
 * tokenizer files and the options (`modelContentFingerprint`, as paper D's encoders), computed
 * here without creating the session.
 */
export async function kPaperOnnxXlmrEncoder(
  folder: string,
  opts: { maxLength: number } & ModelContentFingerprintOptions,
): Promise<SentenceEncoder> {
  const { hashCache, ...encoderOpts } = opts;
  const info = await xlmrMeanPooledEncoderInfo(folder);
  const fingerprint = await modelContentFingerprint(
    folder,
    [...info.files, ...await onnxModelFiles(folder, info.onnxPath)],
    {
      encoder: "xlmr-mean-onnx",
      pooling: "mean-real-tokens",
      dtype: "fp32",
      maxLength: encoderOpts.maxLength,
      // xlmrMeanPooledEncoder's defaults (their values are code, in the result cache's key)
      batchSize: "default",
      device: "default",
    },
    hashCache ? { hashCache } : {},
  );
  const spec: LazyEncoderSpec = {
    id: info.id,
    dim: info.dim,
    fingerprint,
    load: () => xlmrMeanPooledEncoder(folder, encoderOpts),
  };
  return kPaperPool.lazy(spec);
}
