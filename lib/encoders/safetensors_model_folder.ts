import { join } from "node:path";
import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import { readEncoderConfig, type VitConfig, type XlmRobertaConfig } from "./encoder_config.ts";
import { vitProcessorPixels } from "./vit_image_processor.ts";
import { VitEncoder } from "./vit_encoder.ts";
import { makeTextTokenizer, padTokenRows } from "./pretrained/token_batch.ts";
import { loadTransformers } from "./pretrained/transformers_runtime.ts";
import { loadSafetensorsWeights } from "./safetensors_weights.ts";
import { XlmRobertaEncoder } from "./xlm_roberta_encoder.ts";
import { wasmBatchLimit } from "./xlmr_wasm_heap_budget.ts";
import { textBatches, type TokenPaddingStats } from "./length_sorted_batches.ts";

/** The files of a Hugging Face XLM-R model folder the kit reads. */
export const XLMR_FOLDER_FILES = [
  "config.json",
  "model.safetensors",
  "tokenizer.json",
  "tokenizer_config.json",
] as const;

/** The files of a Hugging Face ViT model folder the kit reads. */
export const VIT_FOLDER_FILES = [
  "config.json",
  "model.safetensors",
  "preprocessor_config.json",
] as const;

/**
 * Checks that `folder` is a directory holding every one of `files`; else a KitError listing
 * all that are missing and the expected layout. `what` names the folder's role (e.g.
 * "KIT_K_TEXT_MODEL folder").
 */
export async function requireModelFolderFiles(
  folder: string,
  files: readonly string[],
  what = "model folder",
): Promise<void> {
  const layout = [
    `expected layout (a Hugging Face model folder):`,
    ...files.map((f) => `  ${join(folder, f)}`),
  ];
  let isDir = false;
  try {
    isDir = (await Deno.stat(folder)).isDirectory;
  } catch { /* absent */ }
  if (!isDir) throw new KitError(`${what} ${folder} does not exist or is not a folder`, layout);
  const missing: string[] = [];
  for (const f of files) {
    try {
      if (!(await Deno.stat(join(folder, f))).isFile) missing.push(f);
    } catch {
      missing.push(f);
    }
  }
  if (missing.length > 0) {
    throw new KitError(
      `${what} ${folder} is incomplete: ${missing.join(", ")} ${
        missing.length === 1 ? "is" : "are"
      } missing`,
      layout,
    );
  }
}

/** Options of `loadSafetensorsTextModel`. */
export interface SafetensorsTextModelOptions {
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /**
   * Truncation length, special tokens included, `</s>` kept (default 128, K's, or what the
   * config's position table allows).
   */
  maxLength?: number;
  /**
   * Keep the word-embedding table on the host only, gathered in JavaScript (default true); false
   * puts it on the device like every other parameter (device-resident training, issue 24).
   */
  hostWordEmbeddings?: boolean;
  /**
   * The WASM heap's size limit that batches are fitted into (default 4 GiB, WebAssembly's; a
   * smaller value exercises the splitting in tests). Ignored on other backends.
   */
  wasmHeapLimitBytes?: number;
  /**
   * Batch texts in order of token count (stable; `textBatches`) instead of the caller's order,
   * and put the rows back in the caller's order: a batch pads to its longest text, so sorted
   * batches run fewer padded tokens (FLORES on the stand-in tokenizer: about half). Default
   * false: a row's value then depends only on the texts batched with it in the caller's order,
   * as before (sorting changes which texts share a batch and so, by float32 rounding, the last
   * bits of the rows). The paper profile's K encoders (`kSetupFolderEncoder`) turn it on.
   */
  sortByLength?: boolean;
}

/** A TF.js XLM-R model folder with its own tokenizer, embedding texts by masked mean pooling. */
export interface SafetensorsTextModel {
  readonly folder: string;
  readonly hiddenSize: number;
  readonly encoder: XlmRobertaEncoder;
  /** Token ids of `texts` as the folder's tokenizer gives them, padded with `pad_token_id`. */
  tokenize(texts: readonly string[]): { ids: Int32Array; batch: number; length: number };
  /**
   * Last hidden state mean-pooled over real tokens (`<s>` and `</s>` included, padding
   * excluded), `texts.length × hiddenSize` row-major float32 in the order of `texts`, batch by
   * batch (batches in order of token count with `sortByLength`); `onBatch` is called after each
   * batch with the number of texts done so far (increasing, `texts.length` at the end).
   */
  embed(texts: readonly string[], onBatch?: (done: number) => void): Promise<Float32Array>;
  /** Texts, real and padded tokens, and forward passes of every `embed` so far. */
  paddingStats(): TokenPaddingStats;
  dispose(): void;
}

/**
 * Loads a Hugging Face XLM-R model folder — `config.json`, `model.safetensors` (F32 or F16, read
 * tensor by tensor), `tokenizer.json` + `tokenizer_config.json` — into the kit's TF.js encoder
 * with the folder's own tokenizer (transformers.js `AutoTokenizer`, offline).
 */
