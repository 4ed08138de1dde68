/**
 * `runDeviceResumableTraining` (WebGPU, Mesa lavapipe here) against the host trainer
 * `runResumableTraining` (WASM) on a small two-module regression, and its checkpoints: a run
 * stopped and resumed follows the uninterrupted trajectory; a module frozen for the first steps
 * is left untouched and gets its own step count; K's validation cadence (`validateAfter`) as the
 * host trainer's.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { ParameterSet, type ParameterSpec } from "../lib/encoders/parameter_set.ts";
import { runDeviceResumableTraining } from "../lib/resumable_training/device_resumable_trainer.ts";
import { moduleGrads } from "../lib/resumable_training/module_grads.ts";
import {
  runResumableTraining,
  type TrainingSchedule,
} from "../lib/resumable_training/resumable_trainer.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const ignore = !adapter && Deno.env.get("KIT_REQUIRE_WEBGPU") !== "1";

const N = 16, D = 4, H = 3;
const data = (() => {
  const r = new SeededRandom(11);
  const x = Float32Array.from({ length: N * D }, () => r.normal());
  const y = Float32Array.from({ length: N }, (_, i) => Math.sin(x[i * D]!) + 0.5 * x[i * D + 1]!);
  return { x, y };
})();

const schedule: TrainingSchedule = {
  steps: 8,
  lr: 0.05,
  warmupSteps: 2,
  finalLrFraction: 0.1,
  maxGradNorm: 0.5,
  weightDecay: 0.01,
  seed: 5,
  evalEvery: 3,
  checkpointEvery: 2,
};

function modules() {
  const lin: ParameterSpec[] = [
    { name: "w", shape: [D, H], init: { kind: "normal", std: 0.5 } },
    { name: "b", shape: [H], init: { kind: "normal", std: 0.1 } },
  ];
  const out: ParameterSpec[] = [{ name: "u", shape: [H, 1], init: { kind: "normal", std: 0.5 } }];
  return { lin: new ParameterSet(lin, 1), out: new ParameterSet(out, 2) };
}

/** Mean squared error of rows `rows` (all rows when null); call inside tidy / gradients. */
function loss(m: ReturnType<typeof modules>, rows: number[] | null): tf.Scalar {
  const idx = rows ?? Array.from({ length: N }, (_, i) => i);
  const x = tf.tensor2d(idx.flatMap((i) => Array.from(data.x.subarray(i * D, i * D + D))), [
    idx.length,
    D,
  ]);
  const y = tf.tensor2d(idx.map((i) => data.y[i]!), [idx.length, 1]);
  const h = tf.tanh(tf.add(tf.matMul(x, m.lin.tensor("w") as tf.Tensor2D), m.lin.tensor("b")));
  const p = tf.matMul(h, m.out.tensor("u") as tf.Tensor2D);
  return tf.mean(tf.square(tf.sub(p, y))) as tf.Scalar;
}

function batchRows(rng: SeededRandom): number[] {
  return Array.from({ length: 6 }, () => Math.floor(rng.next() * N));
}

/** Options of a run: a frozen `out` module for the first steps, K-style validation cadence. */
interface RunOptions {
  stopAfterSteps?: number;
  frozenOutUntil?: number;
  validateAfter?: (stepsDone: number) => boolean;
  /** Receives the `stepsDone` of each validation. */
  validatedAt?: number[];
}

async function hostRun(dir: string, opts: RunOptions = {}) {
  await initBackend("wasm");
  const m = modules();
  const outcome = await runResumableTraining({
    label: "host",
    schedule,
    checkpointPath: `${dir}/host.safetensors`,
    fingerprint: "t",
    quiet: true,
    task: {
      modules: m,
      step: async (s, rng) => {
        const rows = batchRows(rng);
        const frozen = s < (opts.frozenOutUntil ?? 0);
        const r = await moduleGrads(frozen ? { lin: m.lin } : m, [], () => loss(m, rows));
        return { loss: r.loss, grads: r.grads };
      },
      validateAfter: opts.validateAfter,
      validate: async (stepsDone) => {
        opts.validatedAt?.push(stepsDone);
        const l = tf.tidy(() => loss(m, null));
        const v = (await l.data())[0]!;
        l.dispose();
        return v;
      },
    },
  });
  const state = { lin: m.lin.getState(), out: m.out.getState() };
  m.lin.dispose();
  m.out.dispose();
  return { outcome, state };
}

