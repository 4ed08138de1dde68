import type { ParameterState } from "../encoders/parameter_set.ts";
import type { SparseRowGrad } from "../encoders/xlm_roberta_encoder.ts";
import type { Adam } from "../optim/adam.ts";
import { kHeadSpecs } from "./k_head_specs.ts";
import { type KImageCaptionBatch, kLoss, kLossGrads, type KTowers } from "./k_loss.ts";

export type { KImageCaptionBatch, KTowers };

/**
 * The parameters of K's head (`text_projection`, `image_projection`, biases, learned
 * `logit_scale`): the same specs the mini/paper trainer uses (k_head_specs.ts), under the name
 * this module has always exported.
 */
export const kProjectionHeadSpecs = kHeadSpecs;

/** K's image–caption loss: {@link kLoss} (the training loop's one loss). */
export const kImageCaptionLoss = kLoss;

/** Gradients of K's loss: dense for every parameter but the word table, whose rows are sparse. */
export interface KImageCaptionGrads {
  loss: number;
  text: ParameterState;
  image: ParameterState;
  head: ParameterState;
  /** Gradient of the looked-up rows of `roberta.embeddings.word_embeddings.weight`. */
  wordRows: SparseRowGrad;
}

/**
 * K's loss on `batch` and its gradient with respect to every parameter ({@link kLossGrads} with
 * every module training); the word-embedding table gets only the rows the captions looked up.
 */
export async function kImageCaptionGrads(
  m: KTowers,
  batch: KImageCaptionBatch,
): Promise<KImageCaptionGrads> {
  const g = await kLossGrads(m, batch, "all", { wordGrad: "sparse" });
  return {
    loss: g.loss,
    text: g.grads.text ?? {},
    image: g.grads.image ?? {},
    head: g.grads.head ?? {},
    wordRows: g.wordRows!,
  };
}

/** Optimisers of the three modules (text's word table is stepped with sparse rows). */
export interface KOptimisers {
  text: Adam;
  image: Adam;
  head: Adam;
}

/** What one `kTrainStep` measured. */
export interface KStepReport {
  loss: number;
  /** Milliseconds: forward + backward (gradients read back), optimiser, device upload. */
  gradMs: number;
  optimMs: number;
  syncMs: number;
  /** Word-table rows updated. */
  wordRows: number;
}

/**
 * One training step of K: loss and gradients, Adam on every parameter (word table: from its
 * row-sparse gradient, with torch.optim.Adam's dense semantics — see `Adam.stepSparse`), then the
 * updated values uploaded to the device.
 */
export async function kTrainStep(
  m: KTowers,
  opt: KOptimisers,
  batch: KImageCaptionBatch,
  lr: number,
): Promise<KStepReport> {
  const t0 = performance.now();
  const g = await kImageCaptionGrads(m, batch);
  const t1 = performance.now();
  const word = `${m.text.prefix}embeddings.word_embeddings.weight`;
  opt.text.stepSparse(m.text.params.values, g.text, { [word]: g.wordRows }, lr);
  opt.image.step(m.image.params.values, g.image, lr);
  opt.head.step(m.head.values, g.head, lr);
  const t2 = performance.now();
  m.text.params.sync();
  m.image.params.sync();
  m.head.sync();
  const t3 = performance.now();
  return {
    loss: g.loss,
    gradMs: t1 - t0,
    optimMs: t2 - t1,
    syncMs: t3 - t2,
    wordRows: g.wordRows.rows.length,
  };
}
