import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";

/**
 * The fields of a Hugging Face `config.json` of an XLM-RoBERTa model that the kit's encoder
 * uses (same names, so a downloaded `config.json` reads as it is).
 */
export interface XlmRobertaConfig {
  model_type: "xlm-roberta";
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  /** Rows of the position table: longest sequence + `pad_token_id` + 1 (XLM-R: 514). */
  max_position_embeddings: number;
  type_vocab_size: number;
  pad_token_id: number;
  layer_norm_eps: number;
  /** Only `gelu` (exact, erf) is implemented. */
  hidden_act: "gelu";
}

/** The fields of a Hugging Face ViT `config.json` that the kit's image encoder uses. */
export interface VitConfig {
  model_type: "vit";
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  layer_norm_eps: number;
  hidden_act: "gelu";
  qkv_bias: boolean;
  /** Per-channel mean and std of the image processor (in21k: 0.5 and 0.5). */
  image_mean?: number[];
  image_std?: number[];
}

export type EncoderConfig = XlmRobertaConfig | VitConfig;

const INT_FIELDS = {
  "xlm-roberta": [
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
    "type_vocab_size",
  ],
  "vit": [
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "image_size",
    "patch_size",
    "num_channels",
  ],
} as const;

/**
 * Validates a parsed `config.json` (Hugging Face field names) of an XLM-R or ViT model and fills
 * Hugging Face's defaults for fields it may omit; `where` names the file in errors.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEncoderConfig } from "./encoder_config.ts";
 * const c = parseEncoderConfig({ model_type: "vit", hidden_size: 8, num_hidden_layers: 1,
 *   num_attention_heads: 2, intermediate_size: 16, image_size: 8, patch_size: 4, num_channels: 3 });
 * assert(c.model_type === "vit" && c.layer_norm_eps === 1e-12);
 * ```
 */
export function parseEncoderConfig(raw: unknown, where = "config"): EncoderConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new KitError(`${where}: expected a JSON object (a Hugging Face config.json)`);
  }
  const r = raw as Record<string, unknown>;
  const type = r.model_type;
  if (type !== "xlm-roberta" && type !== "vit") {
    throw new KitError(
      `${where}: model_type ${
        JSON.stringify(type)
      } is not supported; expected "xlm-roberta" or "vit"`,
    );
  }
  for (const k of INT_FIELDS[type]) {
    const v = r[k];
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new KitError(`${where}: "${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  const act = r.hidden_act ?? "gelu";
  if (act !== "gelu") {
    throw new KitError(
      `${where}: hidden_act ${JSON.stringify(act)} is not supported (only "gelu")`,
    );
  }
  const hidden = r.hidden_size as number, heads = r.num_attention_heads as number;
  if (hidden % heads !== 0) {
    throw new KitError(
      `${where}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`,
    );
  }
  if (type === "xlm-roberta") {
    const pad = r.pad_token_id ?? 1;
    if (!Number.isInteger(pad) || (pad as number) < 0) {
      throw new KitError(`${where}: pad_token_id must be a non-negative integer`);
    }
    if ((r.max_position_embeddings as number) <= (pad as number) + 1) {
      throw new KitError(`${where}: max_position_embeddings must exceed pad_token_id + 1`);
    }
    return {
      model_type: "xlm-roberta",
      vocab_size: r.vocab_size as number,
      hidden_size: hidden,
      num_hidden_layers: r.num_hidden_layers as number,
      num_attention_heads: heads,
      intermediate_size: r.intermediate_size as number,
      max_position_embeddings: r.max_position_embeddings as number,
      type_vocab_size: r.type_vocab_size as number,
      pad_token_id: pad as number,
      layer_norm_eps: typeof r.layer_norm_eps === "number" ? r.layer_norm_eps : 1e-5,
      hidden_act: "gelu",
    };
  }
  if ((r.image_size as number) % (r.patch_size as number) !== 0) {
    throw new KitError(`${where}: image_size must be a multiple of patch_size`);
  }
  const c = r.num_channels as number;
  const vec = (k: string, dflt: number): number[] => {
    const v = r[k];
    if (v === undefined) return Array(c).fill(dflt);
    if (!Array.isArray(v) || v.length !== c || v.some((x) => typeof x !== "number")) {
      throw new KitError(`${where}: "${k}" must be ${c} numbers`);
    }
    return v as number[];
  };
  return {
    model_type: "vit",
    hidden_size: hidden,
    num_hidden_layers: r.num_hidden_layers as number,
    num_attention_heads: heads,
    intermediate_size: r.intermediate_size as number,
    image_size: r.image_size as number,
    patch_size: r.patch_size as number,
    num_channels: c,
    layer_norm_eps: typeof r.layer_norm_eps === "number" ? r.layer_norm_eps : 1e-12,
    hidden_act: "gelu",
    qkv_bias: r.qkv_bias === undefined ? true : Boolean(r.qkv_bias),
    image_mean: vec("image_mean", 0.5),
    image_std: vec("image_std", 0.5),
  };
}

/** Folder of the kit's named configs (`lib/encoders/configs/<name>.json`). */
export const ENCODER_CONFIG_DIR = join(PROJECT_ROOT, "lib", "encoders", "configs");

/**
 * Reads a `config.json`: a path, or the name of one of the kit's configs (`mini-xlmr`,
 * `mini-vit`, `tiny-xlmr`, `tiny-vit`, `xlm-roberta-large`, `vit-base-patch16-224-in21k`, …).
 */
export async function readEncoderConfig(nameOrPath: string): Promise<EncoderConfig> {
  const path = nameOrPath.endsWith(".json")
    ? nameOrPath
    : join(ENCODER_CONFIG_DIR, `${nameOrPath}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new KitError(`encoder config ${path} not found`, [
      `the kit's configs are in ${ENCODER_CONFIG_DIR}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KitError(`${path}: not valid JSON (${err instanceof Error ? err.message : err})`);
  }
  return parseEncoderConfig(raw, path);
}