async function deviceRun(dir: string, opts: RunOptions) {
  await initBackend("webgpu");
  const m = modules();
  const vars = {
    lin: m.lin.names.map((n) => m.lin.tensor(n) as tf.Variable),
    out: m.out.names.map((n) => m.out.tensor(n) as tf.Variable),
  };
  const outcome = await runDeviceResumableTraining({
    label: "device",
    schedule,
    checkpointPath: `${dir}/device.safetensors`,
    fingerprint: "t",
    quiet: true,
    stopAfterSteps: opts.stopAfterSteps,
    readLossEvery: 3,
    task: {
      modules: m,
      step: (s, rng) => {
        const rows = batchRows(rng);
        const frozen = s < (opts.frozenOutUntil ?? 0);
        const list = frozen ? vars.lin : [...vars.lin, ...vars.out];
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => loss(m, rows)), list);
        const named = (ps: ParameterSet, vs: tf.Variable[]) =>
          Object.fromEntries(vs.map((v, k) => [ps.names[k]!, grads[v.name]!]));
        const g: Record<string, Record<string, tf.Tensor>> = { lin: named(m.lin, vars.lin) };
        if (!frozen) g.out = named(m.out, vars.out);
        return Promise.resolve({ loss: value, grads: g });
      },
      validateAfter: opts.validateAfter,
      validate: async (stepsDone) => {
        opts.validatedAt?.push(stepsDone);
        const l = tf.tidy(() => loss(m, null));
        const v = (await l.data())[0]!;
        l.dispose();
        return v;
      },
    },
  });
  const state = { lin: m.lin.getState(), out: m.out.getState() };
  m.lin.dispose();
  m.out.dispose();
  return { outcome, state };
}

function maxRel(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const [n, v] of Object.entries(a)) {
    const w = b[n]!;
    let d = 0, s = 1e-6;
    for (let i = 0; i < v.length; i++) {
      d = Math.max(d, Math.abs(v[i]! - w[i]!));
      s = Math.max(s, Math.abs(w[i]!));
    }
    worst = Math.max(worst, d / s);
  }
  return worst;
}

Deno.test({
  name:
    "device trainer (WebGPU, losses read every 3 steps) follows the host trainer (WASM) within 1e-4",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const host = await hostRun(dir);
    const dev = await deviceRun(dir, {});
    assert.equal(dev.outcome.lossHistory.length, schedule.steps);
    dev.outcome.lossHistory.forEach((l, s) => {
      const h = host.outcome.lossHistory[s]!;
      assert.ok(Math.abs(l - h) <= 1e-4 * Math.abs(h), `step ${s}: ${l} vs ${h}`);
    });
    assert.deepEqual(dev.outcome.valHistory.map((v) => v[0]), [0, 3, 6, 8]);
    assert.equal(dev.outcome.bestStep, host.outcome.bestStep);
    assert.ok(maxRel(dev.state.lin, host.state.lin) < 1e-4);
    assert.ok(maxRel(dev.state.out, host.state.out) < 1e-4);
    // not vacuous: training lowered the validation loss
    const v = dev.outcome.valHistory;
    assert.ok(v.at(-1)![1] < v[0]![1]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "device trainer: stopped at step 3 and resumed = uninterrupted; a module frozen for 2 steps is untouched, then thaws",
  ignore,
  fn: async () => {
    const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
    const full = await deviceRun(a, { frozenOutUntil: 2 });
    const stopped = await deviceRun(b, { frozenOutUntil: 2, stopAfterSteps: 3 });
    assert.equal(stopped.outcome.completed, false);
    const resumed = await deviceRun(b, { frozenOutUntil: 2 });
    assert.equal(resumed.outcome.resumedFromStep, 3);
    assert.deepEqual(resumed.outcome.lossHistory, full.outcome.lossHistory);
    assert.ok(maxRel(resumed.state.lin, full.state.lin) < 1e-6);
    assert.ok(maxRel(resumed.state.out, full.state.out) < 1e-6);
    // frozen for steps 0–1: after 2 steps `out` still has its initial values
    const c = await Deno.makeTempDir();
    const two = await deviceRun(c, { frozenOutUntil: 2, stopAfterSteps: 2 });
    const init = modules();
    assert.deepEqual(two.state.out.u, init.out.values.u);
    assert.notDeepEqual(two.state.lin.w, init.lin.values.w);
    init.lin.dispose();
    init.out.dispose();
    for (const d of [a, b, c]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name:
    "device trainer with validateAfter (K's cadence) and a frozen module follows the host trainer within 1e-4",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    // after steps 1, 4, 7 only: not before the first step, not at the end (step 8)
    const validateAfter = (done: number) => done % 3 === 1;
    const hostAt: number[] = [], devAt: number[] = [];
    const host = await hostRun(dir, { frozenOutUntil: 2, validateAfter, validatedAt: hostAt });
    const dev = await deviceRun(dir, { frozenOutUntil: 2, validateAfter, validatedAt: devAt });
    assert.deepEqual(hostAt, [1, 4, 7]);
    assert.deepEqual(devAt, [1, 4, 7]);
    assert.deepEqual(dev.outcome.valHistory.map((v) => v[0]), [1, 4, 7]);
    dev.outcome.lossHistory.forEach((l, s) => {
      const h = host.outcome.lossHistory[s]!;
      assert.ok(Math.abs(l - h) <= 1e-4 * Math.abs(h), `step ${s}: ${l} vs ${h}`);
    });
    dev.outcome.valHistory.forEach(([, v], k) => {
      const h = host.outcome.valHistory[k]![1];
      assert.ok(Math.abs(v - h) <= 1e-4 * Math.abs(h), `validation ${k}: ${v} vs ${h}`);
    });
    assert.equal(dev.outcome.bestStep, host.outcome.bestStep);
    assert.ok(maxRel(dev.state.lin, host.state.lin) < 1e-4);
    assert.ok(maxRel(dev.state.out, host.state.out) < 1e-4);
    await Deno.remove(dir, { recursive: true });
  },
});
