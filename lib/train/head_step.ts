import { tf } from "../backend/tf.ts";
import { readFloat32Into } from "../backend/read_into.ts";
import type { Scalar, Tensor2D, Variable } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import type { Head, HeadState } from "../heads/head.ts";
import { readHeadStateAsync } from "../heads/head_state.ts";
import { symmetricInfoNceRepeatedImages } from "../losses/symmetric_info_nce.ts";
import { Adam, type AdamState } from "../optim/adam.ts";
import { proxClipAdamStep } from "../optim/prox_clip_adam.ts";
import { warmupCosineLr } from "../optim/lr_schedule.ts";
import { gatherRows, LanguageBalancedSampler } from "../optim/language_balanced_sampler.ts";
import type { TrainConfig } from "./train_config.ts";

/** What one optimizer step did. */
export interface StepOutcome {
  /** Total loss: InfoNCE + λ_prox·prox + λ_ortho·ortho (what D logs). */
  loss: number;
  /** Learning rate used. */
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/**
 * One training step of paper D, reusable: draw B image indices (with replacement), stack the L
 * languages' captions in blocks (L·B rows), project them with the head, symmetric InfoNCE
 * against the B images repeated L times (computed without materialising the repeats), plus the
 * regularisers; then gradient clipping, Adam (coupled decay) and the warm-up + cosine rate.
 *
 * The optimizer works on plain Float32Array copies of the parameters, which are the source of
 * truth during training and are uploaded to the head's variables after every update.
 */
export class HeadStepper {
  readonly head: Head;
  readonly config: TrainConfig;
  readonly sampler: LanguageBalancedSampler;
  readonly optimizer: Adam;
  readonly #textByLang: readonly Float32Array[];
  readonly #images: Float32Array;
  readonly #dim: number;
  readonly #textBuf: Float32Array;
  readonly #imageBuf: Float32Array;
  readonly #params: HeadState;
  readonly #names: string[];
  readonly #gradBufs: HeadState;
  readonly #proxCount: number;