export async function loadSafetensorsTextModel(
  folder: string,
  opts: SafetensorsTextModelOptions = {},
): Promise<SafetensorsTextModel> {
  const batchSize = opts.batchSize ?? 32;
  const sortBy = opts.sortByLength ?? false;
  const wasmLimit = opts.wasmHeapLimitBytes;
  await requireModelFolderFiles(folder, XLMR_FOLDER_FILES, "XLM-R model folder");
  const config = await readEncoderConfig(join(folder, "config.json"));
  if (config.model_type !== "xlm-roberta") {
    throw new KitError(
      `${join(folder, "config.json")}: model_type "${config.model_type}" is not a text model`,
      ["text embeddings need an XLM-R folder (model_type xlm-roberta)"],
    );
  }
  const c = config as XlmRobertaConfig;
  const maxLength = opts.maxLength ?? Math.min(128, c.max_position_embeddings - c.pad_token_id - 1);
  for (const [k, v] of Object.entries({ batchSize, maxLength })) {
    if (!Number.isInteger(v) || v < 1) throw new KitError(`${k} must be a positive integer`);
  }
  if (maxLength + c.pad_token_id + 1 > c.max_position_embeddings) {
    throw new KitError(
      `maxLength ${maxLength} needs ${maxLength + c.pad_token_id + 1} position embeddings; ${
        join(folder, "config.json")
      } has ${c.max_position_embeddings}`,
    );
  }
  // every parameter is read from model.safetensors below (none is optional without an LM head):
  // the quick uniform draws only fill the arrays first (XLM-R-large: 560M values; the normal
  // draws took ≈ 100 s of a reload on a busy 2-core machine)
  const encoder = new XlmRobertaEncoder(c, {
    hostWordEmbeddings: opts.hostWordEmbeddings ?? true,
    fastInit: true,
  });
  try {
    await loadSafetensorsWeights(encoder, join(folder, "model.safetensors"));
    const tjs = await loadTransformers();
    let tokenizer;
    try {
      tokenizer = await tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    } catch (err) {
      throw new KitError(
        `${folder}: the tokenizer cannot be loaded (${err instanceof Error ? err.message : err})`,
        ["tokenizer.json and tokenizer_config.json (tokenizer_class) must be in the folder"],
      );
    }
    const encodeText = makeTextTokenizer(tokenizer, maxLength);
    const padId = tokenizer.pad_token_id ?? 0;
    const padRows = (rows: readonly (readonly number[])[]) => {
      const t = padTokenRows(rows, padId);
      const ids = Int32Array.from(t.inputIds, (x) => Number(x));
      // The kit's encoder masks by pad id: a real token with the pad id would be dropped.
      t.attentionMask.forEach((m, i) => {
        if ((m === 1n) === (ids[i] === c.pad_token_id)) {
          throw new KitError(
            `${folder}: the tokenizer's padding does not use pad_token_id ${c.pad_token_id}`,
          );
        }
      });
      return { ids, batch: t.batch, length: t.seqLen };
    };
    const tokenize = (texts: readonly string[]) => padRows(texts.map(encodeText));
    const stats: TokenPaddingStats = { texts: 0, realTokens: 0, paddedTokens: 0, forwardPasses: 0 };
    const embedBatch = async (b: ReturnType<typeof tokenize>): Promise<Float32Array> => {
      let e: tf.Tensor2D;
      try {
        e = tf.tidy(() => encoder.embed(b));
      } catch (err) {
        // TF.js-WASM aborts (RuntimeError) when its heap cannot grow: say what and what to do
        if (err instanceof WebAssembly.RuntimeError || /Aborted\(|out of memory/.test(`${err}`)) {
          throw new KitError(
            `${folder}: embedding ${b.batch} texts × ${b.length} tokens failed in the ${tf.getBackend()} backend (${
              err instanceof Error ? err.message : err
            }), with ${(tf.memory().numBytes / 2 ** 30).toFixed(2)} GiB of tensors allocated`,
            [
              "WASM's heap is limited to 4 GiB: pass a smaller batchSize, or use --backend cpu",
              "the WASM runtime is unusable after this error: restart the process (notebook kernel)",
            ],
          );
        }
        throw err;
      }
      try {
        return (await e.data()) as Float32Array;
      } finally {
        e.dispose();
      }
    };
    return {
      folder,
      hiddenSize: c.hidden_size,
      encoder,
      tokenize,
      async embed(texts, onBatch) {
        const h = c.hidden_size;
        const out = new Float32Array(texts.length * h);
        const rows = texts.map(encodeText);
        let done = 0;
        for (const idx of textBatches(rows.map((r) => r.length), batchSize, sortBy)) {
          const part = idx.map((i) => rows[i]!);
          const whole = padRows(part);
          // WASM's 4 GiB heap: a batch whose one layer of activations does not fit beside the
          // weights runs in smaller forward passes (each padded to its own longest text; the
          // rows are the same within float32 rounding)
          const fits = tf.getBackend() === "wasm"
            ? wasmBatchLimit(c, whole.batch, whole.length, tf.memory().numBytes, wasmLimit)
            : whole.batch;
          for (let j = 0; j < part.length; j += fits) {
            const b = fits < whole.batch ? padRows(part.slice(j, j + fits)) : whole;
            const values = await embedBatch(b);
            for (let k = 0; k < b.batch; k++) {
              out.set(values.subarray(k * h, (k + 1) * h), idx[j + k]! * h);
              stats.realTokens += part[j + k]!.length;
            }
            stats.texts += b.batch;
            stats.paddedTokens += b.batch * b.length;
            stats.forwardPasses += 1;
          }
          done += idx.length;
          onBatch?.(done);
        }
        return out;
      },
      paddingStats: () => ({ ...stats }),
      dispose() {
        encoder.dispose();
      },
    };
  } catch (err) {
    encoder.dispose();
    throw err;
  }
}

/** A TF.js ViT model folder with its own image preprocessing. */
export interface SafetensorsImageModel {
  readonly folder: string;
  readonly hiddenSize: number;
  readonly encoder: VitEncoder;
  /** The config the pixels are prepared with (size, mean and std from preprocessor_config.json). */
  readonly preprocess: VitConfig;
  /** Mean-pooled last hidden states (all tokens, CLS included) of encoded images (PNG/JPEG). */
  embed(
    images: readonly Uint8Array[],
    onBatch?: (done: number) => void,
    /** The images' files (or names), for the error naming one that cannot be decoded. */
    labels?: readonly string[],
  ): Promise<Float32Array>;
  dispose(): void;
}

/**
 * The ViT preprocessing of a folder's `preprocessor_config.json` (`ViTImageProcessor`): resize
 * to `size` with bilinear resampling (`resample` 2), rescale by 1/255, normalise with
 * `image_mean`/`image_std`. Other settings are a KitError naming the key.
 */
export async function readVitPreprocessing(folder: string, c: VitConfig): Promise<VitConfig> {
  const path = join(folder, "preprocessor_config.json");
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new KitError(`${path}: cannot read (${err instanceof Error ? err.message : err})`);
  }
  const size = raw.size as { height?: number; width?: number } | number | undefined;
  const h = typeof size === "number" ? size : size?.height,
    w = typeof size === "number" ? size : size?.width;
  if (raw.do_resize === false || h !== c.image_size || w !== c.image_size) {
    throw new KitError(
      `${path}: "size" must be ${c.image_size}×${c.image_size} (the model's image_size)`,
    );
  }
  if (raw.resample !== undefined && raw.resample !== 2) {
    throw new KitError(`${path}: "resample" ${raw.resample} is not supported (only 2, bilinear)`);
  }
  if (
    raw.do_rescale === false ||
    (raw.rescale_factor !== undefined && Math.abs((raw.rescale_factor as number) - 1 / 255) > 1e-9)
  ) {
    throw new KitError(`${path}: only rescaling by 1/255 is supported`);
  }
  const vec = (k: string): number[] => {
    const v = raw[k];
    if (raw.do_normalize === false) return Array(c.num_channels).fill(k === "image_mean" ? 0 : 1);
    if (!Array.isArray(v) || v.length !== c.num_channels || v.some((x) => typeof x !== "number")) {
      throw new KitError(`${path}: "${k}" must be ${c.num_channels} numbers`);
    }
    return v as number[];
  };
  return { ...c, image_mean: vec("image_mean"), image_std: vec("image_std") };
}

