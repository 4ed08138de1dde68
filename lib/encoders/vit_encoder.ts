import { tf } from "../backend/tf.ts";
import { gelu } from "../heads/gelu.ts";
import { KitError } from "../util/kit_error.ts";
import type { VitConfig } from "./encoder_config.ts";
import { ParameterSet, type ParameterSpec } from "./parameter_set.ts";
import { layerNorm, linear, selfAttention } from "./transformer_ops.ts";
import type { Dropout } from "./dropout.ts";

/** Options of `VitEncoder`. */
export interface VitOptions {
  seed?: number;
  /** Add an image-classification head `classifier.*` with this many classes (default none). */
  numLabels?: number;
  /** Uniform instead of truncated-normal initial weights (same std), for benchmarks. */
  fastInit?: boolean;
}

/**
 * ViT's image encoder (`ViTForImageClassification` layout) in TF.js: non-overlapping patch
 * embedding (the `Conv2d(kernel = stride = patch)` written as a matmul of flattened patches),
 * a CLS token, learned position embeddings, pre-LN encoder layers (LayerNorm → attention → add,
 * LayerNorm → GELU MLP → add) and the final LayerNorm; `meanPool` averages all tokens of the last
 * hidden state (CLS included), as paper K's code pools. Names are Hugging Face's
 * (`vit.embeddings.patch_embeddings.projection.weight` `[d, C, p, p]`, `vit.encoder.layer.0.attention.attention.query.weight`, …).
 */
export class VitEncoder {
  readonly kind = "vit" as const;
  readonly config: VitConfig;
  readonly params: ParameterSet;
  readonly prefix = "vit.";
  readonly numLabels: number;

  constructor(config: VitConfig, opts: VitOptions = {}) {
    if (!config.qkv_bias) {
      throw new KitError(
        "ViT: qkv_bias false is not supported (every ViT checkpoint the kit reads has it)",
      );
    }
    this.config = config;
    this.numLabels = opts.numLabels ?? 0;
    this.params = new ParameterSet(vitParameterSpecs(config, this.numLabels), opts.seed ?? 0, {
      fastInit: opts.fastInit,
    });
  }

  get dim(): number {
    return this.config.hidden_size;
  }

  /** Patches per image. */
  get numPatches(): number {
    return (this.config.image_size / this.config.patch_size) ** 2;
  }

