import { tf } from "../backend/tf.ts";
import type { Tensor, Tensor1D, Tensor2D } from "../backend/tf.ts";
import { nativeMatMulActive } from "../backend/native_matmul_kernel.ts";
import { readFloat32Into } from "../backend/read_into.ts";
import { transposeData } from "../retrieval/row_matrix.ts";
import { Adam } from "../optim/adam.ts";
import { KitError } from "../util/kit_error.ts";
import { ProgressBar, type ProgressOptions } from "../util/progress.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { type EmbeddedNliPairs, gatherPairRows, pairCount } from "./nli_pairs.ts";
import { nliFeaturesTensor } from "./nli_features.ts";

/** Training settings of paper K's XNLI probe (nkrasner/cl-clip-align@d75b729 `NLI/nli.py`); every field has K's default. */
export interface NliClassifierOptions {
  /** Hidden widths (K: three layers of 512). */
  hidden?: readonly number[];
  /** Adam learning rate (K: 1e-3). */
  lr?: number;
  /** Batch size (K: 32). */
  batchSize?: number;
  /** Epochs (K: 10); the checkpoint with the best selection accuracy is kept. */
  epochs?: number;
  seed: number;
  /** Called after every epoch. */
  onEpoch?: (e: NliEpochLog) => void;
  /**
   * A progress bar over the training steps (counts, rate, ETA; `lib/util/progress.ts`): true
   * always, false never; default: only for a long training (at least
   * {@link NLI_PROGRESS_MIN_STEPS} steps, as the paper profile's 122,720 a setup; the mini
   * profile's few hundred print nothing, so its notebook's outputs do not change).
   */
  progress?: boolean;
}

/** Steps from which `NliMlpClassifier.train` shows a progress bar by default. */
export const NLI_PROGRESS_MIN_STEPS = 5_000;

/**
 * The progress bar of a training of `steps` steps, or null: `progress` true always, false
 * never, undefined only from {@link NLI_PROGRESS_MIN_STEPS} steps (the paper profile's long
 * trainings; the mini profile's notebook outputs stay as they are).
 */
export function nliTrainingProgress(
  steps: number,
  label: string,
  progress?: boolean,
  opts: ProgressOptions = {},
): ProgressBar | null {
  return (progress ?? steps >= NLI_PROGRESS_MIN_STEPS)
    ? new ProgressBar(label, steps, { unit: "steps", ...opts })
    : null;
}

/** What one epoch did. */
export interface NliEpochLog {
  epoch: number;
  meanLoss: number;
  selectAccuracy: number;
  best: boolean;
}

/** A classifier in training (`NliMlpClassifier.startTraining`). */
export interface NliTrainingSteps {
  /** The classifier being trained (its parameters change with every step). */
  readonly classifier: NliMlpClassifier;
  /** One Adam step on the pairs `idx` of `pairs`; the batch's mean loss. */
  step(pairs: EmbeddedNliPairs, idx: ArrayLike<number>): Promise<number>;
}

/** K's protocol as data (for artifact notes). */
export const K_NLI_PROTOCOL = {
  hidden: [512, 512, 512],
  lr: 1e-3,
  batchSize: 32,
  epochs: 10,
} as const;

/** An MLP's parameters as plain arrays: `w[l]` is `widths[l] × widths[l+1]` row-major. */
export interface MlpParams {
  widths: number[];
  w: Float32Array[];
  b: Float32Array[];
}

/** A trained probe as plain data (`NliMlpClassifier.trained`, `.fromTrained`). */
export interface NliTrainedProbe {
  params: MlpParams;
  bestEpoch: number;
  bestSelectAccuracy: number;
  history: NliEpochLog[];
}

/**
 * torch `nn.Linear` initialisation of an MLP (weights and biases U(±1/√fan_in)), seeded.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { initMlpParams } from "./nli_mlp_classifier.ts";
 * const p = initMlpParams([8, 4, 3], 1);
 * assert(p.w[0]!.length === 32 && Math.abs(p.w[0]![0]!) <= 1 / Math.sqrt(8));
 * ```
 */
export function initMlpParams(widths: readonly number[], seed: number): MlpParams {
  if (widths.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new KitError(`initMlpParams: widths must be ≥ 2 positive integers, got [${widths}]`);
  }
  const rng = new SeededRandom(seed);
  const w: Float32Array[] = [], b: Float32Array[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const fanIn = widths[l]!, fanOut = widths[l + 1]!, bound = 1 / Math.sqrt(fanIn);
    const u = (n: number) => Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * bound);
    w.push(u(fanIn * fanOut));
    b.push(u(fanOut));
  }
  return { widths: [...widths], w, b };
}