/**
 * Loads a Hugging Face ViT model folder — `config.json`, `model.safetensors` (read tensor by
 * tensor), `preprocessor_config.json` — into the kit's TF.js ViT encoder.
 */
export async function loadSafetensorsImageModel(
  folder: string,
  opts: { batchSize?: number } = {},
): Promise<SafetensorsImageModel> {
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new KitError(`batchSize must be a positive integer`);
  }
  await requireModelFolderFiles(folder, VIT_FOLDER_FILES, "ViT model folder");
  const config = await readEncoderConfig(join(folder, "config.json"));
  if (config.model_type !== "vit") {
    throw new KitError(
      `${join(folder, "config.json")}: model_type "${config.model_type}" is not an image model`,
    );
  }
  const preprocess = await readVitPreprocessing(folder, config);
  const encoder = new VitEncoder(config);
  try {
    await loadSafetensorsWeights(encoder, join(folder, "model.safetensors"));
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  return {
    folder,
    hiddenSize: config.hidden_size,
    encoder,
    preprocess,
    async embed(images, onBatch, labels) {
      const out = new Float32Array(images.length * config.hidden_size);
      for (let i = 0; i < images.length; i += batchSize) {
        const part = images.slice(i, i + batchSize);
        const names = part.map((_, j) => labels?.[i + j] ?? `image ${i + j}`);
        const px = await vitProcessorPixels(part, preprocess, names);
        const e = tf.tidy(() => encoder.embed(px, part.length));
        out.set((await e.data()) as Float32Array, i * config.hidden_size);
        e.dispose();
        onBatch?.(Math.min(images.length, i + batchSize));
      }
      return out;
    },
    dispose() {
      encoder.dispose();
    },
  };
}
