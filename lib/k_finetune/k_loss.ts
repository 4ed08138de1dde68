import { tf } from "../backend/tf.ts";
import { textToImageCrossEntropy } from "../losses/text_to_image_cross_entropy.ts";
import { pivotTextCrossEntropy } from "../losses/pivot_text_cross_entropy.ts";
import type { ParameterSet, ParameterState } from "../encoders/parameter_set.ts";
import type { Dropout } from "../encoders/dropout.ts";
import { linear } from "../encoders/transformer_ops.ts";
import type { VitEncoder } from "../encoders/vit_encoder.ts";
import type {
  SparseRowGrad,
  TokenBatch,
  XlmRobertaEncoder,
} from "../encoders/xlm_roberta_encoder.ts";
import { KitError } from "../util/kit_error.ts";
import { moduleGrads } from "../resumable_training/module_grads.ts";

/**
 * K's model: text tower, image tower, and the head (`text_projection`, `image_projection`,
 * biases, learned `logit_scale`; see `kHeadSpecs`). The one loss of K's training
 * ({@link kLoss}) and its gradient ({@link kLossGrads}) are defined on it; the training loop
 * (`runKSetupTraining`), the real-shape step (`tools/k_real_shape_step.ts`) and the PyTorch
 * reference test (`tests/k_torch_reference_test.ts`) all call these.
 */
export interface KTowers {
  readonly text: XlmRobertaEncoder;
  readonly image: VitEncoder;
  readonly head: ParameterSet;
}

