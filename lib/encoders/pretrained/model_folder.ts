import { basename, join } from "node:path";
import { KitError } from "../../util/kit_error.ts";
import { pretrainedModelsDir } from "./transformers_runtime.ts";

/** The pretrained models of the paper profile. */
export type PaperModelKey = "clip-vit-b32-image" | "multilingual-clip-text" | "xlm-roberta-large";

/** What a pretrained model is, where to get it and which files its folder must hold. */
export interface PretrainedModelSpec {
  readonly key: PaperModelKey;
  /** What it is, for messages. */
  readonly title: string;
  /** The Hugging Face id; the default folder is `pretrainedModelsDir()/<hfId>`. */
  readonly hfId: string;
  /** The expected folder layout, one line per file. */
  readonly layout: readonly string[];
  /** How to obtain the files, one line each. */
  readonly howToGet: readonly string[];
}

/** The paper profile's pretrained models ([K]; [D] §4.2). */
export const PAPER_MODELS: Readonly<Record<PaperModelKey, PretrainedModelSpec>> = {
  "clip-vit-b32-image": {
    key: "clip-vit-b32-image",
    title: "CLIP ViT-B/32 image tower (paper D)",
    hfId: "openai/clip-vit-base-patch32",
    layout: [
      "config.json                 (CLIP config; projection_dim = 512)",
      "preprocessor_config.json    (CLIPImageProcessor: 224 px, bicubic, centre crop, CLIP mean/std)",
      "onnx/vision_model.onnx      (pixel_values -> image_embeds)",
    ],
    howToGet: [
      "The ONNX export of openai/clip-vit-base-patch32 on Hugging Face is Xenova/clip-vit-base-patch32:",
      "copy its config.json, preprocessor_config.json and onnx/vision_model.onnx into this folder.",
      "(Same weights as OpenCLIP ViT-B-32 'openai', which paper D uses.)",
    ],
  },
  "multilingual-clip-text": {
    key: "multilingual-clip-text",
    title: "multilingual CLIP text encoder (paper D)",
    hfId: "sentence-transformers/clip-ViT-B-32-multilingual-v1",
    layout: [
      "config.json                 (DistilBERT config)",
      "tokenizer.json, tokenizer_config.json",
      "onnx/model.onnx             (input_ids, attention_mask -> last_hidden_state; model.onnx at the top level also works)",
      "1_Pooling/config.json       (optional; must say pooling_mode_mean_tokens = true)",
      "sentence_bert_config.json   (optional; max_seq_length, default 128)",
      "2_Dense/config.json         (in_features 768, out_features 512, bias false, Identity activation)",
      "2_Dense/model.safetensors   (linear.weight, 512 x 768)",
    ],
    howToGet: [
      "Download the repository sentence-transformers/clip-ViT-B-32-multilingual-v1 (`git clone` with",
      "git-lfs, or `huggingface-cli download`): it ships onnx/model.onnx and 2_Dense/model.safetensors.",
      "Without onnx/model.onnx, export one with optimum:",
      "`optimum-cli export onnx --model sentence-transformers/clip-ViT-B-32-multilingual-v1 --task feature-extraction <folder>`",
    ],
  },
  "xlm-roberta-large": {
    key: "xlm-roberta-large",
    title: "XLM-R large, mean-pooled (paper K's untuned baseline)",
    hfId: "FacebookAI/xlm-roberta-large",
    layout: [
      "config.json                 (XLM-RoBERTa config; hidden_size 1024)",
      "tokenizer.json, tokenizer_config.json",
      "onnx/model.onnx             (input_ids, attention_mask -> last_hidden_state; model.onnx at the top level also works)",
    ],
    howToGet: [
      "Export it with optimum (writes config, tokenizer and model.onnx into <folder>):",
      "`optimum-cli export onnx --model FacebookAI/xlm-roberta-large --task feature-extraction <folder>`",
    ],
  },
};

