import { KitError } from "../util/kit_error.ts";
import { ProgressBar } from "../util/progress.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { Adam, type SparseRows } from "../optim/adam.ts";
import { clipGradNorm } from "../optim/clip_grad_norm.ts";
import {
  bestStatePath,
  readTrainingCheckpointInto,
  restoreBestState,
  saveBestState,
  writeTrainingCheckpoint,
} from "./checkpoint_io.ts";
import type { ParameterSet, ParameterState } from "../encoders/parameter_set.ts";

/**
 * Gradients of one step, by module then parameter name: exactly the parameters that received a
 * gradient this step. A module or parameter left out is frozen at this step — Adam leaves it
 * and its state alone (torch: `requires_grad = False`, `.grad` None).
 */
export type ModuleGrads = Record<string, ParameterState>;

/** What a task's step returns. */
export interface StepResult {
  loss: number;
  grads: ModuleGrads;
  /**
   * Row-sparse gradients (embedding tables), by module then parameter name, instead of a dense
   * one in `grads`: Adam's update of the table as if the gradient were dense (or lazily, see
   * `sparseRowUpdate`). Not combined with gradient clipping.
   */
  sparse?: Record<string, Record<string, SparseRows>>;
}

/** A training task run by `runResumableTraining`. */
export interface TrainingTask {
  /** Trainable modules by name (their parameters are updated in place). */
  modules: Record<string, ParameterSet>;
  /**
   * Loss and gradients of 0-based global step `step`; all randomness must come from `rng` (its
   * state is checkpointed) or from `step` itself, so a resumed run follows the same trajectory.
   */
  step(step: number, rng: SeededRandom): Promise<StepResult>;
  /**
   * Validation loss (lower is better) after `stepsDone` steps; evaluated every `evalEvery` steps
   * and at the end, or exactly when `validateAfter` says.
   */
  validate?: (stepsDone: number) => Promise<number>;
  /**
   * When given, validation runs after a step exactly when this returns true for the steps done
   * (K's loop: within-epoch batch index a positive multiple of 300) — not before the first step,
   * not at the end otherwise; `evalEvery` is then unused.
   */
  validateAfter?: (stepsDone: number) => boolean;
}

/** Optimisation settings. */
export interface TrainingSchedule {
  steps: number;
  lr: number;
  /** Linear warm-up steps, then linear decay to `finalLrFraction·lr`. */
  warmupSteps: number;
  finalLrFraction: number;
  /** Global gradient-norm clip (0: none). */
  maxGradNorm: number;
  weightDecay: number;
  seed: number;
  /** Validate every this many steps (0: only at the end). */
  evalEvery: number;
  /** Write a checkpoint every this many steps. */
  checkpointEvery: number;
}

/** What a finished (or stopped) run reports. */
export interface TrainingOutcome {
  stepsDone: number;
  completed: boolean;
  lossHistory: number[];
  /** `[step, validation loss]` pairs. */
  valHistory: [number, number][];
  bestStep: number;
  bestValLoss: number;
  /** Steps already done when this call resumed, or null for a fresh start. */
  resumedFromStep: number | null;
  /** Wall-clock seconds spent in this call. */
  seconds: number;
}

/** Options of `runResumableTraining`. */
export interface ResumableTrainingOptions {
  label: string;
  task: TrainingTask;
  schedule: TrainingSchedule;
  /** Checkpoint file (`.safetensors`, written atomically); resumed from when it exists. */
  checkpointPath: string;
  /** Identifies config + data: a checkpoint with another fingerprint is an error. */
  fingerprint: string;
  /** Stop after this many global steps (checkpoint written) — to simulate a killed run. */
  stopAfterSteps?: number;
  /** Progress bar off (tests). */
  quiet?: boolean;
  /**
   * Whether the untrained parameters (the validation before step 1) may be kept as the best
   * (default true). K's trainers pass false: their code validates only after training steps.
   */
  selectStepZero?: boolean;
  /**
   * Learning rate of step `s` when the schedule's warm-up + linear decay is not the plan's (K's
   * paper plan: constant within an epoch, linear decay per epoch). Default `linearWarmupDecayLr`.
   */
  lrAt?: (s: number) => number;
  /**
   * How row-sparse gradients update their tables: `"dense"` (default, torch.optim.Adam's
   * semantics) or `"lazy"` (torch.optim.SparseAdam's: only the looked-up rows).
   */
  sparseRowUpdate?: "dense" | "lazy";
}