/** One image–caption batch (K's `finetune_clip.py`): every caption scored against the images. */
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
 * One text–text pivot batch (K's Eng-Pivot, `align_roberta.py`): the first `nEnglish` texts of
 * `tokens` are the English captions; every later text is scored against them, its own English
 * caption (`enIdx`) being the target. No image.
 */
export interface KPivotBatch {
  readonly tokens: TokenBatch;
  readonly nEnglish: number;
  /** For each text after the English block, the row of its English caption. */
  readonly enIdx: readonly number[];
}

export type KLossBatch = KImageCaptionBatch | KPivotBatch;

/** Whether a batch is an image–caption batch (else a text–text pivot batch). */
export function isImageCaptionBatch(b: KLossBatch): b is KImageCaptionBatch {
  return "pixels" in b;
}

/**
 * Which modules train at a step — chosen once per step from the plan: the head alone (K's frozen
 * warm-up), the text tower and head (Eng-Pivot after the warm-up: the image tower is never used),
 * or all three.
 */
export type KTrainable = "head" | "text+head" | "all";

/** The trainable modules of `which`, by module name (the frozen ones are simply absent). */
export function kTrainableModules(m: KTowers, which: KTrainable): Record<string, ParameterSet> {
  switch (which) {
    case "head":
      return { head: m.head };
    case "text+head":
      return { text: m.text.params, head: m.head };
    case "all":
      return { text: m.text.params, image: m.image.params, head: m.head };
  }
}

/** Training-mode dropout of the towers at one step (absent: eval mode, no dropout). */
export interface KDropout {
  text?: Dropout;
  image?: Dropout;
}

/** `linear(x, <name>.weight, <name>.bias)` with the head's parameters. */
function project(m: KTowers, x: tf.Tensor2D, name: "text_projection" | "image_projection") {
  return linear(x, m.head.tensor(`${name}.weight`), m.head.tensor(`${name}.bias`));
}

/**
 * K's loss on one batch (call inside `tf.tidy` or a gradient function). Text → mean pool over
 * real tokens → `text_projection`; image setups: image → mean pool over all tokens →
 * `image_projection`, cross-entropy of `T·Iᵀ·s` text → image only; Eng-Pivot: cross-entropy of
 * each non-English text's row `Tx·Enᵀ·s` against the batch's English texts (no normalisation,
 * learned scale `s`). `wordInput` is the tensor of `text.embeddingInput(batch.tokens)`.
 */
export function kLoss(
  m: KTowers,
  batch: KLossBatch,
  wordInput: tf.Tensor2D,
  dropout: KDropout = {},
): tf.Scalar {
  const t = m.text.meanPool(batch.tokens, m.text.encode(batch.tokens, wordInput, dropout.text));
  const T = project(m, t, "text_projection");
  const scale = m.head.tensor("logit_scale") as tf.Scalar;
  if (!isImageCaptionBatch(batch)) {
    const En = tf.slice(T, [0, 0], [batch.nEnglish, -1]) as tf.Tensor2D;
    const Tx = tf.slice(T, [batch.nEnglish, 0], [-1, -1]) as tf.Tensor2D;
    return pivotTextCrossEntropy(Tx, En, scale, batch.enIdx);
  }
  const c = m.image.config;
  const patches = tf.tensor2d(m.image.patchify(batch.pixels, batch.images), [
    batch.images * m.image.numPatches,
    c.num_channels * c.patch_size * c.patch_size,
  ]);
  const pooled = m.image.meanPool(
    m.image.encode(patches, batch.images, dropout.image),
    batch.images,
  );
  const I = project(m, pooled, "image_projection");
  return textToImageCrossEntropy(T, I, scale, batch.captionImage);
}

/** K's loss on a batch and the gradients of the modules that train. */
export interface KLossGrads {
  loss: number;
  /** Gradients by module (`text`, `image`, `head`); frozen modules are absent. */
  grads: Record<string, ParameterState>;
  /**
   * With `wordGrad: "sparse"` and the text tower training: the gradient of the looked-up rows of
   * the word-embedding table (absent from `grads.text`; no `vocab × d` array is allocated).
   */
  wordRows?: SparseRowGrad;
}

/**
 * K's loss on `batch` and its gradient with respect to the modules of `trainable` — one gradient
 * call whatever is frozen. The text tower's embedding tables get their gradient from that of the
 * summed embeddings: the word table dense in `grads.text` (`wordGrad: "dense"`, default) or as
 * row-sparse `wordRows` (`"sparse"`).
 */
export async function kLossGrads(
  m: KTowers,
  batch: KLossBatch,
  trainable: KTrainable,
  opts: { dropout?: KDropout; wordGrad?: "dense" | "sparse" } = {},
): Promise<KLossGrads> {
  const { tokens } = batch;
  if (isImageCaptionBatch(batch) && batch.captionImage.length !== tokens.batch) {
    throw new KitError(
      `K step: ${tokens.batch} captions but ${batch.captionImage.length} image indices`,
    );
  }
  if (!isImageCaptionBatch(batch) && trainable === "all") {
    throw new KitError("K step: a text–text pivot batch does not use the image tower");
  }
  const modules = kTrainableModules(m, trainable);
  const x0 = tf.tensor2d(m.text.embeddingInput(tokens), [tokens.batch * tokens.length, m.text.dim]);
  const textTrains = modules.text !== undefined;
  // the summed embeddings are an input with a gradient only when the text tower trains
  let r;
  try {
    r = await moduleGrads(
      modules,
      textTrains ? [x0] : [],
      (xs) => kLoss(m, batch, (xs[0] ?? x0) as tf.Tensor2D, opts.dropout),
    );
  } finally {
    if (!textTrains) x0.dispose();
  }
  const grads: Record<string, ParameterState> = {};
  for (const name of Object.keys(modules)) grads[name] = r.grads[name] ?? {};
  if (!textTrains) return { loss: r.loss, grads };
  if (opts.wordGrad === "sparse") {
    const wordRows = m.text.embeddingGradSparse(tokens, r.inputGrads[0]!, grads.text!);
    return { loss: r.loss, grads, wordRows };
  }
  m.text.embeddingGrad(tokens, r.inputGrads[0]!, grads.text!);
  return { loss: r.loss, grads };
}
