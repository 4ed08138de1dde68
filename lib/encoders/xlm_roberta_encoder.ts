import { tf } from "../backend/tf.ts";
import { gelu } from "../heads/gelu.ts";
import { KitError } from "../util/kit_error.ts";
import type { XlmRobertaConfig } from "./encoder_config.ts";
import { ParameterSet, type ParameterSpec, type ParameterState } from "./parameter_set.ts";
import { layerNorm, linear, selfAttention } from "./transformer_ops.ts";
import type { Dropout } from "./dropout.ts";

/** Token ids of `batch` sequences padded to `length` with the config's `pad_token_id`. */
export interface TokenBatch {
  readonly ids: Int32Array;
  readonly batch: number;
  readonly length: number;
}

/** Options of `XlmRobertaEncoder`. */
export interface XlmRobertaOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Add the masked-LM head (`lm_head.*`, decoder tied to the word embeddings). Default false. */
  lmHead?: boolean;
  /**
   * Keep the word-embedding table on the host only (no device copy; it is only gathered in
   * JavaScript). Not allowed with `lmHead` (the tied decoder needs it on the device). Default
   * false; real-shape training sets it (XLM-R-large's table is 1 GB).
   */
  hostWordEmbeddings?: boolean;
  /** Uniform instead of normal initial weights (same std; see `ParameterSet`), for benchmarks. */
  fastInit?: boolean;
}

/** Gradient rows of an embedding table: only the rows a batch looked up. */
export interface SparseRowGrad {
  /** Row indices, ascending, distinct. */
  readonly rows: Int32Array;
  /** `rows.length × width` gradient values, row-major in the order of `rows`. */
  readonly values: Float32Array;
  readonly width: number;
}

const NEG_INF = -1e9;

/**
 * XLM-RoBERTa's encoder (`XLMRobertaForMaskedLM` layout) in TF.js: word + position + token-type
 * embeddings (positions as Hugging Face's `create_position_ids_from_input_ids`: real tokens count
 * from `pad_token_id + 1`, padding keeps `pad_token_id`), embedding LayerNorm, post-LN encoder
 * layers (self-attention → add & LayerNorm → GELU MLP → add & LayerNorm), and mean pooling over
 * the real (non-padding) tokens. Parameter names and `[out, in]` Linear layouts are Hugging
 * Face's (`roberta.embeddings.word_embeddings.weight`, `roberta.encoder.layer.0.attention.self.query.weight`, …),
 * so `loadSafetensorsWeights` reads a downloaded checkpoint directly. Dropout is applied only
 * when `encode` is given a `Dropout` (K's paper-plan training); evaluation never passes one.
 *
 * Embedding rows are gathered in JavaScript (TF.js's WASM backend has no kernel for the gather
 * gradient); `embeddingGrad` scatters the gradient of the summed embeddings back.
 */
export class XlmRobertaEncoder {
  readonly kind = "xlm-roberta" as const;
  readonly config: XlmRobertaConfig;
  readonly params: ParameterSet;
  /** Prefix of the encoder's parameter names (`XLMRobertaForMaskedLM`). */
  readonly prefix = "roberta.";
  readonly hasLmHead: boolean;

  constructor(config: XlmRobertaConfig, opts: XlmRobertaOptions = {}) {
    this.config = config;
    this.hasLmHead = opts.lmHead ?? false;
    const hostWords = opts.hostWordEmbeddings ?? false;
    if (hostWords && this.hasLmHead) {
      throw new KitError("XLM-R: hostWordEmbeddings cannot be combined with lmHead (tied decoder)");
    }
    this.params = new ParameterSet(
      xlmRobertaParameterSpecs(config, this.hasLmHead, hostWords),
      opts.seed ?? 0,
      { fastInit: opts.fastInit },
    );
  }

  get dim(): number {
    return this.config.hidden_size;
  }

