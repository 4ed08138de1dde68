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
import { xlmrMeanPooledEncoder, xlmrMeanPooledEncoderInfo } from "../encoders/pretrained/mod.ts";
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

/**
 * A setup folder (or K's untuned XLM-R safetensors folder) as a `SentenceEncoder` whose weights
 * load on first use into the paper K slot, evicting the encoder resident there. Checked now,
 * without reading the weights: the folder's files (a `KitError` naming a missing one), its
 * `config.json` (the width) and, with `projection`, `projection.safetensors` (its `[P, d]`
 * shape, which must take the model's width: `dim` is P).
 */
export async function kPaperSetupFolderEncoder(
  folder: string,
  opts: KPaperEncoderOptions,
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
  return kPaperPool.lazy({
    id: opts.id,
    dim,
    load: () => kSetupFolderEncoder(folder, opts),
  });
}

/**
 * K's untuned XLM-R from an ONNX export (`xlmrMeanPooledEncoder`) in the paper K slot: id and
 * width from the folder's config, tokenizer and ONNX file size; the ONNX session is created on
 * first use.
 */
export async function kPaperOnnxXlmrEncoder(
  folder: string,
  opts: { maxLength: number },
): Promise<SentenceEncoder> {
  const info = await xlmrMeanPooledEncoderInfo(folder);
  const spec: LazyEncoderSpec = {
    ...info,
    load: () => xlmrMeanPooledEncoder(folder, opts),
  };
  return kPaperPool.lazy(spec);
}