/**
 * The default folder of a paper model: `pretrainedModelsDir()/<Hugging Face id>`, e.g.
 * `.cache/models/sentence-transformers/clip-ViT-B-32-multilingual-v1`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { paperModelFolder } from "./model_folder.ts";
 * assert(paperModelFolder("xlm-roberta-large").endsWith("FacebookAI/xlm-roberta-large"));
 * ```
 */
export function paperModelFolder(key: PaperModelKey): string {
  return join(pretrainedModelsDir(), PAPER_MODELS[key].hfId);
}

/** The hints printed under a model-folder error: where to get the model and the layout. */
export function modelFolderHints(spec: PretrainedModelSpec, folder: string): string[] {
  return [
    `Hugging Face model: ${spec.hfId}`,
    `Expected layout of ${folder}/:`,
    ...spec.layout.map((l) => `  ${l}`),
    ...spec.howToGet,
    `Default folder: ${join(pretrainedModelsDir(), spec.hfId)} (KIT_MODELS_DIR changes the root).`,
  ];
}

/** True when `path` is an existing regular file. */
export async function isModelFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Throws a `KitError` unless `folder` is an existing directory. */
export async function requireModelDirectory(
  folder: string,
  spec: PretrainedModelSpec,
): Promise<void> {
  let ok = false;
  try {
    ok = (await Deno.stat(folder)).isDirectory;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new KitError(
      `${spec.title}: model folder ${folder} does not exist (the kit never downloads models)`,
      modelFolderHints(spec, folder),
    );
  }
}

/**
 * Throws a `KitError` naming the first of `files` (paths relative to `folder`) that is missing,
 * with where to get the model and the expected layout.
 */
export async function requireModelFiles(
  folder: string,
  spec: PretrainedModelSpec,
  files: readonly string[],
): Promise<void> {
  await requireModelDirectory(folder, spec);
  for (const f of files) {
    if (!(await isModelFile(join(folder, f)))) {
      throw new KitError(
        `${spec.title}: ${join(folder, f)} is missing (model folder ${folder} is incomplete)`,
        modelFolderHints(spec, folder),
      );
    }
  }
}

/** ONNX weight variants transformers.js knows by file-name suffix. */
export type OnnxDtype = "fp32" | "fp16" | "q8";
const DTYPE_SUFFIX: Record<OnnxDtype, string> = { fp32: "", fp16: "_fp16", q8: "_quantized" };

/**
 * Finds `onnx/<name><suffix>.onnx` (transformers.js's layout) or `<name><suffix>.onnx` at the
 * top of `folder` (optimum's layout) and returns the `subfolder` to pass to transformers.js.
 * Missing: a `KitError` naming the file.
 */
export async function locateOnnxFile(
  folder: string,
  spec: PretrainedModelSpec,
  name: string,
  dtype: OnnxDtype,
): Promise<{ subfolder: string; path: string }> {
  const file = `${name}${DTYPE_SUFFIX[dtype]}.onnx`;
  for (const subfolder of ["onnx", ""]) {
    const path = join(folder, subfolder, file);
    if (await isModelFile(path)) return { subfolder, path };
  }
  throw new KitError(
    `${spec.title}: ${
      join(folder, "onnx", file)
    } is missing (nor is there a ${file} at the top of ${folder})`,
    modelFolderHints(spec, folder),
  );
}

/** Reads and parses a JSON file of a model folder; a bad file is a `KitError` naming it. */
export async function readModelJson(
  folder: string,
  file: string,
  spec: PretrainedModelSpec,
): Promise<Record<string, unknown>> {
  const path = join(folder, file);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new KitError(`${spec.title}: ${path} is missing`, modelFolderHints(spec, folder));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new KitError(
      `${spec.title}: ${path} is not valid JSON (${err instanceof Error ? err.message : err})`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new KitError(`${spec.title}: ${path} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** A short name for a model folder, for encoder ids: its last two path parts. */
export function modelFolderName(folder: string): string {
  const parts = folder.replace(/\/+$/, "").split("/");
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${basename(folder)}` : basename(folder);
}