const FORMAT = "image-pivot-kit/model-checkpoint/1";

/** Learning rate of step `s`: linear warm-up, then linear decay (K's per-epoch linear decay, per step). */
export function linearWarmupDecayLr(s: number, c: TrainingSchedule): number {
  if (s < c.warmupSteps) return c.lr * (s + 1) / Math.max(1, c.warmupSteps);
  const p = (s - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps);
  return c.lr * (1 - (1 - c.finalLrFraction) * Math.min(1, p));
}

/**
 * Runs a training task for `schedule.steps` optimizer steps with the kit's Adam (decoupled
 * weight decay), gradient clipping and a warm-up + linear-decay rate; validates every
 * `evalEvery` steps and keeps the parameters with the lowest validation loss (restored into the
 * modules at the end; without `validate`, the last parameters). Every `checkpointEvery` steps
 * the parameters, Adam moments, RNG state, best state and histories go to one `.safetensors`
 * file, atomically; a rerun resumes from it and follows the identical trajectory. A progress
 * bar shows steps, rate and ETA.
 */
export async function runResumableTraining(
  opts: ResumableTrainingOptions,
): Promise<TrainingOutcome> {
  const t0 = performance.now();
  const { task, schedule: c } = opts;
  const names: string[] = [];
  const sizes: Record<string, number> = {};
  for (const [m, ps] of Object.entries(task.modules)) {
    for (const [n, size] of Object.entries(ps.sizes())) {
      names.push(`${m}/${n}`);
      sizes[`${m}/${n}`] = size;
    }
  }
  const params: ParameterState = {};
  for (const [m, ps] of Object.entries(task.modules)) {
    for (const n of ps.names) params[`${m}/${n}`] = ps.values[n]!;
  }
  const adam = new Adam(sizes, { lr: c.lr, weightDecay: c.weightDecay, decoupled: true });
  const rng = new SeededRandom(c.seed);
  let step = 0, bestStep = -1, bestVal = Infinity;
  const lossHistory: number[] = [];
  const valHistory: [number, number][] = [];
  let resumedFromStep: number | null = null;

  // checkpoint and best state: streamed to and from disk tensor by tensor (checkpoint_io.ts)
  const bestPath = bestStatePath(opts.checkpointPath);
  let hasBest = false;
  const live = adam.stateViews();
  const ck = await readTrainingCheckpointInto(
    opts.checkpointPath,
    { names, params, m: live.m, v: live.v, bestPath },
    (md) => {
      if (md.format !== FORMAT || md.fingerprint !== opts.fingerprint) {
        throw new KitError(
          `${opts.checkpointPath}: checkpoint belongs to another configuration or data (fingerprint differs)`,
          ["delete it to start this training over"],
        );
      }
    },
  );
  if (ck) {
    const md = ck.metadata;
    adam.setState({
      steps: checkpointAdamSteps(opts.checkpointPath, md, names),
      m: live.m,
      v: live.v,
    });
    rng.state = Number(md.rng_state);
    step = Number(md.step);
    bestStep = Number(md.best_step);
    bestVal = md.best_val === "inf" ? Infinity : Number(md.best_val);
    hasBest = ck.hasBest;
    lossHistory.push(...ck.lossHistory);
    valHistory.push(...ck.valHistory);
    for (const ps of Object.values(task.modules)) ps.sync();
    resumedFromStep = step;
    if (!opts.quiet) console.error(resumeLine(opts.label, step, c.steps, ck.mtime));
  }

  const save = async () => {
    const st = adam.stateViews();
    await writeTrainingCheckpoint(opts.checkpointPath, {
      names,
      params,
      m: st.m,
      v: st.v,
      lossHistory,
      valHistory,
      bestPath: hasBest ? bestPath : null,
      metadata: {
        format: FORMAT,
        fingerprint: opts.fingerprint,
        step: String(step),
        adam_steps: JSON.stringify(st.steps),
        rng_state: String(rng.state),
        best_step: String(bestStep),
        best_val: Number.isFinite(bestVal) ? String(bestVal) : "inf",
        has_best: hasBest ? "1" : "0",
      },
    });
  };

  const validate = async () => {
    if (!task.validate) return;
    const v = await task.validate(step);
    if (!Number.isFinite(v)) {
      throw new KitError(`${opts.label}: validation loss is ${v} at step ${step}`);
    }
    valHistory.push([step, v]);
    if (v < bestVal && (step > 0 || opts.selectStepZero !== false)) {
      bestVal = v;
      bestStep = step;
      await saveBestState(bestPath, names, params);
      hasBest = true;
    }
  };

  const bar = opts.quiet
    ? null
    : new ProgressBar(opts.label, c.steps, { unit: "steps", start: step });
  if (step === 0 && valHistory.length === 0 && !task.validateAfter) await validate();
  const stopAt = Math.min(c.steps, opts.stopAfterSteps ?? c.steps);
  while (step < stopAt) {
    const { loss, grads, sparse } = await task.step(step, rng);
    if (!Number.isFinite(loss)) {
      throw new KitError(`${opts.label}: the loss is ${loss} at step ${step} (training diverged)`, [
        "try a lower learning rate",
      ]);
    }
    // only the parameters that received a gradient this step (the others are frozen)
    const flat: ParameterState = {};
    const sparseFlat: Record<string, SparseRows> = {};
    for (const n of names) {
      const [m, ...rest] = n.split("/");
      const sg = sparse?.[m!]?.[rest.join("/")];
      const g = grads[m!]?.[rest.join("/")];
      if (sg) sparseFlat[n] = sg;
      else if (g) flat[n] = g;
    }
    const lr = opts.lrAt ? opts.lrAt(step) : linearWarmupDecayLr(step, c);
    if (Object.keys(sparseFlat).length > 0) {
      if (c.maxGradNorm > 0) {
        throw new KitError(`${opts.label}: row-sparse gradients cannot be clipped (maxGradNorm 0)`);
      }
      adam.stepSparse(params, flat, sparseFlat, lr, opts.sparseRowUpdate ?? "dense");
    } else {
      if (c.maxGradNorm > 0) clipGradNorm(flat, c.maxGradNorm);
      adam.step(params, flat, lr);
    }
    for (const ps of Object.values(task.modules)) ps.sync();
    lossHistory.push(loss);
    step += 1;
    bar?.tick();
    if (task.validateAfter) {
      if (task.validateAfter(step)) await validate();
    } else {
      if (c.evalEvery > 0 && step % c.evalEvery === 0 && step < c.steps) await validate();
      if (step === c.steps) await validate();
    }
    if (step % c.checkpointEvery === 0 || step === stopAt) await save();
  }
  bar?.done();
  const completed = step >= c.steps;
  if (completed && hasBest) {
    await restoreBestState(bestPath, names, params);
    for (const ps of Object.values(task.modules)) ps.sync();
  }
  // the checkpoint holds its own copy of the best state; the working file goes
  if (completed) await Deno.remove(bestPath).catch(() => {});
  return {
    stepsDone: step,
    completed,
    lossHistory,
    valHistory,
    bestStep,
    bestValLoss: bestVal,
    resumedFromStep,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * The line printed when a training resumes: `resuming <label> from step N/M (checkpoint <time>)`,
 * the time being the checkpoint file's modification time (UTC, to the second).
 */
export function resumeLine(label: string, step: number, steps: number, mtime: Date | null): string {
  const when = mtime
    ? mtime.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC")
    : "time unknown";
  return `resuming ${label} from step ${step}/${steps} (checkpoint ${when})`;
}

/** Each parameter's Adam step count in a checkpoint's metadata (`adam_steps`, JSON by name). */
function checkpointAdamSteps(
  path: string,
  md: Record<string, string>,
  names: readonly string[],
): Record<string, number> {
  let steps: Record<string, number>;
  try {
    steps = JSON.parse(md.adam_steps ?? "") as Record<string, number>;
  } catch {
    throw new KitError(`${path}: checkpoint metadata "adam_steps" missing or not valid JSON`, [
      "a checkpoint written before Adam kept per-parameter state: delete it to start over",
    ]);
  }
  for (const n of names) {
    if (!Number.isInteger(steps[n])) {
      throw new KitError(`${path}: checkpoint metadata "adam_steps" lacks "${n}"`);
    }
  }
  return steps;
}
