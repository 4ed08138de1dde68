/**
 * Contrastive losses of the two papers: D's symmetric InfoNCE and K's text→image and
 * English-pivot cross-entropies. All are TF.js ops (differentiable with `tf.grads`), with
 * `matMulFast` for the similarity matmuls.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { symmetricInfoNce } from "./mod.ts";
 * assert(symmetricInfoNce(tf.eye(2) as tf.Tensor2D, tf.eye(2) as tf.Tensor2D).dataSync()[0]! < 1e-5);
 * ```
 */
export * from "./cross_entropy.ts";
export * from "./symmetric_info_nce.ts";
export * from "./text_to_image_cross_entropy.ts";
export * from "./pivot_text_cross_entropy.ts";
