import { join } from "node:path";
import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import { readEncoderConfig, type XlmRobertaConfig } from "./encoder_config.ts";
import { makeBatchTokenizer } from "./pretrained/token_batch.ts";
import { loadTransformers } from "./pretrained/transformers_runtime.ts";
import { loadSafetensorsWeights } from "./safetensors_weights.ts";
import { XlmRobertaEncoder } from "./xlm_roberta_encoder.ts";

/** Options of `loadSafetensorsTextModel`. */
export interface SafetensorsTextModelOptions {
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /**
   * Truncation length, special tokens included, `</s>` kept (default 128, K's, or what the
   * config's position table allows).
   */
  maxLength?: number;
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
   * excluded), `texts.length × hiddenSize` row-major float32, batch by batch; `onBatch` is
   * called with the number of texts done.
   */
  embed(texts: readonly string[], onBatch?: (done: number) => void): Promise<Float32Array>;
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
  for (const f of ["model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
    try {
      await Deno.stat(join(folder, f));
    } catch {
      throw new KitError(`${folder}: ${f} is missing`, [
        "a model folder holds config.json, model.safetensors, tokenizer.json and tokenizer_config.json",
      ]);
    }
  }
  const encoder = new XlmRobertaEncoder(c, { hostWordEmbeddings: true });
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
    const batchTokens = makeBatchTokenizer(tokenizer, maxLength);
    const tokenize = (texts: readonly string[]) => {
      const t = batchTokens(texts);
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
    return {
      folder,
      hiddenSize: c.hidden_size,
      encoder,
      tokenize,
      async embed(texts, onBatch) {
        const out = new Float32Array(texts.length * c.hidden_size);
        for (let i = 0; i < texts.length; i += batchSize) {
          const b = tokenize(texts.slice(i, i + batchSize));
          const e = tf.tidy(() => encoder.embed(b));
          out.set((await e.data()) as Float32Array, i * c.hidden_size);
          e.dispose();
          onBatch?.(Math.min(texts.length, i + batchSize));
        }
        return out;
      },
      dispose() {
        encoder.dispose();
      },
    };
  } catch (err) {
    encoder.dispose();
    throw err;
  }
}
