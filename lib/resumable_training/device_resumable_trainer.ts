/**
 * The device-resident sibling of `runResumableTraining` (resumable_trainer.ts) for the WebGPU
 * backend: the task returns its loss and gradients as tensors, `DeviceAdam` updates the
 * modules' variables in place on the GPU (decoupled weight decay, clipping by the global norm on
 * the device, torch's per-parameter step counts: a module without gradients — frozen — is left
 * alone and starts its bias corrections when it thaws). The host reads the losses every
 * `readLossEvery` steps (one readback), and the parameters only when it must: at a validation
 * that improves on the best, at a checkpoint, and at the end (into each `ParameterSet.values`).
 * Same schedule, validation, best-parameter selection and atomic, resumable checkpoints as the
 * host trainer; its checkpoints have their own format (per-parameter step counts).
 */
import { tf } from "../backend/tf.ts";
import type { ParameterSet, ParameterState } from "../encoders/parameter_set.ts";
import { readSafetensors, type SafeTensorInput, writeSafetensors } from "../io/safetensors.ts";
import { DeviceAdam } from "../optim/device_adam.ts";
import { KitError } from "../util/kit_error.ts";
import { ProgressBar } from "../util/progress.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import {
  linearWarmupDecayLr,
  type ResumableTrainingOptions,
  resumeLine,
  type TrainingOutcome,
} from "./resumable_trainer.ts";

/** What a device task's step returns: tensors, not read back. */
export interface DeviceStepResult {
  /** The step's loss (a scalar tensor; the trainer disposes it). */
  loss: tf.Scalar;
  /**
   * Gradients by module then parameter name (the trainer disposes them); a module or parameter
   * left out gets no update this step (frozen).
   */
  grads: Record<string, Record<string, tf.Tensor>>;
}

/** A training task run by `runDeviceResumableTraining`. */
export interface DeviceTrainingTask {
  /** Trainable modules by name (their variables are updated in place on the device). */
  modules: Record<string, ParameterSet>;
  /** Loss and gradients of 0-based global step `step` (randomness from `rng` or `step`). */
  step(step: number, rng: SeededRandom): Promise<DeviceStepResult>;
  /**
   * Validation loss on the current (device) parameters after `stepsDone` steps; evaluated every
   * `evalEvery` steps and at the end, or exactly when `validateAfter` says.
   */
  validate?: (stepsDone: number) => Promise<number>;
  /**
   * When given, validation runs after a step exactly when this returns true for the steps done
   * (K's loop) — not before the first step, not at the end otherwise; `evalEvery` is then
   * unused. As the host trainer's (`TrainingTask.validateAfter`).
   */
  validateAfter?: (stepsDone: number) => boolean;
}

/** Options of `runDeviceResumableTraining`: the host trainer's, with a device task. */
export interface DeviceTrainingOptions extends Omit<ResumableTrainingOptions, "task"> {
  task: DeviceTrainingTask;
  /** Read the losses back every this many steps (default 1). */
  readLossEvery?: number;
}

const FORMAT = "image-pivot-kit/device-checkpoint/1";

