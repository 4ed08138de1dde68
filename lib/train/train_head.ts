import { createHash } from "node:crypto";
import { KitError } from "../util/kit_error.ts";
import { ProgressBar, type ProgressOptions } from "../util/progress.ts";
import type { Head, HeadState } from "../heads/head.ts";
import { HeadStepper } from "./head_step.ts";
import { resolveTrainConfig, type TrainConfig } from "./train_config.ts";
import {
  readTrainCheckpoint,
  type TrainCheckpoint,
  writeTrainCheckpoint,
} from "./train_checkpoint.ts";
import { pathExists } from "../util/path_exists.ts";

/** A row-major `rows × cols` float32 matrix (structurally the same as retrieval's `RowMatrix`). */
export interface EmbeddingRows {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** What the per-epoch evaluation callback receives. */
export interface EvaluateContext {
  /** The head with the parameters after this epoch. */
  head: Head;
  /** 0-based epoch just finished. */
  epoch: number;
  /** Holdout row indices (as given to `trainHead`). */
  holdoutIdx: Int32Array;
}

/** Reported to `onEpoch` after each epoch (after the checkpoint is written). */
export interface EpochReport {
  /** 0-based epoch just finished. */
  epoch: number;
  /** Global steps done so far. */
  step: number;
  /** Mean training loss over this epoch's steps. */
  meanLoss: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Holdout score returned by `evaluate`. */
  score: number;
  /** Whether this epoch became the best so far. */
  improved: boolean;
  bestScore: number;
  bestEpoch: number;
  /** Wall-clock seconds of this epoch's steps (evaluation excluded). */
  trainSeconds: number;
}

/** Inputs of `trainHead`. */
export interface TrainHeadOptions {
  /** The head to train (its current parameters are the starting point). */
  head: Head;
  /** Caption embeddings by language (row i = image i in every language), L2-normalised. */
  textByLang: Readonly<Record<string, EmbeddingRows>>;
  /** Image embeddings, same rows as the captions, L2-normalised. */
  images: EmbeddingRows;
  /** Rows the batches are drawn from. */
  trainIdx: ArrayLike<number>;
  /** Rows the `evaluate` callback scores (passed through to it). */
  holdoutIdx: ArrayLike<number>;
  /** Overrides of D's defaults (`PAPER_D_TRAIN_CONFIG`). */
  config?: Partial<TrainConfig>;
  /**
   * Holdout score after each epoch, higher is better (D: macro t2i R@1 over the languages);
   * the best epoch's parameters are kept and restored at the end.
   */
  evaluate: (ctx: EvaluateContext) => number | Promise<number>;
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** Where to write a `.safetensors` checkpoint (atomically) at the end of every epoch. */
  checkpointPath?: string;
  /** Continue from `checkpointPath` when that file exists (a fresh start otherwise). */
  resume?: boolean;
  /**
   * Stop once this many epochs (counted from the start of the run, resumed ones included) are
   * done, after writing their checkpoint — for time-sliced runs; resume later to finish. The
   * schedule still spans `config.epochs`.
   */
  stopAfterEpochs?: number;
  /** Progress bar options; `false` for none. */
  progress?: ProgressOptions | false;
  /** Progress bar label (default `train <kind> head`). */
  label?: string;
}

/** What `trainHead` returns. */
export interface TrainResult {
  config: TrainConfig;
  /** Best holdout score (−1 when no epoch was evaluated). */
  bestScore: number;
  /** 0-based epoch of the best score (−1 when none). */
  bestEpoch: number;
  /** Holdout score after every completed epoch. */
  epochScores: number[];
  /** Loss of every step (including steps before a resume). */
  lossHistory: number[];
  /** Global steps done. */
  stepsDone: number;
  epochsDone: number;
  /** True when all epochs ran; then the head holds the best epoch's parameters. */
  completed: boolean;
  /** Steps already done when this call resumed from a checkpoint, or null for a fresh start. */
  resumedFromStep: number | null;
  /** Mean wall-clock milliseconds per optimizer step in this call (NaN when none ran). */
  msPerStep: number;
}

/**
 * Trains a text-side head as paper D: `epochs × stepsPerEpoch` steps of language-balanced
 * batches (B images with replacement, L language blocks), symmetric InfoNCE against the fixed
 * image embeddings (τ 0.07) + λ_prox·prox + λ_ortho·ortho, gradient clipping, Adam with coupled
 * weight decay, linear warm-up then cosine decay; after every epoch `evaluate` scores the holdout
 * and the best epoch's parameters are kept (restored into `head` when the run completes). With
 * `checkpointPath` every epoch ends with an atomic `.safetensors` checkpoint (parameters, Adam
 * moments, step, sampler RNG state, best state, loss history), and `resume` continues the
 * identical trajectory from it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHead } from "../heads/mod.ts";
 * import { trainHead } from "./train_head.ts";
 * const d = 4, n = 8;
 * const rows = (seed: number) => ({
 *   data: Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * seed)), rows: n, cols: d,
 * });
 * const head = createHead("linear", d);
 * const r = await trainHead({
 *   head, textByLang: { en: rows(1), de: rows(2) }, images: rows(3),
 *   trainIdx: [0, 1, 2, 3, 4, 5], holdoutIdx: [6, 7],
 *   config: { epochs: 1, stepsPerEpoch: 2, batchPerLang: 4, warmupSteps: 1 },
 *   evaluate: () => 0.5, progress: false,
 * });
 * assert(r.lossHistory.length === 2);
 * head.dispose();
 * ```
 */
export async function trainHead(opts: TrainHeadOptions): Promise<TrainResult> {
  const config = resolveTrainConfig(opts.config);
  const { head } = opts;
  const langs = Object.keys(opts.textByLang);
  const { n, textArrays } = validateData(opts, langs);
  const trainIdx = checkIndices(opts.trainIdx, n, "trainIdx");
  const holdoutIdx = checkIndices(opts.holdoutIdx, n, "holdoutIdx");
  if (trainIdx.length === 0) throw new KitError("trainHead: trainIdx is empty");
  const fingerprint = dataFingerprint(langs, opts, trainIdx, holdoutIdx);

  const stepper = await HeadStepper.create(head, textArrays, opts.images.data, trainIdx, config);
  const total = stepper.totalSteps;
  let step = 0, epochsDone = 0, bestScore = -1, bestEpoch = -1;
  let best: HeadState | null = null;
  const lossHistory: number[] = [];
  const epochScores: number[] = [];
  let resumedFromStep: number | null = null;

  if (opts.resume && opts.checkpointPath && (await pathExists(opts.checkpointPath))) {
    const ck = await readTrainCheckpoint(opts.checkpointPath);
    checkCompatible(ck, opts.checkpointPath, head, config, fingerprint);
    stepper.params = ck.head;
    stepper.optimizerState = ck.adam;
    stepper.sampler.state = ck.samplerState;
    step = ck.step;
    epochsDone = ck.epochsDone;
    bestScore = ck.bestScore;
    bestEpoch = ck.bestEpoch;
    best = ck.best;
    lossHistory.push(...ck.lossHistory);
    epochScores.push(...ck.epochScores);
    resumedFromStep = step;
  }

  const bar = opts.progress === false ? null : new ProgressBar(
    opts.label ?? `train ${head.kind} head`,
    total,
    { unit: "steps", start: step, ...(opts.progress ?? {}) },
  );
  let stepMs = 0, stepsRun = 0;
  const stopAt = Math.min(config.epochs, opts.stopAfterEpochs ?? config.epochs);
  while (epochsDone < stopAt) {
    const epoch = epochsDone;
    const t0 = performance.now();
    let lossSum = 0, lr = 0;
    for (let s = 0; s < config.stepsPerEpoch; s++) {
      const out = await stepper.step(step);
      lossHistory.push(out.loss);
      lossSum += out.loss;
      lr = out.lr;
      step += 1;
      stepsRun += 1;
      bar?.tick();
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    stepMs += trainSeconds * 1000;
    const score = await opts.evaluate({ head, epoch, holdoutIdx });
    if (typeof score !== "number" || !Number.isFinite(score)) {
      throw new KitError(
        `trainHead: evaluate() returned ${score} after epoch ${epoch}; expected a finite number`,
      );
    }
    const improved = score > bestScore;
    if (improved) {
      bestScore = score;
      bestEpoch = epoch;
      best = stepper.params;
    }
    epochScores.push(score);
    epochsDone += 1;
    if (opts.checkpointPath) {
      await writeTrainCheckpoint(opts.checkpointPath, {
        headKind: head.kind,
        dim: head.dim,
        config,
        dataFingerprint: fingerprint,
        step,
        epochsDone,
        samplerState: stepper.sampler.state,
        head: stepper.params,
        shapes: Object.fromEntries(head.parameters.map((p) => [p.name, [...p.variable.shape]])),
        adam: stepper.optimizerState,
        bestScore,
        bestEpoch,
        best,
        lossHistory: Float64Array.from(lossHistory),
        epochScores: Float64Array.from(epochScores),
      });
    }
    await opts.onEpoch?.({
      epoch,
      step,
      meanLoss: lossSum / config.stepsPerEpoch,
      lr,
      score,
      improved,
      bestScore,
      bestEpoch,
      trainSeconds,
    });
  }
  bar?.done();
  const completed = epochsDone >= config.epochs;
  if (completed && best) head.setState(best);
  return {
    config,
    bestScore,
    bestEpoch,
    epochScores,
    lossHistory,
    stepsDone: step,
    epochsDone,
    completed,
    resumedFromStep,
    msPerStep: stepsRun > 0 ? stepMs / stepsRun : NaN,
  };
}

function validateData(
  opts: TrainHeadOptions,
  langs: string[],
): { n: number; textArrays: Float32Array[] } {
  const d = opts.head.dim;
  if (langs.length === 0) throw new KitError("trainHead: textByLang has no languages");
  const check = (m: EmbeddingRows, what: string) => {
    if (m.cols !== d) {
      throw new KitError(`trainHead: ${what} has ${m.cols} columns, the head expects ${d}`);
    }
    if (m.data.length !== m.rows * m.cols) {
      throw new KitError(
        `trainHead: ${what} holds ${m.data.length} values, expected ${m.rows}×${m.cols}`,
      );
    }
    if (m.rows !== opts.images.rows) {
      throw new KitError(
        `trainHead: ${what} has ${m.rows} rows but images have ${opts.images.rows} (row i must be image i)`,
      );
    }
  };
  check(opts.images, "images");
  const textArrays = langs.map((l) => {
    const m = opts.textByLang[l]!;
    check(m, `captions "${l}"`);
    return m.data;
  });
  return { n: opts.images.rows, textArrays };
}

function checkIndices(idx: ArrayLike<number>, n: number, what: string): Int32Array {
  const out = Int32Array.from(idx);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new KitError(`trainHead: ${what}[${i}] = ${v}; expected a row in [0, ${n})`);
    }
  }
  return out;
}