  #p(name: string): tf.Tensor {
    return this.params.tensor(this.prefix + name);
  }

  /**
   * Rearranges normalised pixels (`batch` images, each `C×H×W` row-major) into flattened
   * patches `[batch·patches, C·p·p]`, patches in row-major order, each flattened in the
   * `[C, p, p]` order of the convolution weight.
   */
  patchify(pixels: Float32Array, batch: number): Float32Array {
    const { num_channels: C, image_size: S, patch_size: P } = this.config;
    if (pixels.length !== batch * C * S * S) {
      throw new KitError(
        `ViT: ${pixels.length} pixel values for ${batch} images of ${C}×${S}×${S}`,
      );
    }
    const g = S / P, np = g * g, pl = C * P * P;
    const out = new Float32Array(batch * np * pl);
    let o = 0;
    for (let b = 0; b < batch; b++) {
      const base = b * C * S * S;
      for (let py = 0; py < g; py++) {
        for (let px = 0; px < g; px++) {
          for (let c = 0; c < C; c++) {
            for (let y = 0; y < P; y++) {
              const row = base + c * S * S + (py * P + y) * S + px * P;
              for (let x = 0; x < P; x++) out[o++] = pixels[row + x]!;
            }
          }
        }
      }
    }
    return out;
  }

  /**
   * Last hidden states `[batch·(patches+1), d]` (after the final LayerNorm) from flattened
   * patches `[batch·patches, C·p·p]`. Call inside `tf.tidy`. With `dropout` (training mode),
   * Hugging Face's ViT dropout sites: after the position embeddings, on the attention
   * probabilities, and on each sub-layer's output before its residual add.
   */
  encode(patches: tf.Tensor2D, batch: number, dropout?: Dropout): tf.Tensor2D {
    const c = this.config, d = this.dim, np = this.numPatches;
    const tokens = np + 1;
    const w = this.#p("embeddings.patch_embeddings.projection.weight");
    const emb = linear(
      patches,
      tf.reshape(w, [d, c.num_channels * c.patch_size * c.patch_size]),
      this.#p("embeddings.patch_embeddings.projection.bias"),
    );
    const cls = tf.broadcastTo(this.#p("embeddings.cls_token"), [batch, 1, d]);
    const seq = tf.add(
      tf.concat([cls, tf.reshape(emb, [batch, np, d])], 1),
      this.#p("embeddings.position_embeddings"),
    );
    const drop = <T extends tf.Tensor>(t: T, which: "hidden" | "attention"): T =>
      dropout ? dropout.apply(t, which) : t;
    let x = drop(tf.reshape(seq, [batch * tokens, d]) as tf.Tensor2D, "hidden");
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = (n: string) => this.#p(`encoder.layer.${l}.${n}`);
      const h1 = layerNorm(
        x,
        p("layernorm_before.weight"),
        p("layernorm_before.bias"),
        c.layer_norm_eps,
      );
      const a = selfAttention(
        h1,
        batch,
        tokens,
        c.num_attention_heads,
        {
          qW: p("attention.attention.query.weight"),
          qB: p("attention.attention.query.bias"),
          kW: p("attention.attention.key.weight"),
          kB: p("attention.attention.key.bias"),
          vW: p("attention.attention.value.weight"),
          vB: p("attention.attention.value.bias"),
          oW: p("attention.output.dense.weight"),
          oB: p("attention.output.dense.bias"),
        },
        null,
        dropout ? (pr) => drop(pr, "attention") : undefined,
      );
      x = tf.add(x, drop(a, "hidden")) as tf.Tensor2D;
      const h2 = layerNorm(
        x,
        p("layernorm_after.weight"),
        p("layernorm_after.bias"),
        c.layer_norm_eps,
      );
      const f = linear(
        gelu(linear(h2, p("intermediate.dense.weight"), p("intermediate.dense.bias"))),
        p("output.dense.weight"),
        p("output.dense.bias"),
      );
      x = tf.add(x, drop(f, "hidden")) as tf.Tensor2D;
    }
    return layerNorm(x, this.#p("layernorm.weight"), this.#p("layernorm.bias"), c.layer_norm_eps);
  }

  /** Mean over all tokens (CLS and patches) of each image: `[batch, d]`. */
  meanPool(hidden: tf.Tensor2D, batch: number): tf.Tensor2D {
    return tf.mean(tf.reshape(hidden, [batch, this.numPatches + 1, this.dim]), 1) as tf.Tensor2D;
  }

  /** Mean-pooled image embeddings `[batch, d]` from normalised pixels. Call inside `tf.tidy`. */
  embed(pixels: Float32Array, batch: number): tf.Tensor2D {
    const c = this.config;
    const patches = tf.tensor2d(this.patchify(pixels, batch), [
      batch * this.numPatches,
      c.num_channels * c.patch_size * c.patch_size,
    ]);
    return this.meanPool(this.encode(patches, batch), batch);
  }

  /** Class logits `[batch, numLabels]` of pooled embeddings (`classifier.*`). */
  classify(pooled: tf.Tensor2D): tf.Tensor2D {
    if (this.numLabels === 0) throw new KitError("ViT: this model has no classifier head");
    return linear(
      pooled,
      this.params.tensor("classifier.weight"),
      this.params.tensor("classifier.bias"),
    );
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** The parameter list of a ViT encoder (Hugging Face names, shapes and initialisation). */
export function vitParameterSpecs(c: VitConfig, numLabels: number): ParameterSpec[] {
  const d = c.hidden_size, ff = c.intermediate_size, P = c.patch_size;
  const np = (c.image_size / P) ** 2;
  const tn = { kind: "truncnormal", std: 0.02 } as const;
  const zeros = { kind: "zeros" } as const, ones = { kind: "ones" } as const;
  const pre = "vit.";
  const specs: ParameterSpec[] = [
    { name: `${pre}embeddings.cls_token`, shape: [1, 1, d], init: tn },
    { name: `${pre}embeddings.position_embeddings`, shape: [1, np + 1, d], init: tn },
    {
      name: `${pre}embeddings.patch_embeddings.projection.weight`,
      shape: [d, c.num_channels, P, P],
      init: tn,
    },
    { name: `${pre}embeddings.patch_embeddings.projection.bias`, shape: [d], init: zeros },
  ];
  const lin = (name: string, out: number, inp: number, bias = true) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], init: tn });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], init: zeros });
  };
  const ln = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [d], init: ones });
    specs.push({ name: `${name}.bias`, shape: [d], init: zeros });
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `${pre}encoder.layer.${l}.`;
    ln(`${p}layernorm_before`);
    lin(`${p}attention.attention.query`, d, d);
    lin(`${p}attention.attention.key`, d, d);
    lin(`${p}attention.attention.value`, d, d);
    lin(`${p}attention.output.dense`, d, d);
    ln(`${p}layernorm_after`);
    lin(`${p}intermediate.dense`, ff, d);
    lin(`${p}output.dense`, d, ff);
  }
  ln(`${pre}layernorm`);
  if (numLabels > 0) {
    specs.push({ name: "classifier.weight", shape: [numLabels, d], init: tn, optional: true });
    specs.push({ name: "classifier.bias", shape: [numLabels], init: zeros, optional: true });
  }
  return specs;
}