/** Runs a device training task; see the module comment. */
export async function runDeviceResumableTraining(
  opts: DeviceTrainingOptions,
): Promise<TrainingOutcome> {
  const t0 = performance.now();
  const { task, schedule: c } = opts;
  const readEvery = Math.max(1, Math.floor(opts.readLossEvery ?? 1));
  const names: string[] = [];
  const variables: Record<string, tf.Variable> = {};
  for (const [m, ps] of Object.entries(task.modules)) {
    for (const n of ps.names) {
      if (ps.spec(n).hostOnly) {
        throw new KitError(
          `${opts.label}: parameter "${n}" is kept on the host only; device training needs every parameter on the device`,
        );
      }
      names.push(`${m}/${n}`);
      variables[`${m}/${n}`] = ps.tensor(n) as tf.Variable;
    }
  }
  const adam = new DeviceAdam(variables, {
    lr: c.lr,
    weightDecay: c.weightDecay,
    decoupled: true,
    maxGradNorm: c.maxGradNorm,
  });
  const rng = new SeededRandom(c.seed);
  let step = 0, bestStep = -1, bestVal = Infinity;
  let best: ParameterState | null = null;
  const lossHistory: number[] = [];
  const valHistory: [number, number][] = [];
  let resumedFromStep: number | null = null;
  const pending: tf.Scalar[] = [];

  /** Copies every variable into its `ParameterSet.values` (one readback a parameter). */
  const pull = async () => {
    for (const ps of Object.values(task.modules)) {
      for (const n of ps.names) ps.values[n]!.set(await ps.tensor(n).data() as Float32Array);
    }
  };
  const hostValue = (name: string): Float32Array => {
    const [m, ...rest] = name.split("/");
    return task.modules[m!]!.values[rest.join("/")]!;
  };
  /** Reads the pending losses into the history (one readback); a non-finite loss stops. */
  const readLosses = async () => {
    if (pending.length === 0) return;
    const all = tf.stack(pending);
    tf.dispose(pending);
    const first = step - pending.length;
    pending.length = 0;
    const values = Array.from(await all.data());
    all.dispose();
    values.forEach((v, k) => {
      if (!Number.isFinite(v)) {
        throw new KitError(
          `${opts.label}: the loss is ${v} at step ${first + k} (training diverged)`,
          ["try a lower learning rate"],
        );
      }
    });
    lossHistory.push(...values);
  };

  try {
    const ck = await readCheckpointIfAny(opts.checkpointPath);
    if (ck) {
      const md = ck.metadata;
      if (md.format !== FORMAT || md.fingerprint !== opts.fingerprint) {
        throw new KitError(
          `${opts.checkpointPath}: checkpoint belongs to another configuration, data or trainer (fingerprint or format differs)`,
          ["delete it to start this training over"],
        );
      }
      const f32 = (k: string) => {
        const t = ck.tensors.get(k);
        if (!t || !(t.data instanceof Float32Array)) {
          throw new KitError(`${opts.checkpointPath}: checkpoint tensor "${k}" missing`);
        }
        return t.data;
      };
      const steps = JSON.parse(md.adam_steps ?? "{}") as Record<string, number>;
      const m: ParameterState = {}, v: ParameterState = {};
      for (const n of names) {
        hostValue(n).set(f32(`param/${n}`));
        m[n] = f32(`adam.m/${n}`);
        v[n] = f32(`adam.v/${n}`);
      }
      for (const ps of Object.values(task.modules)) ps.sync();
      adam.setState({ steps, m, v });
      rng.state = Number(md.rng_state);
      step = Number(md.step);
      bestStep = Number(md.best_step);
      bestVal = md.best_val === "inf" ? Infinity : Number(md.best_val);
      if (md.has_best === "1") {
        best = Object.fromEntries(names.map((n) => [n, f32(`best/${n}`).slice()]));
      }
      const lh = ck.tensors.get("loss_history")?.data as Float64Array | undefined;
      const vh = ck.tensors.get("val_history")?.data as Float64Array | undefined;
      if (lh) lossHistory.push(...lh);
      if (vh) { for (let i = 0; i + 1 < vh.length; i += 2) valHistory.push([vh[i]!, vh[i + 1]!]); }
      resumedFromStep = step;
      if (!opts.quiet) console.error(resumeLine(opts.label, step, c.steps, ck.mtime));
    }

    const save = async () => {
      await readLosses();
      await pull();
      const st = await adam.getState();
      const tensors: Record<string, SafeTensorInput> = {};
      for (const n of names) {
        const shape = [hostValue(n).length];
        tensors[`param/${n}`] = { dtype: "F32", shape, data: hostValue(n) };
        tensors[`adam.m/${n}`] = { dtype: "F32", shape, data: st.m[n]! };
        tensors[`adam.v/${n}`] = { dtype: "F32", shape, data: st.v[n]! };
        if (best) tensors[`best/${n}`] = { dtype: "F32", shape, data: best[n]! };
      }
      tensors.loss_history = { dtype: "F64", shape: [lossHistory.length], data: lossHistory };
      tensors.val_history = {
        dtype: "F64",
        shape: [valHistory.length * 2],
        data: valHistory.flat(),
      };
      await writeSafetensors(opts.checkpointPath, tensors, {
        format: FORMAT,
        fingerprint: opts.fingerprint,
        step: String(step),
        adam_steps: JSON.stringify(st.steps),
        rng_state: String(rng.state),
        best_step: String(bestStep),
        best_val: Number.isFinite(bestVal) ? String(bestVal) : "inf",
        has_best: best ? "1" : "0",
      });
    };

    const validate = async () => {
      if (!task.validate) return;
      await readLosses();
      const v = await task.validate(step);
      if (!Number.isFinite(v)) {
        throw new KitError(`${opts.label}: validation loss is ${v} at step ${step}`);
      }
      valHistory.push([step, v]);
      if (v < bestVal && (step > 0 || opts.selectStepZero !== false)) {
        bestVal = v;
        bestStep = step;
        await pull();
        best = Object.fromEntries(names.map((n) => [n, hostValue(n).slice()]));
      }
    };

    const bar = opts.quiet
      ? null
      : new ProgressBar(opts.label, c.steps, { unit: "steps", start: step });
    if (step === 0 && valHistory.length === 0 && !task.validateAfter) await validate();
    const stopAt = Math.min(c.steps, opts.stopAfterSteps ?? c.steps);
    while (step < stopAt) {
      const { loss, grads } = await task.step(step, rng);
      const flat: Record<string, tf.Tensor> = {};
      for (const [m, gs] of Object.entries(grads)) {
        for (const [n, g] of Object.entries(gs)) flat[`${m}/${n}`] = g;
      }
      const lr = opts.lrAt ? opts.lrAt(step) : linearWarmupDecayLr(step, c);
      try {
        adam.step(flat, lr);
      } finally {
        tf.dispose(Object.values(flat));
      }
      pending.push(loss);
      step += 1;
      bar?.tick();
      if (step % readEvery === 0) await readLosses();
      if (task.validateAfter) {
        if (task.validateAfter(step)) await validate();
      } else {
        if (c.evalEvery > 0 && step % c.evalEvery === 0 && step < c.steps) await validate();
        if (step === c.steps) await validate();
      }
      if (step % c.checkpointEvery === 0 || step === stopAt) await save();
    }
    await readLosses();
    bar?.done();
    const completed = step >= c.steps;
    if (completed && best) {
      for (const n of names) hostValue(n).set(best[n]!);
      for (const ps of Object.values(task.modules)) ps.sync();
    } else {
      await pull();
    }
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
  } finally {
    tf.dispose(pending);
    adam.dispose();
  }
}

/** The checkpoint (its content hash checked by `readSafetensors`) and its mtime, or null. */
async function readCheckpointIfAny(path: string) {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return null;
  }
  return { ...(await readSafetensors(path, { requireHash: true })), mtime: info.mtime };
}
