import { KitError } from "../util/kit_error.ts";
import { readSafetensors, type SafeTensorInput, writeSafetensors } from "../io/safetensors.ts";
import type { AdamState } from "../optim/adam.ts";
import type { HeadKind, HeadState } from "../heads/head.ts";
import type { TrainConfig } from "./train_config.ts";

/** Everything `trainHead` needs to continue a run exactly where it stopped. */
export interface TrainCheckpoint {
  headKind: HeadKind;
  dim: number;
  config: TrainConfig;
  /** Identifies the data (shapes, languages, split indices, values) the run was trained on. */
  dataFingerprint: string;
  /** Global optimizer steps done. */
  step: number;
  /** Epochs completed. */
  epochsDone: number;
  /** Sampler RNG state after `step` draws. */
  samplerState: number;
  head: HeadState;
  /** Shape of each head parameter (by name). */
  shapes: Record<string, number[]>;
  adam: AdamState;
  /** Best holdout score so far (−1 before the first evaluation, as D's code). */
  bestScore: number;
  bestEpoch: number;
  best: HeadState | null;
  /** Loss of every step so far. */
  lossHistory: Float64Array;
  /** Holdout score after every completed epoch. */
  epochScores: Float64Array;
}

const FORMAT = "image-pivot-kit/train-checkpoint/1";

/**
 * Writes a checkpoint as one `.safetensors` file, atomically: tensors `head.<name>`,
 * `adam.m.<name>`, `adam.v.<name>`, `best.<name>` (F32), `loss_history`, `epoch_scores` (F64);
 * scalars and the config in `__metadata__`.
 */
export async function writeTrainCheckpoint(path: string, ck: TrainCheckpoint): Promise<void> {
  const tensors: Record<string, SafeTensorInput> = {};
  for (const [name, data] of Object.entries(ck.head)) {
    const shape = ck.shapes[name] ?? [data.length];
    tensors[`head.${name}`] = { dtype: "F32", shape, data };
    tensors[`adam.m.${name}`] = { dtype: "F32", shape, data: ck.adam.m[name]! };
    tensors[`adam.v.${name}`] = { dtype: "F32", shape, data: ck.adam.v[name]! };
    if (ck.best) tensors[`best.${name}`] = { dtype: "F32", shape, data: ck.best[name]! };
  }
  tensors.loss_history = { dtype: "F64", shape: [ck.lossHistory.length], data: ck.lossHistory };
  tensors.epoch_scores = { dtype: "F64", shape: [ck.epochScores.length], data: ck.epochScores };
  const metadata: Record<string, string> = {
    format: FORMAT,
    head_kind: ck.headKind,
    dim: String(ck.dim),
    config: JSON.stringify(ck.config),
    data_fingerprint: ck.dataFingerprint,
    step: String(ck.step),
    epochs_done: String(ck.epochsDone),
    sampler_state: String(ck.samplerState),
    adam_steps: JSON.stringify(ck.adam.steps),
    best_score: JSON.stringify(ck.bestScore),
    best_epoch: String(ck.bestEpoch),
    has_best: ck.best ? "1" : "0",
  };
  await writeSafetensors(path, tensors, metadata);
}

/** Reads a checkpoint written by `writeTrainCheckpoint` (KitError naming the file otherwise). */
export async function readTrainCheckpoint(path: string): Promise<TrainCheckpoint> {
  const file = await readSafetensors(path);
  const md = file.metadata;
  if (md.format !== FORMAT) {
    throw new KitError(
      `${path}: not a training checkpoint of this kit (format ${
        JSON.stringify(md.format)
      }, expected ${FORMAT})`,
    );
  }
  const num = (k: string): number => {
    const v = Number(md[k]);
    if (md[k] === undefined || !Number.isFinite(v)) {
      throw new KitError(`${path}: checkpoint metadata "${k}" missing or not a number`);
    }
    return v;
  };
  const f32 = (key: string): Float32Array => {
    const t = file.tensors.get(key);
    if (!t || !(t.data instanceof Float32Array)) {
      throw new KitError(`${path}: checkpoint tensor "${key}" missing or not F32`);
    }
    return t.data;
  };
  const f64 = (key: string): Float64Array => {
    const t = file.tensors.get(key);
    if (!t || !(t.data instanceof Float64Array)) {
      throw new KitError(`${path}: checkpoint tensor "${key}" missing or not F64`);
    }
    return t.data;
  };
  const names = [...file.tensors.keys()].filter((k) => k.startsWith("head.")).map((k) =>
    k.slice(5)
  );
  const head: HeadState = {},
    m: HeadState = {},
    v: HeadState = {},
    shapes: Record<string, number[]> = {};
  const hasBest = md.has_best === "1";
  const best: HeadState | null = hasBest ? {} : null;
  for (const name of names) {
    head[name] = f32(`head.${name}`);
    shapes[name] = [...file.tensors.get(`head.${name}`)!.shape];
    m[name] = f32(`adam.m.${name}`);
    v[name] = f32(`adam.v.${name}`);
    if (best) best[name] = f32(`best.${name}`);
  }
  let config: TrainConfig;
  try {
    config = JSON.parse(md.config ?? "") as TrainConfig;
  } catch {
    throw new KitError(`${path}: checkpoint metadata "config" is not valid JSON`);
  }
  return {
    headKind: md.head_kind as HeadKind,
    dim: num("dim"),
    config,
    dataFingerprint: md.data_fingerprint ?? "",
    step: num("step"),
    epochsDone: num("epochs_done"),
    samplerState: num("sampler_state"),
    head,
    shapes,
    adam: { steps: adamSteps(path, md, names), m, v },
    bestScore: num("best_score"),
    bestEpoch: num("best_epoch"),
    best,
    lossHistory: f64("loss_history"),
    epochScores: f64("epoch_scores"),
  };
}

/**
 * Each parameter's Adam step count: `adam_steps` (JSON, by name), or — in a checkpoint written
 * before Adam kept per-parameter state — the one `adam_step` every parameter shared.
 */
function adamSteps(
  path: string,
  md: Record<string, string>,
  names: readonly string[],
): Record<string, number> {
  if (md.adam_steps === undefined && md.adam_step !== undefined) {
    return Object.fromEntries(names.map((n) => [n, Number(md.adam_step)]));
  }
  try {
    return JSON.parse(md.adam_steps ?? "") as Record<string, number>;
  } catch {
    throw new KitError(`${path}: checkpoint metadata "adam_steps" missing or not valid JSON`);
  }
}