  constructor(
    head: Head,
    textByLang: readonly Float32Array[],
    images: Float32Array,
    trainIdx: ArrayLike<number>,
    config: TrainConfig,
    initialState?: HeadState,
  ) {
    if (head.parameters.length === 0) {
      throw new KitError(`trainHead: the ${head.kind} head has no parameters to train`);
    }
    this.head = head;
    this.config = config;
    this.#textByLang = textByLang;
    this.#images = images;
    this.#dim = head.dim;
    const b = config.batchPerLang;
    this.#textBuf = new Float32Array(textByLang.length * b * head.dim);
    this.#imageBuf = new Float32Array(b * head.dim);
    this.sampler = new LanguageBalancedSampler(trainIdx, { batchPerLang: b, seed: config.seed });
    this.#names = head.parameters.map((p) => p.name);
    this.optimizer = new Adam(
      Object.fromEntries(head.parameters.map((p) => [p.name, p.variable.size])),
      { lr: config.lr, weightDecay: config.weightDecay, decoupled: config.decoupledWeightDecay },
    );
    // parameters and gradients live in the optimizer's workspace (no copies around its kernel)
    const start = initialState ?? head.getState();
    this.#params = {};
    this.#gradBufs = {};
    for (const p of head.parameters) {
      const w = this.optimizer.workspace(p.name);
      const init = start[p.name];
      if (!init || init.length !== w.params.length) {
        throw new KitError(
          `trainHead: initial state of "${p.name}" missing or not ${w.params.length} values`,
        );
      }
      w.params.set(init);
      this.#params[p.name] = w.params;
      this.#gradBufs[p.name] = w.grads;
    }
    this.#proxCount = head.regularizers.proxParams.reduce((a, n) => {
      const arr = this.#params[n];
      if (!arr) {
        throw new KitError(
          `trainHead: prox parameter "${n}" is not a parameter of the ${head.kind} head`,
        );
      }
      return a + arr.length;
    }, 0);
  }

  /**
   * Builds a stepper reading the head's starting parameters asynchronously, so it also works on
   * backends without synchronous read-back (WebGPU under Deno).
   */
  static async create(
    head: Head,
    textByLang: readonly Float32Array[],
    images: Float32Array,
    trainIdx: ArrayLike<number>,
    config: TrainConfig,
  ): Promise<HeadStepper> {
    return new HeadStepper(
      head,
      textByLang,
      images,
      trainIdx,
      config,
      await readHeadStateAsync(head.parameters),
    );
  }

  /** Total number of steps of the run (epochs × steps per epoch). */
  get totalSteps(): number {
    return this.config.epochs * this.config.stepsPerEpoch;
  }

  /** The learning rate of 0-based global step `step`. */
  lrAt(step: number): number {
    const c = this.config;
    return warmupCosineLr(step, {
      baseLr: c.lr,
      warmupSteps: c.warmupSteps,
      totalSteps: this.totalSteps,
      floor: c.cosineFloor,
    });
  }

  /** Runs global step `step` (0-based; it sets the learning rate). Reads back asynchronously, so it also runs on WebGPU. */
  async step(step: number): Promise<StepOutcome> {
    const c = this.config;
    const d = this.#dim, b = c.batchPerLang, langs = this.#textByLang.length;
    const idx = this.sampler.next();
    for (let l = 0; l < langs; l++) {
      gatherRows(this.#textByLang[l]!, d, idx, this.#textBuf.subarray(l * b * d, (l + 1) * b * d));
    }
    gatherRows(this.#images, d, idx, this.#imageBuf);
    const text = tf.tensor2d(this.#textBuf, [langs * b, d]);
    const images = tf.tensor2d(this.#imageBuf, [b, d]);
    const head = this.head;
    let loss: number;
    const grads: HeadState = {};
    try {
      const { value, grads: g } = tf.variableGrads(() =>
        tf.tidy(() => {
          const projected = head.apply(text as Tensor2D);
          let total = symmetricInfoNceRepeatedImages(projected, images, langs, c.temperature, {
            frozenImages: true,
          });
          if (c.lambdaOrtho > 0 && head.regularizers.ortho) {
            total = tf.add(total, tf.mul(head.regularizers.ortho(), c.lambdaOrtho));
          }
          return total as Scalar;
        }), head.variables as Variable[]);
      // Asynchronous reads: WebGPU under Deno cannot read back synchronously.
      loss = (await value.data())[0]!;
      for (const p of head.parameters) {
        // into the stepper's own buffers (no fresh ArrayBuffer per step on WASM)
        grads[p.name] = await readFloat32Into(g[p.variable.name]!, this.#gradBufs[p.name]!);
      }
      tf.dispose([value, ...Object.values(g)]);
    } finally {
      tf.dispose([text, images]);
    }
    // λ_prox · mean(p²) (gradient 2λp/n), clipping and Adam fused: two passes, no allocation
    const lr = this.lrAt(step);
    const { gradNorm } = proxClipAdamStep(this.optimizer, this.#params, grads, {
      proxParams: head.regularizers.proxParams,
      lambdaProx: c.lambdaProx,
      maxGradNorm: c.maxGradNorm,
      lr,
      beforeUpdate: ({ proxSquares }) => {
        if (c.lambdaProx > 0 && this.#proxCount > 0) {
          loss += c.lambdaProx * proxSquares / this.#proxCount;
        }
        if (!Number.isFinite(loss)) {
          throw new KitError(`training diverged: the loss is ${loss} at step ${step}`, [
            "check the embeddings for NaN/Inf rows and try a lower learning rate",
          ]);
        }
      },
    });
    this.#upload();
    return { loss, lr, gradNorm };
  }

  /** Copies of the current parameters (what the head holds). */
  get params(): HeadState {
    return Object.fromEntries(this.#names.map((n) => [n, this.#params[n]!.slice()]));
  }

  /** Sets the parameters (and the head's variables). */
  set params(state: HeadState) {
    this.head.setState(state);
    for (const n of this.#names) this.#params[n]!.set(state[n]!);
  }

  /** Optimizer state (moments and step count). */
  get optimizerState(): AdamState {
    return this.optimizer.getState();
  }
  set optimizerState(s: AdamState) {
    this.optimizer.setState(s);
  }

  #upload(): void {
    for (const p of this.head.parameters) {
      const t = tf.tensor(this.#params[p.name]!, p.variable.shape);
      p.variable.assign(t);
      t.dispose();
    }
  }
}