/**
 * The parameters as tensors: W, its explicit transpose for the backward pass (null where the
 * backend's matmul takes transpose flags for free), b.
 */
interface MlpTensors {
  w: Tensor2D[];
  wt: (Tensor2D | null)[];
  b: Tensor1D[];
  /** Transposed operands by matmul flags (OpenBLAS, WebGPU), not by explicit copies. */
  flags: boolean;
}

/**
 * Uploads the parameters. Where matmuls run in OpenBLAS (`wasm+openblas`) or on WebGPU,
 * transposed operands are read through the matmul's transpose flags (what `matMulFast` does):
 * OpenBLAS packs a transposed operand into the same panels as an untransposed one, so the
 * products are bit for bit those on explicit copies (tests/nli_probe_training_test.ts). Elsewhere
 * (TF.js's WASM kernel is several times slower with flags) transposed copies are uploaded.
 */
function uploadParams(p: MlpParams): MlpTensors {
  const L = p.w.length;
  const flags = nativeMatMulActive() || tf.getBackend() === "webgpu";
  const out: MlpTensors = { w: [], wt: [], b: [], flags };
  for (let l = 0; l < L; l++) {
    const r = p.widths[l]!, c = p.widths[l + 1]!;
    const w = tf.tensor2d(p.w[l]!, [r, c]);
    out.w.push(w);
    // the first layer's input gradient is never needed
    out.wt.push(l === 0 || flags ? null : tf.tensor2d(transposeData(p.w[l]!, r, c), [c, r]));
    out.b.push(tf.tensor1d(p.b[l]!));
  }
  return out;
}

function disposeTensors(t: MlpTensors): void {
  tf.dispose([...t.w, ...t.b, ...t.wt.filter((x): x is Tensor2D => x !== null)]);
}

function forward(
  t: MlpTensors,
  x: Tensor2D,
): { logits: Tensor2D; pre: Tensor2D[]; acts: Tensor2D[] } {
  const L = t.w.length;
  const acts: Tensor2D[] = [x], pre: Tensor2D[] = [];
  let h = x;
  for (let l = 0; l < L; l++) {
    const z = tf.add(tf.matMul(h, t.w[l]!), t.b[l]!) as Tensor2D;
    pre.push(z);
    h = l + 1 < L ? tf.relu(z) : z;
    if (l + 1 < L) acts.push(h);
  }
  return { logits: h, pre, acts };
}

/**
 * Mean softmax cross-entropy of an MLP (ReLU hidden layers, linear output) on one batch and its
 * gradients, by hand-written backpropagation: `dz = (softmax − onehot)/B`, `dW = aᵀ·dz`,
 * `db = Σ dz`, `da = dz·Wᵀ`, `dz' = da ⊙ [z > 0]` (ReLU's derivative taken as 0 at 0, as torch).
 * Transposed operands through matmul flags where they are free (OpenBLAS, WebGPU), else
 * explicitly transposed copies (TF.js's WASM kernel is several times slower with flags, and so
 * is autodiff of matMul); the input gradient is not computed.
 * Read-backs are asynchronous (`await data()`), so it runs on every backend. Tested against
 * `tf.grads`.
 */
export async function mlpLossAndGradients(
  p: MlpParams,
  x: Tensor2D,
  labels: Int32Array,
  tensors?: MlpTensors,
): Promise<{ loss: number; gw: Float32Array[]; gb: Float32Array[] }> {
  const gw = p.w.map((w) => new Float32Array(w.length));
  const gb = p.b.map((b) => new Float32Array(b.length));
  const t = tensors ?? uploadParams(p);
  try {
    return { loss: await mlpGradientsInto(t, x, labels, gw, gb), gw, gb };
  } finally {
    if (!tensors) disposeTensors(t);
  }
}

/**
 * `mlpLossAndGradients` on uploaded parameters, the gradients copied into `gw`/`gb` (on WASM
 * straight from the backend's heap: no fresh buffers a step); returns the loss.
 */
