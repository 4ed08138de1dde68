import { tf } from "../backend/tf.ts";
import { textToImageCrossEntropy } from "../losses/text_to_image_cross_entropy.ts";
import type { ParameterSet, ParameterState } from "../encoders/parameter_set.ts";
import { linear } from "../encoders/transformer_ops.ts";
import type { VitEncoder } from "../encoders/vit_encoder.ts";
import type {
  SparseRowGrad,
  TokenBatch,
  XlmRobertaEncoder,
} from "../encoders/xlm_roberta_encoder.ts";
import type { Adam } from "../optim/adam.ts";
import { KitError } from "../util/kit_error.ts";
import { moduleGrads } from "./module_grads.ts";
import { kHeadSpecs } from "./k_head_specs.ts";

/**
 * The parameters of K's head (`text_projection`, `image_projection`, biases, learned
 * `logit_scale`): the same specs the mini/paper trainer uses (k_head_specs.ts), under the name
 * this module has always exported.
 */
export const kProjectionHeadSpecs = kHeadSpecs;

/** K's model: text tower, image tower, and the head (projections + learned `logit_scale`). */
export interface KTowers {
  readonly text: XlmRobertaEncoder;
  readonly image: VitEncoder;
  /** `text_projection.*`, `image_projection.*`, `logit_scale` (see `kHeadSpecs`). */
  readonly head: ParameterSet;
}

/** One image–caption batch: every caption scored against the batch's images. */
export interface KImageCaptionBatch {
  /** Caption token ids (padding = the config's `pad_token_id`). */
  readonly tokens: TokenBatch;
  /** Normalised pixels of `images` images, each `C×S×S` row-major. */
  readonly pixels: Float32Array;
  readonly images: number;
  /** The image (row of `pixels`) of each caption. */
  readonly captionImage: readonly number[];
}

/**
 * K's image–caption loss from the towers' inputs (call inside `tf.tidy` / a gradient function):
 * text → mean pool over real tokens → `text_projection`; image → mean pool over all tokens →
 * `image_projection`; cross-entropy of `T·Iᵀ·s`, text → image only (SPEC §1).
 * `wordInput` is the tensor of `text.embeddingInput(tokens)`; `patches` of `image.patchify`.
 */
export function kImageCaptionLoss(
  m: KTowers,
  batch: KImageCaptionBatch,
  wordInput: tf.Tensor2D,
  patches: tf.Tensor2D,
): tf.Scalar {
  const t = m.text.meanPool(batch.tokens, m.text.encode(batch.tokens, wordInput));
  const i = m.image.meanPool(m.image.encode(patches, batch.images), batch.images);
  const T = linear(
    t,
    m.head.tensor("text_projection.weight"),
    m.head.tensor("text_projection.bias"),
  );
  const I = linear(
    i,
    m.head.tensor("image_projection.weight"),
    m.head.tensor("image_projection.bias"),
  );
  return textToImageCrossEntropy(
    T,
    I,
    m.head.tensor("logit_scale") as tf.Scalar,
    batch.captionImage,
  );
}

/** Gradients of K's loss: dense for every parameter but the word table, whose rows are sparse. */
export interface KLossGrads {
  loss: number;
  text: ParameterState;
  image: ParameterState;
  head: ParameterState;
  /** Gradient of the looked-up rows of `roberta.embeddings.word_embeddings.weight`. */
  wordRows: SparseRowGrad;
}

/**
 * K's loss on `batch` and its gradient with respect to every parameter; the word-embedding table
 * gets only the rows the captions looked up (no `vocab × d` array is allocated).
 */
export async function kImageCaptionGrads(
  m: KTowers,
  batch: KImageCaptionBatch,
): Promise<KLossGrads> {
  const { tokens } = batch;
  if (batch.captionImage.length !== tokens.batch) {
    throw new KitError(
      `K step: ${tokens.batch} captions but ${batch.captionImage.length} image indices`,
    );
  }
  const c = m.image.config;
  const x0 = tf.tensor2d(m.text.embeddingInput(tokens), [tokens.batch * tokens.length, m.text.dim]);
  const patches = tf.tensor2d(m.image.patchify(batch.pixels, batch.images), [
    batch.images * m.image.numPatches,
    c.num_channels * c.patch_size * c.patch_size,
  ]);
  const r = await moduleGrads(
    { text: m.text.params, image: m.image.params, head: m.head },
    [x0],
    ([x]) => kImageCaptionLoss(m, batch, x as tf.Tensor2D, patches),
  );
  patches.dispose();
  const text = r.grads.text ?? {};
  const wordRows = m.text.embeddingGradSparse(tokens, r.inputGrads[0]!, text);
  return {
    loss: r.loss,
    text,
    image: r.grads.image ?? {},
    head: r.grads.head ?? {},
    wordRows,
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
 * One training step of K: loss and gradients, Adam on every parameter (word table: row-sparse,
 * lazy — see `Adam.stepSparse`), then the updated values uploaded to the device.
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