function dataFingerprint(
  langs: string[],
  opts: TrainHeadOptions,
  trainIdx: Int32Array,
  holdoutIdx: Int32Array,
): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ langs, rows: opts.images.rows, dim: opts.images.cols }));
  h.update(new Uint8Array(trainIdx.buffer, trainIdx.byteOffset, trainIdx.byteLength));
  h.update("|");
  h.update(new Uint8Array(holdoutIdx.buffer, holdoutIdx.byteOffset, holdoutIdx.byteLength));
  for (const m of [opts.images, ...langs.map((l) => opts.textByLang[l]!)]) {
    h.update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  }
  return h.digest("hex");
}

function checkCompatible(
  ck: TrainCheckpoint,
  path: string,
  head: Head,
  config: TrainConfig,
  fingerprint: string,
): void {
  const hint = ["delete the checkpoint (or pick another path) to start over"];
  if (ck.headKind !== head.kind || ck.dim !== head.dim) {
    throw new KitError(
      `${path}: checkpoint is for a ${ck.headKind} head of width ${ck.dim}, not ${head.kind}/${head.dim}`,
      hint,
    );
  }
  const diffs = (Object.keys(config) as (keyof TrainConfig)[])
    .filter((k) => JSON.stringify(ck.config[k]) !== JSON.stringify(config[k]))
    .map((k) =>
      `${k}: checkpoint ${JSON.stringify(ck.config[k])}, now ${JSON.stringify(config[k])}`
    );
  if (diffs.length > 0) {
    throw new KitError(
      `${path}: checkpoint was written with another config (${diffs.join("; ")})`,
      hint,
    );
  }
  if (ck.dataFingerprint !== fingerprint) {
    throw new KitError(
      `${path}: checkpoint was trained on other data or another split (fingerprint differs)`,
      hint,
    );
  }
  for (const p of head.parameters) {
    if (!ck.head[p.name] || ck.head[p.name]!.length !== p.variable.size) {
      throw new KitError(
        `${path}: checkpoint parameter "${p.name}" is missing or has the wrong size`,
        hint,
      );
    }
  }
}
