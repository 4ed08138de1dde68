import { tf } from "../backend/tf.ts";
import { matMulFast } from "../backend/matmul.ts";
import { batchMatMulFast } from "./batch_mat_mul.ts";
import {
  addBias,
  fusedAttention,
  fusedAttentionWithProbs,
  fusedLayerNorm,
  webGpuFusedOpsActive,
} from "../backend/webgpu_fused_ops.ts";

/**
 * A Hugging Face `nn.Linear`: `y = x·Wᵀ + b` with `W` stored `[out, in]`, so checkpoint
 * weights are used as they are.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor2D {
  const y = matMulFast(x, weight as tf.Tensor2D, false, true);
  if (bias && webGpuFusedOpsActive()) return addBias(y, bias);
  return (bias ? tf.add(y, bias) : y) as tf.Tensor2D;
}

/** `nn.LayerNorm` over the last axis: `(x − mean)/sqrt(var + eps)·γ + β` (biased variance). */
export function layerNorm(
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): tf.Tensor2D {
  // WebGPU: one fused kernel pair (issue 24); other backends: the composite below
  if (webGpuFusedOpsActive()) return fusedLayerNorm(x, gamma, beta, eps);
  const mean = tf.mean(x, 1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), 1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
}

/** Weights of one multi-head self-attention block (query/key/value/output projections). */
export interface AttentionWeights {
  qW: tf.Tensor;
  qB: tf.Tensor;
  kW: tf.Tensor;
  kB: tf.Tensor;
  vW: tf.Tensor;
  vB: tf.Tensor;
  oW: tf.Tensor;
  oB: tf.Tensor;
}

/**
 * Multi-head scaled dot-product self-attention over `batch` sequences of `length` tokens
 * (`x` is `[batch·length, d]`), as BERT/ViT: `softmax(QKᵀ/√d_h + maskBias)·V` per head, heads
 * concatenated, then the output projection. `maskBias` (`[batch, 1, 1, length]`, 0 for real
 * tokens and a large negative number for padding) may be null when no token is padding.
 */
export function selfAttention(
  x: tf.Tensor2D,
  batch: number,
  length: number,
  heads: number,
  w: AttentionWeights,
  maskBias: tf.Tensor | null,
  /** Training mode: dropout of the attention probabilities (default none). */
  dropProbs?: (probs: tf.Tensor3D) => tf.Tensor3D,
): tf.Tensor2D {
  const d = x.shape[1];
  const dh = d / heads;
  if (webGpuFusedOpsActive()) {
    // WebGPU: attention on the projections' layout, no head transposes (issue 24)
    const q = linear(x, w.qW, w.qB), k = linear(x, w.kW, w.kB), v = linear(x, w.vW, w.vB);
    const mask = maskBias ? tf.reshape(maskBias, [batch, length]) as tf.Tensor2D : null;
    const ctx = dropProbs
      ? fusedAttentionWithProbs(q, k, v, batch, length, heads, mask, dropProbs)
      : fusedAttention(q, k, v, batch, length, heads, mask);
    return linear(ctx, w.oW, w.oB);
  }
  const split = (t: tf.Tensor2D) =>
    tf.reshape(tf.transpose(tf.reshape(t, [batch, length, heads, dh]), [0, 2, 1, 3]), [
      batch * heads,
      length,
      dh,
    ]) as tf.Tensor3D;
  const q = split(linear(x, w.qW, w.qB));
  const k = split(linear(x, w.kW, w.kB));
  const v = split(linear(x, w.vW, w.vB));
  let scores: tf.Tensor = tf.mul(batchMatMulFast(q, k, false, true), 1 / Math.sqrt(dh));
  if (maskBias) {
    scores = tf.reshape(
      tf.add(tf.reshape(scores, [batch, heads, length, length]), maskBias),
      [batch * heads, length, length],
    );
  }
  const sm = tf.softmax(scores) as tf.Tensor3D;
  const probs = dropProbs ? dropProbs(sm) : sm;
  const ctx = batchMatMulFast(probs, v);
  const merged = tf.reshape(
    tf.transpose(tf.reshape(ctx, [batch, heads, length, dh]), [0, 2, 1, 3]),
    [batch * length, d],
  ) as tf.Tensor2D;
  return linear(merged, w.oW, w.oB);
}
