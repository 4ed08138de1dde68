import { join } from "node:path";
import { KitError } from "../../util/kit_error.ts";
import { sha256Hex } from "../../util/sha256.ts";
import { inferenceError, wrapModelLoad } from "./load_errors.ts";
import { meanPoolRealTokens } from "./mean_pooling.ts";
import {
  locateOnnxFile,
  type OnnxDtype,
  type PretrainedModelSpec,
  readModelJson,
  requireModelFiles,
} from "./model_folder.ts";
import { makeBatchTokenizer } from "./token_batch.ts";
import { loadTransformers } from "./transformers_runtime.ts";

/** Options shared by the transformers.js text encoders. */
export interface TextModelOptions {
  /** Texts per ONNX call. Default 32. */
  batchSize?: number;
  /**
   * Truncation length in tokens, special tokens included, as Python's tokenizers do it
   * (`truncation=True, max_length=…`: `</s>` is kept). Default: the model's own (128).
   */
  maxLength?: number;
  /** Which ONNX file: fp32 `model.onnx` (default), fp16 `model_fp16.onnx`, q8 `model_quantized.onnx`. */
  dtype?: OnnxDtype;
  /** onnxruntime device, e.g. "cpu" (default) or "cuda" where onnxruntime-node has CUDA. */
  device?: "cpu" | "cuda" | "webgpu";
}

/** A transformer whose token states are mean-pooled over real tokens. */
export interface MeanPooledTextModel {
  /** Width of the pooled vectors (`hidden_size`, or DistilBERT's `dim`). */
  readonly hiddenSize: number;
  /** Short hash of config, tokenizer and ONNX file size: part of encoder ids (cache keys). */
  readonly fingerprint: string;
  /** The ONNX file loaded. */
  readonly onnxPath: string;
  /** The files besides the ONNX file that decide the pooled vectors (config, tokenizer). */
  readonly files: readonly string[];
  /** The options that decide the pooled vectors, resolved (for content fingerprints). */
  readonly settings: Readonly<{
    dtype: OnnxDtype;
    maxLength: number;
    batchSize: number;
    device: string;
    pooling: "mean-real-tokens";
  }>;
  /**
   * Pooled vectors of `texts`, row-major `texts.length × hiddenSize`, in input order; `onRows`
   * (progress) is called after each batch with its size.
   */
  embedPooled(texts: readonly string[], onRows?: (rows: number) => void): Promise<Float32Array>;
  dispose(): void;
}

/** The text files whose bytes identify a model (with the ONNX file's size) in its fingerprint. */
const FINGERPRINT_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"];

/** The minimal view of transformers.js tensors used here. */
interface TensorView {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
  dispose?: () => void;
}

/** Hashes the fingerprint files and the ONNX file's size into 12 hex characters. */
export async function folderFingerprint(
  folder: string,
  files: readonly string[],
  onnxPath: string,
  extra = "",
): Promise<string> {
  const parts: string[] = [];
  for (const f of files) parts.push(f, sha256Hex(await Deno.readFile(join(folder, f))));
  parts.push(String((await Deno.stat(onnxPath)).size), extra);
  return sha256Hex(parts.join("\n")).slice(0, 12);
}

function positiveIntOption(value: number | undefined, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) {
    throw new KitError(`${name} must be a positive integer, got ${value}`);
  }
  return v;
}

/** What a mean-pooled text model folder is, read without loading its weights. */
export interface MeanPooledTextModelInfo {
  /** Width of the pooled vectors (`hidden_size`, or DistilBERT's `dim`). */
  hiddenSize: number;
  /** As `MeanPooledTextModel.fingerprint`. */
  fingerprint: string;
  /** As `MeanPooledTextModel.files`. */
  files: readonly string[];
  /** The ONNX file the model would load. */
  onnx: { path: string; subfolder: string };
}

/**
 * The width and fingerprint `loadMeanPooledTextModel` would give `folder`, from its config,
 * tokenizer files and the ONNX file's size — without creating the ONNX session (cheap). Missing
 * files are `KitError`s naming them, as when loading.
 */