async function mlpGradientsInto(
  t: MlpTensors,
  x: Tensor2D,
  labels: Int32Array,
  gw: Float32Array[],
  gb: Float32Array[],
): Promise<number> {
  const B = x.shape[0], L = t.w.length;
  const out = tf.tidy(() => {
    const { logits, pre, acts } = forward(t, x);
    const onehot = tf.oneHot(tf.tensor1d(labels, "int32"), logits.shape[1]).toFloat();
    const logp = tf.logSoftmax(logits);
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), 1)));
    let dz = tf.div(tf.sub(tf.exp(logp), onehot), B) as Tensor2D;
    const gwT: Tensor[] = new Array(L), gbT: Tensor[] = new Array(L);
    for (let l = L - 1; l >= 0; l--) {
      gbT[l] = tf.sum(dz, 0);
      gwT[l] = t.flags
        ? tf.matMul(acts[l]!, dz, true, false)
        : tf.matMul(tf.transpose(acts[l]!), dz);
      if (l > 0) {
        const wt = t.wt[l];
        const da = wt ? tf.matMul(dz, wt) : tf.matMul(dz, t.w[l]!, false, true);
        dz = tf.mul(da, tf.step(pre[l - 1]!)) as Tensor2D;
      }
    }
    return [loss, ...gwT, ...gbT];
  });
  try {
    // asynchronous reads: dataSync is not available on every backend (WebGPU under Deno)
    const reads = [out[0]!.data(), ...gw.map((g, l) => readFloat32Into(out[1 + l]!, g))];
    reads.push(...gb.map((g, l) => readFloat32Into(out[1 + L + l]!, g)));
    return ((await Promise.all(reads))[0] as Float32Array)[0]!;
  } finally {
    tf.dispose(out);
  }
}

/**
 * Paper K's NLI probe: an MLP `4d → 512 → 512 → 512 → 3` with ReLU on frozen sentence
 * embeddings' features `[p; h; |p−h|; p∗h]`. Linear layers initialised as torch's `nn.Linear`
 * (seeded); trained with cross-entropy on the logits (no softmax before the loss, unlike K's
 * code), torch-style Adam (lib/optim), batch 32, 10 epochs, reshuffled every epoch (seeded; the
 * last partial batch kept), keeping the epoch with the best accuracy on the selection pairs.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { NliMlpClassifier } from "./nli_mlp_classifier.ts";
 * import { matrixFromRows } from "../retrieval/row_matrix.ts";
 * import { SeededRandom } from "../util/seeded_random.ts";
 * // toy embeddings: entailment h = p, contradiction h = −p, neutral h = an unrelated vector
 * function pairs(n: number, seed: number) {
 *   const rng = new SeededRandom(seed);
 *   const vec = () => Array.from({ length: 4 }, () => rng.normal());
 *   const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
 *   const p = Array.from({ length: n }, vec);
 *   const h = p.map((v, i) => (labels[i] === 0 ? v : labels[i] === 2 ? v.map((x) => -x) : vec()));
 *   const rows = Int32Array.from(p.keys());
 *   const [premises, hypotheses] = [matrixFromRows(p), matrixFromRows(h)];
 *   return { premises, hypotheses, premiseRow: rows, hypothesisRow: rows, labels };
 * }
 * const [trainPairs, selectPairs, testPairs] = [pairs(240, 1), pairs(30, 2), pairs(30, 3)];
 * const opts = { seed: 1, hidden: [32, 32], lr: 1e-2, epochs: 15 }; // K: the defaults
 * const clf = await NliMlpClassifier.train(trainPairs, selectPairs, opts);
 * const predicted = await clf.predict(testPairs); // class ids, one per pair
 * assert.equal(predicted.length, 30);
 * assert(await clf.accuracy(testPairs) > 2 / 3); // chance: 1 / 3
 * assert.equal(clf.history.length, 15);
 * clf.dispose();
 * ```
 */
export class NliMlpClassifier {
  readonly inputDim: number;
  readonly hidden: readonly number[];
  /** The selection accuracy of the kept checkpoint, and its epoch (1-based). */
  bestSelectAccuracy = NaN;
  bestEpoch = 0;
  readonly history: NliEpochLog[] = [];
  #params: MlpParams;
  #tensors: MlpTensors | null;

  private constructor(params: MlpParams) {
    this.#params = params;
    this.inputDim = params.widths[0]!;
    this.hidden = params.widths.slice(1, -1);
    this.#tensors = uploadParams(params);
  }

  #live(): MlpTensors {
    if (!this.#tensors) throw new KitError("NliMlpClassifier: used after dispose()");
    return this.#tensors;
  }

