/**
 * Where the time of one step of notebook 04's NLI probe goes at the paper's width (issue 27):
 * `NliMlpClassifier` (MLP 4·1024 → 512 → 512 → 512 → 3, batch 32) on the active backend.
 *
 *   ./kit run -A bench/nli_probe_step/nli_probe_step.ts [--d 1024] [--steps 60]
 *
 * Prints CPU and wall milliseconds a unit (the repetition with the least CPU time after a
 * warm-up, as the plan's probes: on a shared machine the least disturbed one) of:
 * - `train step`: a whole training step of `NliMlpClassifier.train` (from two runs of `steps`
 *   and 1 step, their difference over `steps − 1`: init and the selection pass cancel out);
 * - its parts, replayed with the same shapes, the original step's way ("before") beside the
 *   in-place step's ("after", same values bit for bit): feature building (`gatherPairRows` +
 *   `nliFeaturesTensor`), parameter upload, the transposed copies (host `transposeData` vs the
 *   backend's transpose), forward + backward + gradient read-back, the read-back alone (`data()`
 *   vs `readFloat32Into` kept buffers), host Adam (copies in and out vs in its workspace);
 * - the step as the plan's unit probe times it (`NliMlpClassifier.startTraining().step`);
 * - `predict / 1024 pairs`: `predict` of a batch of 1024 pairs (selection and test passes).
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { initBackend, tf } from "../../lib/backend/mod.ts";
import { Adam } from "../../lib/optim/adam.ts";
import { readFloat32Into } from "../../lib/backend/read_into.ts";
import { nativeMatMulActive } from "../../lib/backend/native_matmul_kernel.ts";
import { transposeData } from "../../lib/retrieval/row_matrix.ts";
import { SeededRandom } from "../../lib/util/seeded_random.ts";
import {
  type EmbeddedNliPairs,
  gatherPairRows,
  initMlpParams,
  mlpLossAndGradients,
  nliFeaturesTensor,
  NliMlpClassifier,
} from "../../lib/xnli/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { d: { type: "string", default: "1024" }, steps: { type: "string", default: "60" } },
});
const d = Number(values.d), steps = Number(values.steps), batch = 32;
const info = await initBackend();

function randomPairs(n: number, seed: number): EmbeddedNliPairs {
  const rng = new SeededRandom(seed);
  const rows = Math.max(1, Math.ceil(n / 3));
  const mat = () => {
    const data = new Float32Array(rows * d);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 0.1;
    return { data, rows, cols: d };
  };
  return {
    premises: mat(),
    hypotheses: mat(),
    premiseRow: Int32Array.from({ length: n }, (_, i) => i % rows),
    hypothesisRow: Int32Array.from({ length: n }, (_, i) => (i * 7) % rows),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
  };
}

interface T {
  cpuMs: number;
  ms: number;
}
async function time(fn: () => void | Promise<void>): Promise<T> {
  const t = performance.now(), c = process.cpuUsage();
  await fn();
  const u = process.cpuUsage(c);
  return { ms: performance.now() - t, cpuMs: (u.user + u.system) / 1000 };
}
/** The repetition with the least CPU time after a warm-up (as the plan's probes: the least disturbed). */
async function leastCpu(fn: () => void | Promise<void>, reps: number): Promise<T> {
  await fn();
  let best: T = { cpuMs: Infinity, ms: Infinity };
  for (let i = 0; i < reps; i++) {
    const t = await time(fn);
    if (t.cpuMs < best.cpuMs) best = t;
  }
  return best;
}

const rows: [string, T][] = [];
const select = randomPairs(1, 9);
// whole steps: train on steps·batch pairs minus train on one batch (one epoch each)
const many = randomPairs(steps * batch, 1), one = randomPairs(batch, 1);
const opts = { seed: 1, epochs: 1 };
const run = async (p: EmbeddedNliPairs) =>
  (await NliMlpClassifier.train(p, select, opts)).dispose();
await run(one);
// least disturbed of three (CPU of `steps` steps − CPU of one step), as the parts below
let train: T = { cpuMs: Infinity, ms: Infinity };
for (let i = 0; i < 3; i++) {
  const a = await time(() => run(many)), b = await time(() => run(one));
  const t = { cpuMs: (a.cpuMs - b.cpuMs) / (steps - 1), ms: (a.ms - b.ms) / (steps - 1) };
  if (t.cpuMs < train.cpuMs) train = t;
}
rows.push(["train step", train]);