  #p(name: string): tf.Tensor {
    return this.params.tensor(this.prefix + name);
  }

  /** Hugging Face's position ids: `cumsum(ids ≠ pad)·(ids ≠ pad) + pad`. */
  positionIds(b: TokenBatch): Int32Array {
    const pad = this.config.pad_token_id;
    const out = new Int32Array(b.ids.length);
    for (let r = 0; r < b.batch; r++) {
      let n = 0;
      for (let t = 0; t < b.length; t++) {
        const i = r * b.length + t;
        if (b.ids[i] !== pad) {
          n += 1;
          out[i] = n + pad;
        } else out[i] = pad;
      }
    }
    return out;
  }

  #checkBatch(b: TokenBatch): void {
    const c = this.config;
    if (b.ids.length !== b.batch * b.length) {
      throw new KitError(`XLM-R: ${b.ids.length} token ids for a ${b.batch}×${b.length} batch`);
    }
    if (b.length + c.pad_token_id + 1 > c.max_position_embeddings) {
      throw new KitError(
        `XLM-R: sequences of ${b.length} tokens need ${
          b.length + c.pad_token_id + 1
        } position embeddings; the config has ${c.max_position_embeddings}`,
      );
    }
    for (let i = 0; i < b.ids.length; i++) {
      const id = b.ids[i]!;
      if (!(id >= 0 && id < c.vocab_size)) {
        throw new KitError(`XLM-R: token id ${id} outside the vocabulary [0, ${c.vocab_size})`);
      }
    }
  }

  /** The summed word + position + token-type(0) embeddings, `[batch·length, d]`, in plain JS. */
  embeddingInput(b: TokenBatch): Float32Array {
    this.#checkBatch(b);
    const d = this.dim;
    const word = this.params.values[`${this.prefix}embeddings.word_embeddings.weight`]!;
    const pos = this.params.values[`${this.prefix}embeddings.position_embeddings.weight`]!;
    const type = this.params.values[`${this.prefix}embeddings.token_type_embeddings.weight`]!;
    const posIds = this.positionIds(b);
    const out = new Float32Array(b.ids.length * d);
    for (let i = 0; i < b.ids.length; i++) {
      const w = b.ids[i]! * d, p = posIds[i]! * d, o = i * d;
      for (let j = 0; j < d; j++) out[o + j] = word[w + j]! + pos[p + j]! + type[j]!;
    }
    return out;
  }

  /** Adds the gradient of `embeddingInput`'s output (`gradInput`) to the embedding tables' gradients. */
  embeddingGrad(b: TokenBatch, gradInput: Float32Array, grads: ParameterState): void {
    const d = this.dim;
    const names = ["word_embeddings", "position_embeddings", "token_type_embeddings"].map((n) =>
      `${this.prefix}embeddings.${n}.weight`
    );
    for (const n of names) {
      if (!grads[n]) grads[n] = new Float32Array(this.params.values[n]!.length);
    }
    const [gw, gp, gt] = names.map((n) => grads[n]!) as [Float32Array, Float32Array, Float32Array];
    const posIds = this.positionIds(b);
    for (let i = 0; i < b.ids.length; i++) {
      const w = b.ids[i]! * d, p = posIds[i]! * d, o = i * d;
      for (let j = 0; j < d; j++) {
        const g = gradInput[o + j]!;
        gw[w + j] = gw[w + j]! + g;
        gp[p + j] = gp[p + j]! + g;
        gt[j] = gt[j]! + g;
      }
    }
  }

  /**
   * Like `embeddingGrad`, but the word-embedding table's gradient is returned as the rows the
   * batch looked up (`SparseRowGrad`) instead of a dense `vocab × d` array; the position and
   * token-type gradients are added to `grads` densely (they are small).
   */
  embeddingGradSparse(
    b: TokenBatch,
    gradInput: Float32Array,
    grads: ParameterState,
  ): SparseRowGrad {
    const d = this.dim;
    const rows = Int32Array.from(new Set(b.ids)).sort();
    const slot = new Map<number, number>();
    rows.forEach((r, k) => slot.set(r, k));
    const values = new Float32Array(rows.length * d);
    const pn = `${this.prefix}embeddings.position_embeddings.weight`;
    const tn = `${this.prefix}embeddings.token_type_embeddings.weight`;
    for (const n of [pn, tn]) {
      if (!grads[n]) grads[n] = new Float32Array(this.params.values[n]!.length);
    }
    const gp = grads[pn]!, gt = grads[tn]!;
    const posIds = this.positionIds(b);
    for (let i = 0; i < b.ids.length; i++) {
      const w = slot.get(b.ids[i]!)! * d, p = posIds[i]! * d, o = i * d;
      for (let j = 0; j < d; j++) {
        const g = gradInput[o + j]!;
        values[w + j] = values[w + j]! + g;
        gp[p + j] = gp[p + j]! + g;
        gt[j] = gt[j]! + g;
      }
    }
    return { rows, values, width: d };
  }

  /** 1 for real tokens, 0 for padding (`[batch·length]`). */
  realTokenMask(b: TokenBatch): Float32Array {
    const pad = this.config.pad_token_id;
    return Float32Array.from(b.ids, (id) => (id === pad ? 0 : 1));
  }

  /**
   * The last hidden states `[batch·length, d]` from the summed embeddings `input` (a tensor of
   * `embeddingInput(b)`, so callers can take its gradient). Call inside `tf.tidy`. With `dropout`
   * (training mode), Hugging Face's RoBERTa dropout sites: after the embedding LayerNorm, on the
   * attention probabilities, and on each sub-layer's output before its residual add.
   */
  encode(b: TokenBatch, input: tf.Tensor2D, dropout?: Dropout): tf.Tensor2D {
    const maskBias = this.#maskBias(b);
    let x = this.#embeddingNorm(input, dropout);
    for (let l = 0; l < this.config.num_hidden_layers; l++) {
      x = this.#layer(l, x, b, maskBias, dropout);
    }
    return x;
  }

  /** `[batch, 1, 1, length]`: 0 for real tokens, a large negative number for padding (null: none). */
  #maskBias(b: TokenBatch): tf.Tensor4D | null {
    const mask = this.realTokenMask(b);
    let anyPad = false;
    const bias = new Float32Array(mask.length);
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0) {
        bias[i] = NEG_INF;
        anyPad = true;
      }
    }
    return anyPad ? tf.tensor4d(bias, [b.batch, 1, 1, b.length]) : null;
  }

  #embeddingNorm(input: tf.Tensor2D, dropout?: Dropout): tf.Tensor2D {
    const x = layerNorm(
      input,
      this.#p("embeddings.LayerNorm.weight"),
      this.#p("embeddings.LayerNorm.bias"),
      this.config.layer_norm_eps,
    );
    return dropout ? dropout.apply(x, "hidden") : x;
  }

  /** Encoder layer `l` (post-LN: self-attention → add & LayerNorm → GELU MLP → add & LayerNorm). */
  #layer(
    l: number,
    x: tf.Tensor2D,
    b: TokenBatch,
    maskBias: tf.Tensor | null,
    dropout?: Dropout,
  ): tf.Tensor2D {
    const c = this.config;
    const drop = <T extends tf.Tensor>(t: T, which: "hidden" | "attention"): T =>
      dropout ? dropout.apply(t, which) : t;
    const pre = `encoder.layer.${l}.`;
    const p = (n: string) => this.#p(pre + n);
    const a = selfAttention(
      x,
      b.batch,
      b.length,
      c.num_attention_heads,
      {
        qW: p("attention.self.query.weight"),
        qB: p("attention.self.query.bias"),
        kW: p("attention.self.key.weight"),
        kB: p("attention.self.key.bias"),
        vW: p("attention.self.value.weight"),
        vB: p("attention.self.value.bias"),
        oW: p("attention.output.dense.weight"),
        oB: p("attention.output.dense.bias"),
      },
      maskBias,
      dropout ? (pr) => drop(pr, "attention") : undefined,
    );
    const y = layerNorm(
      tf.add(x, drop(a, "hidden")) as tf.Tensor2D,
      p("attention.output.LayerNorm.weight"),
      p("attention.output.LayerNorm.bias"),
      c.layer_norm_eps,
    );
    const h = gelu(linear(y, p("intermediate.dense.weight"), p("intermediate.dense.bias")));
    const f = linear(h, p("output.dense.weight"), p("output.dense.bias"));
    return layerNorm(
      tf.add(y, drop(f, "hidden")) as tf.Tensor2D,
      p("output.LayerNorm.weight"),
      p("output.LayerNorm.bias"),
      c.layer_norm_eps,
    );
  }

  /** Mean of the hidden states over each sequence's real tokens: `[batch, d]`. Call inside `tf.tidy`. */
  meanPool(b: TokenBatch, hidden: tf.Tensor2D): tf.Tensor2D {
    const mask = this.realTokenMask(b);
    const w = new Float32Array(mask.length);
    for (let r = 0; r < b.batch; r++) {
      let n = 0;
      for (let t = 0; t < b.length; t++) n += mask[r * b.length + t]!;
      for (let t = 0; t < b.length; t++) {
        w[r * b.length + t] = mask[r * b.length + t]! / Math.max(1, n);
      }
    }
    const h3 = tf.reshape(hidden, [b.batch, b.length, this.dim]);
    return tf.sum(tf.mul(h3, tf.tensor3d(w, [b.batch, b.length, 1])), 1) as tf.Tensor2D;
  }

  /**
   * Mean-pooled sentence embeddings `[batch, d]` (inference; the same arithmetic as
   * `meanPool(encode(…))`). Each layer runs in its own `tf.tidy`, so only one layer's
   * intermediates are alive at a time: under one enclosing tidy all 24 layers' intermediates of
   * XLM-R-large stayed allocated until the end (≈ 53 width-vectors a token a layer: ≈ 8.8 GB at
   * 32 FLORES sentences of ~50 tokens), past WASM's 4 GiB heap ("Aborted()" at batch ≥ 16).
   * May be called inside `tf.tidy`; not for gradients (intermediates are disposed).
   */
  embed(b: TokenBatch): tf.Tensor2D {
    const maskBias = this.#maskBias(b);
    try {
      let x = tf.tidy(() =>
        this.#embeddingNorm(tf.tensor2d(this.embeddingInput(b), [b.batch * b.length, this.dim]))
      );
      for (let l = 0; l < this.config.num_hidden_layers; l++) {
        const next = tf.tidy(() => this.#layer(l, x, b, maskBias));
        x.dispose();
        x = next;
      }
      const pooled = tf.tidy(() => this.meanPool(b, x));
      x.dispose();
      return pooled;
    } finally {
      maskBias?.dispose();
    }
  }

  /**
   * Masked-LM logits `[rows, vocab]` of hidden-state rows: `lm_head.dense` → GELU →
   * `lm_head.layer_norm` → tied decoder (word embeddings) + `lm_head.bias`.
   */
  lmLogits(rows: tf.Tensor2D): tf.Tensor2D {
    if (!this.hasLmHead) {
      throw new KitError("XLM-R: this model was built without the masked-LM head");
    }
    const h = gelu(
      linear(
        rows,
        this.params.tensor("lm_head.dense.weight"),
        this.params.tensor("lm_head.dense.bias"),
      ),
    );
    const n = layerNorm(
      h,
      this.params.tensor("lm_head.layer_norm.weight"),
      this.params.tensor("lm_head.layer_norm.bias"),
      this.config.layer_norm_eps,
    );
    return linear(
      n,
      this.#p("embeddings.word_embeddings.weight"),
      this.params.tensor("lm_head.bias"),
    );
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** The parameter list of an XLM-R encoder (Hugging Face names, shapes and initialisation). */
export function xlmRobertaParameterSpecs(
  c: XlmRobertaConfig,
  lmHead: boolean,
  hostWordEmbeddings = false,
): ParameterSpec[] {
  const d = c.hidden_size, ff = c.intermediate_size;
  const std = 0.02;
  const normal = { kind: "normal", std } as const;
  const zeros = { kind: "zeros" } as const, ones = { kind: "ones" } as const;
  const pre = "roberta.";
  const specs: ParameterSpec[] = [
    {
      name: `${pre}embeddings.word_embeddings.weight`,
      shape: [c.vocab_size, d],
      init: normal,
      zeroRow: c.pad_token_id,
      hostOnly: hostWordEmbeddings,
    },
    {
      name: `${pre}embeddings.position_embeddings.weight`,
      shape: [c.max_position_embeddings, d],
      init: normal,
      zeroRow: c.pad_token_id,
    },
    {
      name: `${pre}embeddings.token_type_embeddings.weight`,
      shape: [c.type_vocab_size, d],
      init: normal,
    },
    { name: `${pre}embeddings.LayerNorm.weight`, shape: [d], init: ones },
    { name: `${pre}embeddings.LayerNorm.bias`, shape: [d], init: zeros },
  ];
  const lin = (name: string, out: number, inp: number) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], init: normal });
    specs.push({ name: `${name}.bias`, shape: [out], init: zeros });
  };
  const ln = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [d], init: ones });
    specs.push({ name: `${name}.bias`, shape: [d], init: zeros });
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `${pre}encoder.layer.${l}.`;
    lin(`${p}attention.self.query`, d, d);
    lin(`${p}attention.self.key`, d, d);
    lin(`${p}attention.self.value`, d, d);
    lin(`${p}attention.output.dense`, d, d);
    ln(`${p}attention.output.LayerNorm`);
    lin(`${p}intermediate.dense`, ff, d);
    lin(`${p}output.dense`, d, ff);
    ln(`${p}output.LayerNorm`);
  }
  if (lmHead) {
    specs.push({ name: "lm_head.dense.weight", shape: [d, d], init: normal, optional: true });
    specs.push({ name: "lm_head.dense.bias", shape: [d], init: zeros, optional: true });
    specs.push({ name: "lm_head.layer_norm.weight", shape: [d], init: ones, optional: true });
    specs.push({ name: "lm_head.layer_norm.bias", shape: [d], init: zeros, optional: true });
    specs.push({ name: "lm_head.bias", shape: [c.vocab_size], init: zeros, optional: true });
  }
  return specs;
}
