import { tf } from "../backend/tf.ts";
import type { ImageEncoder, SentenceEncoder } from "../encoders/encoder.ts";
import type { SubwordTokenizer } from "../encoders/subword_tokenizer.ts";
import type { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import type { VitEncoder } from "../encoders/vit_encoder.ts";
import { imagePixels } from "../encoders/image_pixels.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";

/** An optional map applied to pooled embeddings (a projection or Dense layer). */
export type RowMap = (x: tf.Tensor2D) => tf.Tensor2D;

const BATCH = 128;

/**
 * A `SentenceEncoder` over one of the kit's TF.js XLM-R models: tokenises with the model's own
 * tokenizer, mean-pools the last hidden state over real tokens, then applies `project` when
 * given (e.g. paper D's Dense layer). Batches of 128 texts of similar token count (little
 * padding); reads with `await data()` (WebGPU-safe).
 */
export class MiniSentenceEncoder implements SentenceEncoder {
  readonly id: string;
  readonly dim: number;
  readonly fingerprint?: string;
  readonly #model: XlmRobertaEncoder;
  readonly #tokenizer: SubwordTokenizer;
  readonly #maxLength: number;
  readonly #project: RowMap | null;
  readonly #onDispose: () => void;
  #disposed = false;

  constructor(opts: {
    id: string;
    model: XlmRobertaEncoder;
    tokenizer: SubwordTokenizer;
    maxLength: number;
    project?: RowMap;
    dim?: number;
    onDispose?: () => void;
    /** See `SentenceEncoder.fingerprint` (e.g. `modelFolderFingerprint` of the model folder). */
    fingerprint?: string;
  }) {
    this.id = opts.id;
    if (opts.fingerprint !== undefined) this.fingerprint = opts.fingerprint;
    this.#model = opts.model;
    this.#tokenizer = opts.tokenizer;
    this.#maxLength = opts.maxLength;
    this.#project = opts.project ?? null;
    this.dim = opts.dim ?? opts.model.dim;
    this.#onDispose = opts.onDispose ?? (() => opts.model.dispose());
  }

  async embed(texts: readonly string[], _lang: string): Promise<RowMatrix> {
    const out = new Float32Array(texts.length * this.dim);
    // Batches of similar length pad less: texts are taken in order of token count (stable, so
    // deterministic) and each row is written back to its own place.
    const encoded = texts.map((t) => this.#tokenizer.encode(t, this.#maxLength));
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a]!.length - encoded[b]!.length);
    for (let i = 0; i < order.length; i += BATCH) {
      const rows = order.slice(i, i + BATCH);
      const b = this.#tokenizer.padBatch(rows.map((r) => encoded[r]!));
      const t = tf.tidy(() => {
        const pooled = this.#model.embed(b);
        return this.#project ? this.#project(pooled) : pooled;
      });
      const values = (await t.data()) as Float32Array;
      t.dispose();
      rows.forEach((r, k) =>
        out.set(values.subarray(k * this.dim, (k + 1) * this.dim), r * this.dim)
      );
    }
    return { data: out, rows: texts.length, cols: this.dim };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#onDispose();
  }
}

/** An `ImageEncoder` over one of the kit's TF.js ViT models (mean pooling, optional projection). */
export class MiniImageEncoder implements ImageEncoder {
  readonly id: string;
  readonly dim: number;
  readonly fingerprint?: string;
  readonly #model: VitEncoder;
  readonly #project: RowMap | null;
  readonly #onDispose: () => void;
  #disposed = false;

  constructor(
    opts: {
      id: string;
      model: VitEncoder;
      project?: RowMap;
      dim?: number;
      onDispose?: () => void;
      fingerprint?: string;
    },
  ) {
    this.id = opts.id;
    if (opts.fingerprint !== undefined) this.fingerprint = opts.fingerprint;
    this.#model = opts.model;
    this.#project = opts.project ?? null;
    this.dim = opts.dim ?? opts.model.dim;
    this.#onDispose = opts.onDispose ?? (() => opts.model.dispose());
  }

  async embed(images: readonly Uint8Array[]): Promise<RowMatrix> {
    const out = new Float32Array(images.length * this.dim);
    const c = this.#model.config;
    for (let i = 0; i < images.length; i += BATCH) {
      const chunk = images.slice(i, i + BATCH);
      const px = await imagePixels(chunk, c);
      const t = tf.tidy(() => {
        const pooled = this.#model.embed(px, chunk.length);
        return this.#project ? this.#project(pooled) : pooled;
      });
      out.set((await t.data()) as Float32Array, i * this.dim);
      t.dispose();
    }
    return { data: out, rows: images.length, cols: this.dim };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#onDispose();
  }
}