// the parts
const widths = [4 * d, 512, 512, 512, 3];
const params = initMlpParams(widths, 1);
const idx = Array.from({ length: batch }, (_, i) => (i * 37) % many.labels.length);
const bufP = new Float32Array(batch * d), bufH = new Float32Array(batch * d);
const features = () => {
  gatherPairRows(many, idx, bufP, bufH);
  return tf.tidy(() =>
    nliFeaturesTensor(tf.tensor2d(bufP, [batch, d]), tf.tensor2d(bufH, [batch, d]))
  );
};
rows.push([
  "  features (gather + concat)",
  await leastCpu(async () => {
    const x = features();
    await x.data();
    x.dispose();
  }, 20),
]);
const L = params.w.length;
const uploadOnly = () => ({
  w: params.w.map((w, l) => tf.tensor2d(w, [widths[l]!, widths[l + 1]!])),
  b: params.b.map((b) => tf.tensor1d(b)),
});
rows.push([
  "  upload W and b (tensors from host arrays)",
  await leastCpu(() => {
    const t = uploadOnly();
    tf.dispose([...t.w, ...t.b]);
  }, 20),
]);
rows.push([
  "  transposed copies: transposeData (JS) + upload (before; still without free flags)",
  await leastCpu(() => {
    const wt = [];
    for (let l = 1; l < L; l++) {
      wt.push(tf.tensor2d(transposeData(params.w[l]!, widths[l]!, widths[l + 1]!), [
        widths[l + 1]!,
        widths[l]!,
      ]));
    }
    tf.dispose(wt);
  }, 20),
]);
const up = uploadOnly();
rows.push([
  "  transposed copies by the backend's transpose instead (not used: no faster)",
  await leastCpu(() => {
    tf.dispose(up.w.slice(1).map((w) => tf.transpose(w)));
  }, 20),
]);
const x = features();
const labels = Int32Array.from(idx, (k) => many.labels[k]!);
const tensors = {
  w: up.w,
  b: up.b,
  wt: [null, ...up.w.slice(1).map((w) => tf.transpose(w))],
  flags: false,
};
let grads = await mlpLossAndGradients(params, x, labels, tensors as never);
rows.push([
  "  forward + backward (explicit transposed copies) + read-back into fresh arrays",
  await leastCpu(async () => {
    grads = await mlpLossAndGradients(params, x, labels, tensors as never);
  }, 20),
]);
// (the original code, for a "before" run, has neither transpose flags nor startTraining)
const current = typeof (NliMlpClassifier as { startTraining?: unknown }).startTraining ===
  "function";
const flagged = { w: up.w, b: up.b, wt: up.w.map(() => null), flags: true };
if (current) {
  rows.push([
    `  forward + backward (transpose flags${
      nativeMatMulActive() ? "" : ": not free on this backend"
    }) + read-back into fresh arrays`,
    await leastCpu(async () => {
      await mlpLossAndGradients(params, x, labels, flagged as never);
    }, 20),
  ]);
}
// read-back alone: data() (a fresh ArrayBuffer each) vs readFloat32Into a kept buffer
const gT = params.w.map((w) => tf.randomNormal([w.length]) as tf.Tensor1D);
const kept = params.w.map((w) => new Float32Array(w.length));
rows.push([
  "    read-back, before: data() of every weight gradient",
  await leastCpu(async () => {
    await Promise.all(gT.map((t) => t.data()));
  }, 20),
]);
rows.push([
  "    read-back, after: readFloat32Into kept buffers",
  await leastCpu(async () => {
    await Promise.all(gT.map((t, l) => readFloat32Into(t, kept[l]!)));
  }, 20),
]);
tf.dispose(gT);
const names = [...params.w.map((_, l) => `w${l}`), ...params.b.map((_, l) => `b${l}`)];
const flat = (w: Float32Array[], b: Float32Array[]) =>
  Object.fromEntries(names.map((k, i) => [k, i < L ? w[i]! : b[i - L]!]));
const sizes = Object.fromEntries(
  Object.entries(flat(params.w, params.b)).map(([k, v]) => [k, v.length]),
);
const adam = new Adam(sizes, { lr: 1e-3 });
rows.push([
  "  Adam, before: host arrays copied into the kernel's memory and back",
  await leastCpu(() => {
    adam.step(flat(params.w, params.b), flat(grads.gw, grads.gb));
  }, 20),
]);
const adam2 = new Adam(sizes, { lr: 1e-3 });
const pv = Object.fromEntries(names.map((k) => [k, adam2.workspace(k).params]));
const gv = Object.fromEntries(names.map((k) => [k, adam2.workspace(k).grads]));
rows.push([
  "  Adam, after: in place in its workspace (no copies)",
  await leastCpu(() => {
    adam2.step(pv, gv);
  }, 20),
]);
x.dispose();
tf.dispose([...up.w, ...up.b, ...tensors.wt.filter((t): t is tf.Tensor2D => t !== null)]);
if (current) {
  rows.push([
    "step as the plan's probe times it (NliMlpClassifier.startTraining().step)",
    await (async () => {
      const run = NliMlpClassifier.startTraining(d, { seed: 1 });
      let at = 0;
      const t = await leastCpu(async () => {
        for (let i = 0; i < 8; i++) {
          await run.step(
            many,
            Int32Array.from({ length: batch }, (_, j) => (at + j * 13) % many.labels.length),
          );
          at += batch;
        }
      }, 5);
      run.classifier.dispose();
      return { cpuMs: t.cpuMs / 8, ms: t.ms / 8 };
    })(),
  ]);
}

// prediction of 1024 pairs
const clf = await NliMlpClassifier.train(one, select, opts);
const pred = randomPairs(1024, 3);
rows.push([
  "predict / 1024 pairs",
  await leastCpu(async () => {
    await clf.predict(pred);
  }, 5),
]);
clf.dispose();

const nParams = params.w.reduce((s, w) => s + w.length, 0) +
  params.b.reduce((s, b) => s + b.length, 0);
console.log(
  `NLI probe step, d = ${d} (MLP ${
    widths.join(" → ")
  }, ${nParams} parameters), batch ${batch}; backend ${info.name}; ${steps} steps; load average ${
    Deno.loadavg()[0]!.toFixed(2)
  }`,
);
console.log("| part | CPU ms | wall ms |\n| --- | ---: | ---: |");
for (const [k, t] of rows) console.log(`| ${k} | ${t.cpuMs.toFixed(1)} | ${t.ms.toFixed(1)} |`);