export async function describeMeanPooledTextModel(
  folder: string,
  spec: PretrainedModelSpec,
  opts: { dtype?: OnnxDtype } = {},
): Promise<MeanPooledTextModelInfo> {
  const dtype = opts.dtype ?? "fp32";
  await requireModelFiles(folder, spec, FINGERPRINT_FILES);
  const onnx = await locateOnnxFile(folder, spec, "model", dtype);
  const config = await readModelJson(folder, "config.json", spec);
  const hidden = config.hidden_size ?? config.dim;
  if (typeof hidden !== "number" || !Number.isInteger(hidden) || hidden <= 0) {
    throw new KitError(
      `${
        join(folder, "config.json")
      }: expected a positive integer "hidden_size" (or DistilBERT's "dim"), got ${
        JSON.stringify(hidden)
      }`,
    );
  }
  const fingerprint = await folderFingerprint(folder, FINGERPRINT_FILES, onnx.path, dtype);
  return { hiddenSize: hidden, fingerprint, files: FINGERPRINT_FILES, onnx };
}

/**
 * Loads `folder` (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx) with
 * transformers.js, offline, and returns a model whose outputs are `last_hidden_state`
 * mean-pooled over the tokenizer's attention mask. Missing files are `KitError`s naming them.
 */
export async function loadMeanPooledTextModel(
  folder: string,
  spec: PretrainedModelSpec,
  opts: TextModelOptions & { defaultMaxLength: number },
): Promise<MeanPooledTextModel> {
  const batchSize = positiveIntOption(opts.batchSize, "batchSize", 32);
  const maxLength = positiveIntOption(opts.maxLength, "maxLength", opts.defaultMaxLength);
  const dtype = opts.dtype ?? "fp32";
  const { hiddenSize, fingerprint, onnx } = await describeMeanPooledTextModel(folder, spec, {
    dtype,
  });
  const tjs = await loadTransformers();
  const tokenizer = await wrapModelLoad(
    spec,
    folder,
    "tokenizer (tokenizer.json, tokenizer_config.json)",
    () => tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true }),
  );
  const model = await wrapModelLoad(
    spec,
    folder,
    `ONNX model (${onnx.path})`,
    () =>
      tjs.AutoModel.from_pretrained(folder, {
        local_files_only: true,
        dtype,
        subfolder: onnx.subfolder,
        device: opts.device ?? "cpu",
      }),
  );
  const modelId = `${spec.title} (${folder})`;
  let disposed = false;

  const tokenize = makeBatchTokenizer(tokenizer, maxLength);

  async function embedBatch(texts: string[]): Promise<Float32Array> {
    const tokens = tokenize(texts);
    const dims = [tokens.batch, tokens.seqLen];
    const enc = {
      input_ids: new tjs.Tensor("int64", tokens.inputIds, dims),
      attention_mask: new tjs.Tensor("int64", tokens.attentionMask, dims),
    };
    let out: Record<string, TensorView>;
    try {
      out = await model._call(enc);
    } catch (err) {
      throw inferenceError(modelId, "running the ONNX model", err);
    }
    const h = out.last_hidden_state ??
      Object.values(out).find((t) => t?.dims?.length === 3);
    if (h === undefined) {
      throw new KitError(
        `${onnx.path}: the model returned no "last_hidden_state" (outputs: ${
          Object.keys(out).join(", ")
        }); export it with --task feature-extraction`,
      );
    }
    const [b, len, dim] = h.dims as [number, number, number];
    if (b !== texts.length || dim !== hiddenSize) {
      throw new KitError(
        `${onnx.path}: last_hidden_state has shape [${
          h.dims.join(", ")
        }], expected [${texts.length}, seq, ${hiddenSize}] (hidden size from config.json)`,
      );
    }
    const pooled = meanPoolRealTokens(
      h.data as ArrayLike<number>,
      tokens.attentionMask,
      b,
      len,
      dim,
    );
    for (const t of [...Object.values(out), enc.input_ids, enc.attention_mask]) t?.dispose?.();
    return pooled;
  }

  return {
    hiddenSize,
    fingerprint,
    onnxPath: onnx.path,
    files: FINGERPRINT_FILES,
    settings: {
      dtype,
      maxLength,
      batchSize,
      device: opts.device ?? "cpu",
      pooling: "mean-real-tokens",
    },
    async embedPooled(
      texts: readonly string[],
      onRows?: (rows: number) => void,
    ): Promise<Float32Array> {
      if (disposed) throw new KitError(`${modelId}: used after dispose()`);
      const out = new Float32Array(texts.length * hiddenSize);
      // Similar lengths in one batch pad less; rows go back to input order.
      const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
      for (let s = 0; s < order.length; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        const pooled = await embedBatch(idx.map((i) => texts[i]!));
        idx.forEach((i, r) =>
          out.set(pooled.subarray(r * hiddenSize, (r + 1) * hiddenSize), i * hiddenSize)
        );
        onRows?.(idx.length);
      }
      return out;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      void model.dispose().catch(() => {});
    },
  };
}
