/**
 * Where the time of one step of notebook 04's NLI probe goes at the paper's width (issue 27):
 * `NliMlpClassifier` (MLP 4·1024 → 512 → 512 → 512 → 3, batch 32) on the active backend.
 *
 *   ./kit run -A bench/nli_probe_step/nli_probe_step.ts [--d 1024] [--steps 60]
 *
 * Prints CPU and wall milliseconds a unit (median of repetitions after a warm-up) of:
 * - `train step`: a whole training step of `NliMlpClassifier.train` (from two runs of `steps`
 *   and 1 step, their difference over `steps − 1`: init and the selection pass cancel out);
 * - its parts, replayed with the same shapes: feature building (`gatherPairRows` +
 *   `nliFeaturesTensor`), parameter upload (tensors + transposed copies), forward + backward +
 *   gradient read-back (`mlpLossAndGradients` on uploaded tensors), host Adam;
 * - `predict / 1024 pairs`: `predict` of a batch of 1024 pairs (selection and test passes).
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { initBackend, tf } from "../../lib/backend/mod.ts";
import { Adam } from "../../lib/optim/adam.ts";
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
async function median(fn: () => void | Promise<void>, reps: number): Promise<T> {
  await fn();
  const xs: T[] = [];
  for (let i = 0; i < reps; i++) xs.push(await time(fn));
  const mid = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  return { cpuMs: mid(xs.map((x) => x.cpuMs)), ms: mid(xs.map((x) => x.ms)) };
}

const rows: [string, T][] = [];
const select = randomPairs(1, 9);
// whole steps: train on steps·batch pairs minus train on one batch (one epoch each)
const many = randomPairs(steps * batch, 1), one = randomPairs(batch, 1);
const opts = { seed: 1, epochs: 1 };
const run = async (p: EmbeddedNliPairs) =>
  (await NliMlpClassifier.train(p, select, opts)).dispose();
await run(one);
const a = await time(() => run(many)), b = await time(() => run(one));
rows.push(["train step", {
  cpuMs: (a.cpuMs - b.cpuMs) / (steps - 1),
  ms: (a.ms - b.ms) / (steps - 1),
}]);

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
  await median(async () => {
    const x = features();
    await x.data();
    x.dispose();
  }, 20),
]);
const upload = () => {
  const L = params.w.length;
  const w = [], wt = [], bb = [];
  for (let l = 0; l < L; l++) {
    const r = widths[l]!, c = widths[l + 1]!;
    w.push(tf.tensor2d(params.w[l]!, [r, c]));
    wt.push(l === 0 ? null : tf.tensor2d(transposeData(params.w[l]!, r, c), [c, r]));
    bb.push(tf.tensor1d(params.b[l]!));
  }
  return { w, wt, b: bb };
};
const dispose = (t: ReturnType<typeof upload>) =>
  tf.dispose([...t.w, ...t.b, ...t.wt.filter((x): x is tf.Tensor2D => x !== null)]);
rows.push([
  "  upload parameters (+ transposed copies)",
  await median(() => {
    dispose(upload());
  }, 20),
]);
rows.push([
  "    of which transposeData (JS)",
  await median(() => {
    for (let l = 1; l < params.w.length; l++) {
      transposeData(params.w[l]!, widths[l]!, widths[l + 1]!);
    }
  }, 20),
]);
const tensors = upload();
const x = features();
const labels = Int32Array.from(idx, (k) => many.labels[k]!);
let grads = await mlpLossAndGradients(params, x, labels, tensors);
rows.push([
  "  forward + backward + read-back",
  await median(async () => {
    grads = await mlpLossAndGradients(params, x, labels, tensors);
  }, 20),
]);
const names = [...params.w.map((_, l) => `w${l}`), ...params.b.map((_, l) => `b${l}`)];
const L = params.w.length;
const flat = (w: Float32Array[], b: Float32Array[]) =>
  Object.fromEntries(names.map((k, i) => [k, i < L ? w[i]! : b[i - L]!]));
const adam = new Adam(
  Object.fromEntries(Object.entries(flat(params.w, params.b)).map(([k, v]) => [k, v.length])),
  { lr: 1e-3 },
);
rows.push([
  "  Adam (host, WASM kernel, copies in and out)",
  await median(() => {
    adam.step(flat(params.w, params.b), flat(grads.gw, grads.gb));
  }, 20),
]);
x.dispose();
dispose(tensors);

// prediction of 1024 pairs
const clf = await NliMlpClassifier.train(one, select, opts);
const pred = randomPairs(1024, 3);
rows.push([
  "predict / 1024 pairs",
  await median(async () => {
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
