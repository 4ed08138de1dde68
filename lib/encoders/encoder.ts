import type { RowMatrix } from "../retrieval/row_matrix.ts";

/**
 * Options of an encoder's `embed`. `onRows` is a progress hook, called as batches finish with the
 * number of rows just embedded; encoders may ignore it (a caller then counts all rows when `embed`
 * returns). Nothing here may change the rows.
 */
export interface EmbedOptions {
  readonly onRows?: (rows: number) => void;
}

/**
 * A frozen sentence encoder: the one interface every evaluation notebook (bitext retrieval,
 * XNLI, paper D's diagnostics) embeds text through, whatever is behind it — a mini model the kit
 * trained, a TF.js model loaded from Hugging Face safetensors, or a transformers.js ONNX model.
 *
 * Rows come back in input order, **not** normalised (callers normalise where a metric says so).
 */
export interface SentenceEncoder {
  /** Stable identifier, e.g. `mini/k/multilingual@3f2a9c1d` or `hf/clip-ViT-B-32-multilingual-v1`. */
  readonly id: string;
  /** Embedding width. */
  readonly dim: number;
  /**
   * sha256 of everything besides code that decides the outputs (weights, tokenizer, configs),
   * e.g. `modelFolderFingerprint` of a kit model's folder. Result caches (lib/eval_cache) key on
   * it; an encoder without one is never cached.
   */
  readonly fingerprint?: string;
  /** Embeds `texts` written in language `lang` (ISO 639-1 or FLORES code; encoders may ignore it). */
  embed(texts: readonly string[], lang: string, opts?: EmbedOptions): Promise<RowMatrix>;
  /** Frees tensors/sessions held by the encoder. Idempotent. */
  dispose(): void;
}

/** A frozen image encoder over encoded image files (PNG/JPEG bytes). */
export interface ImageEncoder {
  readonly id: string;
  readonly dim: number;
  /** As `SentenceEncoder.fingerprint`. */
  readonly fingerprint?: string;
  /** Embeds images given as encoded PNG/JPEG bytes; rows in input order, not normalised. */
  embed(images: readonly Uint8Array[], opts?: EmbedOptions): Promise<RowMatrix>;
  dispose(): void;
}

/** Paper K's setups ([K] Table 1), in table order. `xlmr` is the untuned encoder. */
export const K_SETUPS = [
  "xlmr",
  "eng-only",
  "eng-pivot",
  "multilingual",
  "multilingual-qu",
] as const;
export type KSetupId = typeof K_SETUPS[number];

/** Display names of K's setups, as the paper writes them. */
export const K_SETUP_LABELS: Readonly<Record<KSetupId, string>> = {
  "xlmr": "XLM-R",
  "eng-only": "Eng-Only",
  "eng-pivot": "Eng-Pivot",
  "multilingual": "Multilingual",
  "multilingual-qu": "Multilingual+Quechua",
};
