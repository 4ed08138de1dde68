/**
 * Paper K's training step with its state on the GPU (TF.js's WebGPU backend): parameters stay
 * `tf.Variable`s, gradients stay tensors, Adam's moments live in GPU buffers (`DeviceAdam`, one
 * fused WGSL kernel per parameter), and the word-embedding table is gathered on the device with a
 * dense gradient (a scatter-add of the looked-up rows) and torch's dense Adam semantics. The host
 * sends the batch's token ids and pixels and reads the losses back every `readLossEvery` steps,
 * all in one readback. The host-side path (`kTrainStep`, k_train_step.ts) is unchanged.
 */
import { tf } from "../backend/tf.ts";
import { installWriteBufferUploads } from "../backend/webgpu_write_buffer_upload.ts";
import { installWebGpuUniformCache } from "../backend/webgpu_uniform_cache.ts";
import type { TokenBatch, XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { DeviceAdam, type DeviceAdamOptions } from "../optim/device_adam.ts";
import { KitError } from "../util/kit_error.ts";
import { type KImageCaptionBatch, kLoss, type KTowers } from "./k_loss.ts";

/** The modules of K's model. */
export type KModule = "text" | "image" | "head";

/** Options of `KDeviceTrainer`. */
export interface KDeviceTrainerOptions {
  /** Adam's hyper-parameters (+ `maxGradNorm`), as the host plan's. */
  adam?: DeviceAdamOptions;
  /** Read the losses back every this many steps (default 1; validation reads on its own). */
  readLossEvery?: number;
}

/**
 * The summed word + position + token-type(0) embeddings `[batch·length, d]` computed on the
 * device from the tables' variables (so their gradients are the scatter-adds of the rows).
 * Call inside `tf.tidy` / a gradient function.
 */
export function deviceEmbeddingInput(text: XlmRobertaEncoder, b: TokenBatch): tf.Tensor2D {
  const c = text.config;
  if (b.ids.length !== b.batch * b.length) {
    throw new KitError(`XLM-R: ${b.ids.length} token ids for a ${b.batch}×${b.length} batch`);
  }
  for (const id of b.ids) {
    if (!(id >= 0 && id < c.vocab_size)) {
      throw new KitError(`XLM-R: token id ${id} outside the vocabulary [0, ${c.vocab_size})`);
    }
  }
  const p = (n: string) =>
    text.params.tensor(`${text.prefix}embeddings.${n}.weight`) as tf.Tensor2D;
  const ids = tf.tensor1d(b.ids, "int32");
  const pos = tf.tensor1d(text.positionIds(b), "int32");
  const type = tf.slice(p("token_type_embeddings"), [0, 0], [1, -1]);
  return tf.add(
    tf.add(tf.gather(p("word_embeddings"), ids), tf.gather(p("position_embeddings"), pos)),
    type,
  ) as tf.Tensor2D;
}

/** K's training on the device; see the module comment. */
export class KDeviceTrainer {
  readonly model: KTowers;
  readonly optimiser: DeviceAdam;
  readonly readLossEvery: number;
  readonly #vars: Record<KModule, Record<string, tf.Variable>>;
  /** Fully-qualified optimiser names (`module/parameter`) by module. */
  readonly #pending: tf.Scalar[] = [];
  #steps = 0;

  constructor(model: KTowers, opts: KDeviceTrainerOptions = {}) {
    if (tf.getBackend() !== "webgpu") {
      throw new KitError(
        `KDeviceTrainer needs the webgpu backend (active: ${tf.getBackend()}); use kTrainStep`,
      );
    }
    const word = `${model.text.prefix}embeddings.word_embeddings.weight`;
    if (model.text.params.spec(word).hostOnly) {
      throw new KitError(
        "KDeviceTrainer: the text tower keeps its word table on the host (hostWordEmbeddings); " +
          "build it without that option to train on the device",
      );
    }
    this.model = model;
    this.readLossEvery = Math.max(1, Math.floor(opts.readLossEvery ?? 1));
    installWriteBufferUploads();
    installWebGpuUniformCache();
    const vars = (ps: KTowers["head"]) =>
      Object.fromEntries(ps.deviceNames.map((n) => [n, ps.tensor(n) as tf.Variable]));
    this.#vars = {
      text: vars(model.text.params),
      image: vars(model.image.params),
      head: vars(model.head),
    };
    const all: Record<string, tf.Variable> = {};
    for (const [m, vs] of Object.entries(this.#vars)) {
      for (const [n, v] of Object.entries(vs)) all[`${m}/${n}`] = v;
    }
    this.optimiser = new DeviceAdam(all, opts.adam);
  }

  /** Steps taken. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * One step: loss and gradients of the modules not in `frozen`, then the device Adam. Returns
   * the losses read back at this step (every `readLossEvery` steps: the losses since the last
   * read, oldest first), otherwise null. Nothing else is read back.
   */
  async step(
    batch: KImageCaptionBatch,
    lr: number,
    frozen: readonly KModule[] = [],
  ): Promise<number[] | null> {
    const m = this.model, tokens = batch.tokens;
    if (batch.captionImage.length !== tokens.batch) {
      throw new KitError(
        `K step: ${tokens.batch} captions but ${batch.captionImage.length} image indices`,
      );
    }
    const trained = (["text", "image", "head"] as const).filter((k) => !frozen.includes(k));
    const varList: tf.Variable[] = [];
    const nameOf = new Map<string, string>();
    for (const k of trained) {
      for (const [n, v] of Object.entries(this.#vars[k])) {
        varList.push(v);
        nameOf.set(v.name, `${k}/${n}`);
      }
    }
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => kLoss(m, batch, deviceEmbeddingInput(m.text, tokens))),
      varList,
    );
    const named: Record<string, tf.Tensor> = {};
    for (const [vn, g] of Object.entries(grads)) named[nameOf.get(vn)!] = g;
    this.optimiser.step(named, lr);
    tf.dispose(Object.values(grads));
    this.#pending.push(value);
    this.#steps += 1;
    return this.#steps % this.readLossEvery === 0 ? await this.readLosses() : null;
  }

  /** The losses of the steps since the last read (one readback), oldest first. */
  async readLosses(): Promise<number[]> {
    if (this.#pending.length === 0) return [];
    const all = tf.stack(this.#pending);
    tf.dispose(this.#pending);
    this.#pending.length = 0;
    const out = Array.from(await all.data());
    all.dispose();
    return out;
  }

  /**
   * Copies every parameter back into its `ParameterSet.values` (for checkpoints, validation on
   * the host, or comparisons; one readback per parameter).
   */
  async pullParameters(): Promise<void> {
    const m = this.model;
    for (const ps of [m.text.params, m.image.params, m.head]) {
      for (const n of ps.deviceNames) ps.values[n]!.set(await ps.tensor(n).data() as Float32Array);
    }
  }

  /** Frees the optimiser state and unread losses (not the model). */
  dispose(): void {
    tf.dispose(this.#pending);
    this.#pending.length = 0;
    this.optimiser.dispose();
  }
}