  #setParams(p: MlpParams): void {
    const old = this.#live();
    this.#params = p;
    this.#tensors = uploadParams(p);
    disposeTensors(old);
  }

  /**
   * The trained probe as plain data (a copy of the parameters, the kept epoch, its selection
   * accuracy and the history): `fromTrained` gives back a classifier that predicts the same.
   */
  get trained(): NliTrainedProbe {
    return {
      params: this.params,
      bestEpoch: this.bestEpoch,
      bestSelectAccuracy: this.bestSelectAccuracy,
      history: this.history.map((e) => ({ ...e })),
    };
  }

  /** The classifier `trained` was taken from (its tensors uploaded again). */
  static fromTrained(t: NliTrainedProbe): NliMlpClassifier {
    const { widths, w, b } = t.params;
    if (w.length !== widths.length - 1 || b.length !== widths.length - 1) {
      throw new KitError(
        `NliMlpClassifier.fromTrained: ${w.length} weights and ${b.length} biases for widths ${
          widths.join("-")
        }`,
      );
    }
    w.forEach((a, l) => {
      if (a.length !== widths[l]! * widths[l + 1]! || b[l]!.length !== widths[l + 1]!) {
        throw new KitError(
          `NliMlpClassifier.fromTrained: layer ${l} is not ${widths[l]} × ${widths[l + 1]}`,
        );
      }
    });
    const clf = new NliMlpClassifier({
      widths: [...widths],
      w: w.map((a) => a.slice()),
      b: b.map((a) => a.slice()),
    });
    clf.bestEpoch = t.bestEpoch;
    clf.bestSelectAccuracy = t.bestSelectAccuracy;
    clf.history.push(...t.history.map((e) => ({ ...e })));
    return clf;
  }

  /** A copy of the parameters. */
  get params(): MlpParams {
    return {
      widths: [...this.#params.widths],
      w: this.#params.w.map((a) => a.slice()),
      b: this.#params.b.map((a) => a.slice()),
    };
  }

  static #features(
    pairs: EmbeddedNliPairs,
    idx: ArrayLike<number>,
    bufP: Float32Array,
    bufH: Float32Array,
  ): Tensor2D {
    const d = pairs.premises.cols, n = idx.length;
    gatherPairRows(pairs, idx, bufP, bufH);
    return tf.tidy(() =>
      nliFeaturesTensor(
        tf.tensor2d(bufP.subarray(0, n * d), [n, d]),
        tf.tensor2d(bufH.subarray(0, n * d), [n, d]),
      )
    );
  }

  /** Class predictions (0 entailment, 1 neutral, 2 contradiction), one per pair. */
  async predict(pairs: EmbeddedNliPairs, batch = 1024): Promise<Int32Array> {
    const t = this.#live();
    const n = pairCount(pairs);
    const d = pairs.premises.cols;
    if (d * 4 !== this.inputDim) {
      throw new KitError(
        `NliMlpClassifier: trained on ${this.inputDim / 4}-d embeddings, got ${d}-d`,
      );
    }
    const out = new Int32Array(n);
    const bufP = new Float32Array(batch * d), bufH = new Float32Array(batch * d);
    for (let s = 0; s < n; s += batch) {
      const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
      const x = NliMlpClassifier.#features(pairs, idx, bufP, bufH);
      const arg = tf.tidy(() => tf.argMax(forward(t, x).logits, 1));
      try {
        out.set((await arg.data()) as Int32Array, s);
      } finally {
        tf.dispose([arg, x]);
      }
    }
    return out;
  }

  /** Accuracy on labelled pairs. */
  async accuracy(pairs: EmbeddedNliPairs): Promise<number> {
    const p = await this.predict(pairs);
    let c = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === pairs.labels[i]) c++;
    return c / p.length;
  }

  /**
   * The training of a fresh classifier for `d`-dimensional embeddings, one step at a time (what
   * `train` runs; the plan's unit probe times its steps): parameters initialised as `train`
   * does (seeded), kept in Adam's own buffers (the update runs in place, without copies), and
   * re-uploaded after every step. `step` returns the batch's mean loss.
   */
  static startTraining(
    d: number,
    opts: Pick<NliClassifierOptions, "hidden" | "lr" | "seed">,
  ): NliTrainingSteps {
    const hidden = opts.hidden ?? K_NLI_PROTOCOL.hidden;
    const init = initMlpParams([4 * d, ...hidden, 3], opts.seed);
    const L = init.w.length;
    const names = [...init.w.map((_, l) => `w${l}`), ...init.b.map((_, l) => `b${l}`)];
    const sizes = [...init.w, ...init.b].map((a) => a.length);
    const adam = new Adam(Object.fromEntries(names.map((k, i) => [k, sizes[i]!])), {
      lr: opts.lr ?? K_NLI_PROTOCOL.lr,
    });
    const space = names.map((k) => adam.workspace(k));
    [...init.w, ...init.b].forEach((a, i) => space[i]!.params.set(a));
    const params: MlpParams = {
      widths: init.widths,
      w: space.slice(0, L).map((s) => s.params),
      b: space.slice(L).map((s) => s.params),
    };
    const gw = space.slice(0, L).map((s) => s.grads), gb = space.slice(L).map((s) => s.grads);
    const pv = Object.fromEntries(names.map((k, i) => [k, space[i]!.params]));
    const gv = Object.fromEntries(names.map((k, i) => [k, space[i]!.grads]));
    const clf = new NliMlpClassifier(params);
    let bufP = new Float32Array(0), bufH = new Float32Array(0);
    return {
      classifier: clf,
      async step(pairs: EmbeddedNliPairs, idx: ArrayLike<number>): Promise<number> {
        if (pairs.premises.cols !== d) {
          throw new KitError(
            `NLI training: ${d}-d embeddings expected, got ${pairs.premises.cols}`,
          );
        }
        if (bufP.length < idx.length * d) {
          bufP = new Float32Array(idx.length * d);
          bufH = new Float32Array(idx.length * d);
        }
        const labels = Int32Array.from(idx, (k) => pairs.labels[k]!);
        const x = NliMlpClassifier.#features(pairs, idx, bufP, bufH);
        let loss: number;
        try {
          loss = await mlpGradientsInto(clf.#live(), x, labels, gw, gb);
        } finally {
          x.dispose();
        }
        adam.step(pv, gv); // in place, in Adam's buffers
        clf.#setParams(params); // re-uploaded
        return loss;
      },
    };
  }

  /**
   * Trains on `train` (English) and keeps the epoch with the best accuracy on `select`
   * (English, disjoint from every test pair). Deterministic for a seed and backend.
   */
  static async train(
    train: EmbeddedNliPairs,
    select: EmbeddedNliPairs,
    opts: NliClassifierOptions,
  ): Promise<NliMlpClassifier> {
    const batchSize = opts.batchSize ?? K_NLI_PROTOCOL.batchSize;
    const epochs = opts.epochs ?? K_NLI_PROTOCOL.epochs;
    const n = pairCount(train, "NLI training pairs");
    pairCount(select, "NLI selection pairs");
    if (n === 0 || select.labels.length === 0) {
      throw new KitError("NliMlpClassifier.train: training and selection pairs must be non-empty");
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || !Number.isInteger(epochs) || epochs < 1) {
      throw new KitError(
        `NliMlpClassifier.train: batch ${batchSize} and epochs ${epochs} must be positive integers`,
      );
    }
    const run = NliMlpClassifier.startTraining(train.premises.cols, opts);
    const clf = run.classifier;
    const rng = new SeededRandom((opts.seed ^ 0x5eed) | 0);
    const order = Array.from({ length: n }, (_, i) => i);
    const steps = epochs * Math.ceil(n / batchSize);
    const bar = nliTrainingProgress(
      steps,
      `NLI probe (${n} pairs × ${epochs} epochs)`,
      opts.progress,
    );
    let best: MlpParams | null = null;
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        rng.shuffle(order);
        let lossSum = 0, batches = 0;
        for (let s = 0; s < n; s += batchSize) {
          lossSum += await run.step(train, order.slice(s, s + batchSize));
          batches++;
          bar?.tick();
        }
        const meanLoss = lossSum / batches;
        if (!Number.isFinite(meanLoss)) {
          throw new KitError(`NLI classifier diverged: mean loss ${meanLoss} in epoch ${epoch}`);
        }
        const acc = await clf.accuracy(select);
        const isBest = !(acc <= clf.bestSelectAccuracy); // the first epoch, or strictly better
        if (isBest) {
          clf.bestSelectAccuracy = acc;
          clf.bestEpoch = epoch;
          best = clf.params;
        }
        const log = { epoch, meanLoss, selectAccuracy: acc, best: isBest };
        clf.history.push(log);
        opts.onEpoch?.(log);
      }
      bar?.done();
      // the kept epoch's parameters, as arrays of their own (not Adam's buffers)
      clf.#setParams(best ?? clf.params);
    } catch (err) {
      clf.dispose();
      throw err;
    }
    return clf;
  }

  /** Frees the classifier's tensors. Idempotent. */
  dispose(): void {
    if (this.#tensors) disposeTensors(this.#tensors);
    this.#tensors = null;
  }
}
