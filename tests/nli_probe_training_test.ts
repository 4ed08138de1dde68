/**
 * Notebook 04's NLI probe training (`NliMlpClassifier.train`): the step that keeps its parameters
 * in Adam's buffers, reads gradients into them and (on OpenBLAS, WebGPU) reads transposed
 * operands through matmul flags must give bit for bit what the original step gave (fresh host
 * arrays, host transposes, `data()` read-backs, `Adam.step` copying in and out), which
 * `referenceTrain` keeps as the oracle. Run on the default backend (wasm+openblas here, as the
 * mini profile); also passes with KIT_BACKEND=wasm, cpu and (d = 64) webgpu on lavapipe. Checked at the mini profile's width (64) and the paper's (1024, K's hidden layers), so
 * the mini K-T2 table cannot change through this code path. And the progress bar shows only for
 * a long training.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import type { Tensor, Tensor1D, Tensor2D } from "../lib/backend/tf.ts";
import { Adam } from "../lib/optim/adam.ts";
import { transposeData } from "../lib/retrieval/row_matrix.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import {
  type EmbeddedNliPairs,
  gatherPairRows,
  initMlpParams,
  K_NLI_PROTOCOL,
  NLI_PROGRESS_MIN_STEPS,
  nliFeaturesTensor,
  NliMlpClassifier,
  nliTrainingProgress,
} from "../lib/xnli/mod.ts";

const backend = await initBackend();

function randomPairs(n: number, d: number, seed: number): EmbeddedNliPairs {
  const rng = new SeededRandom(seed);
  const rows = Math.ceil(n / 2);
  const mat = () => {
    const data = new Float32Array(rows * d);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return { data, rows, cols: d };
  };
  return {
    premises: mat(),
    hypotheses: mat(),
    premiseRow: Int32Array.from({ length: n }, (_, i) => i % rows),
    hypothesisRow: Int32Array.from({ length: n }, (_, i) => (i * 7) % rows),
    labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 3)),
  };
}

/** The original training loop (before the in-place step), kept as the oracle. */
async function referenceTrain(
  train: EmbeddedNliPairs,
  select: EmbeddedNliPairs,
  opts: { seed: number; hidden: number[]; epochs: number },
): Promise<{ w: Float32Array[]; b: Float32Array[]; bestEpoch: number; losses: number[] }> {
  const d = train.premises.cols, n = train.labels.length, batchSize = 32;
  const p = initMlpParams([4 * d, ...opts.hidden, 3], opts.seed);
  const L = p.w.length;
  const upload = () => ({
    w: p.w.map((w, l) => tf.tensor2d(w, [p.widths[l]!, p.widths[l + 1]!])),
    wt: p.w.map((w, l) =>
      l === 0 ? null : tf.tensor2d(transposeData(w, p.widths[l]!, p.widths[l + 1]!), [
        p.widths[l + 1]!,
        p.widths[l]!,
      ])
    ),
    b: p.b.map((b) => tf.tensor1d(b)),
  });
  const free = (t: ReturnType<typeof upload>) =>
    tf.dispose([...t.w, ...t.b, ...t.wt.filter((x): x is Tensor2D => x !== null)]);
  const forward = (t: ReturnType<typeof upload>, x: Tensor2D) => {
    const acts: Tensor2D[] = [x], pre: Tensor2D[] = [];
    let h = x;
    for (let l = 0; l < L; l++) {
      const z = tf.add(tf.matMul(h, t.w[l]!), t.b[l]! as Tensor1D) as Tensor2D;
      pre.push(z);
      h = l + 1 < L ? tf.relu(z) : z;
      if (l + 1 < L) acts.push(h);
    }
    return { logits: h, pre, acts };
  };
  const features = (pairs: EmbeddedNliPairs, idx: ArrayLike<number>) => {
    const bp = new Float32Array(idx.length * d), bh = new Float32Array(idx.length * d);
    gatherPairRows(pairs, idx, bp, bh);
    return tf.tidy(() =>
      nliFeaturesTensor(tf.tensor2d(bp, [idx.length, d]), tf.tensor2d(bh, [idx.length, d]))
    );
  };
  const names = [...p.w.map((_, l) => `w${l}`), ...p.b.map((_, l) => `b${l}`)];
  const flat = (w: Float32Array[], b: Float32Array[]) =>
    Object.fromEntries(names.map((k, i) => [k, i < L ? w[i]! : b[i - L]!]));
  const adam = new Adam(
    Object.fromEntries(Object.entries(flat(p.w, p.b)).map(([k, a]) => [k, a.length])),
    { lr: 1e-3 },
  );
  const rng = new SeededRandom((opts.seed ^ 0x5eed) | 0);
  const order = Array.from({ length: n }, (_, i) => i);
  let t = upload(), bestAcc = NaN, bestEpoch = 0;
  let best = { w: p.w.map((a) => a.slice()), b: p.b.map((a) => a.slice()) };
  const losses: number[] = [];
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    rng.shuffle(order);
    for (let s = 0; s < n; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const labels = Int32Array.from(idx, (k) => train.labels[k]!);
      const x = features(train, idx);
      const out = tf.tidy(() => {
        const { logits, pre, acts } = forward(t, x);
        const onehot = tf.oneHot(tf.tensor1d(labels, "int32"), 3).toFloat();
        const logp = tf.logSoftmax(logits);
        const loss = tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), 1)));
        let dz = tf.div(tf.sub(tf.exp(logp), onehot), idx.length) as Tensor2D;
        const gw: Tensor[] = new Array(L), gb: Tensor[] = new Array(L);
        for (let l = L - 1; l >= 0; l--) {
          gb[l] = tf.sum(dz, 0);
          gw[l] = tf.matMul(tf.transpose(acts[l]!), dz);
          if (l > 0) dz = tf.mul(tf.matMul(dz, t.wt[l]!), tf.step(pre[l - 1]!)) as Tensor2D;
        }
        return [loss, ...gw, ...gb];
      });
      const arrays = (await Promise.all(out.map((g) => g.data()))).map((a) =>
        (a as Float32Array).slice()
      );
      tf.dispose([...out, x]);
      losses.push(arrays[0]![0]!);
      adam.step(flat(p.w, p.b), flat(arrays.slice(1, L + 1), arrays.slice(L + 1)));
      free(t);
      t = upload();
    }
    let correct = 0;
    const ns = select.labels.length;
    for (let s = 0; s < ns; s += 1024) {
      const idx = Int32Array.from({ length: Math.min(1024, ns - s) }, (_, i) => s + i);
      const x = features(select, idx);
      const arg = tf.tidy(() => tf.argMax(forward(t, x).logits, 1));
      const pred = (await arg.data()) as Int32Array;
      tf.dispose([arg, x]);
      pred.forEach((c, i) => (correct += c === select.labels[s + i] ? 1 : 0));
    }
    const acc = correct / ns;
    if (!(acc <= bestAcc)) {
      bestAcc = acc;
      bestEpoch = epoch;
      best = { w: p.w.map((a) => a.slice()), b: p.b.map((a) => a.slice()) };
    }
  }
  free(t);
  return { ...best, bestEpoch, losses };
}

function firstDifference(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return `[${i}]: ${a[i]} ≠ ${b[i]}`;
  return null;
}

for (
  const c of [
    { name: "the mini profile's width (d = 64)", d: 64, train: 300, epochs: 3 },
    { name: "the paper's width (d = 1024)", d: 1024, train: 96, epochs: 2 },
  ]
) {
  Deno.test(`NliMlpClassifier.train gives bit for bit the original step's parameters, losses and predictions at ${c.name}, K's hidden layers, on ${backend.name}`, async () => {
    const before = tf.memory().numTensors;
    const train = randomPairs(c.train, c.d, 1), select = randomPairs(70, c.d, 2);
    const test = randomPairs(50, c.d, 3);
    const opts = { seed: 42, hidden: [...K_NLI_PROTOCOL.hidden], epochs: c.epochs };
    const losses: number[] = [];
    const clf = await NliMlpClassifier.train(train, select, {
      ...opts,
      onEpoch: (e) => losses.push(e.meanLoss),
    });
    const ref = await referenceTrain(train, select, opts);
    assert.equal(clf.bestEpoch, ref.bestEpoch);
    const perEpoch = Math.ceil(c.train / 32);
    const refMeans = Array.from({ length: c.epochs }, (_, e) => {
      const xs = ref.losses.slice(e * perEpoch, (e + 1) * perEpoch);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    });
    assert.deepEqual(losses, refMeans, "mean losses");
    const got = clf.params;
    for (let l = 0; l < ref.w.length; l++) {
      assert.equal(firstDifference(got.w[l]!, ref.w[l]!), null, `w${l}`);
      assert.equal(firstDifference(got.b[l]!, ref.b[l]!), null, `b${l}`);
    }
    // the kept epoch's predictions (the uploaded tensors) agree with the reference parameters
    const pred = await clf.predict(test);
    clf.dispose();
    const x = tf.tidy(() => {
      const bp = new Float32Array(50 * c.d), bh = new Float32Array(50 * c.d);
      gatherPairRows(test, Int32Array.from({ length: 50 }, (_, i) => i), bp, bh);
      let h = nliFeaturesTensor(tf.tensor2d(bp, [50, c.d]), tf.tensor2d(bh, [50, c.d]));
      for (let l = 0; l < ref.w.length; l++) {
        const z = tf.add(
          tf.matMul(h, tf.tensor2d(ref.w[l]!, [got.widths[l]!, got.widths[l + 1]!])),
          tf.tensor1d(ref.b[l]!),
        ) as Tensor2D;
        h = l + 1 < ref.w.length ? tf.relu(z) : z;
      }
      return tf.argMax(h, 1);
    });
    assert.deepEqual(pred, (await x.data()) as Int32Array);
    x.dispose();
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  });
}

Deno.test("the NLI probe's progress bar is shown for a long training only (the paper's 122,720 steps a setup), not for the mini profile's 450", () => {
  const mini = Math.ceil(1410 / 32) * 10, paper = Math.ceil(392_702 / 32) * 10;
  assert.equal(nliTrainingProgress(mini, "mini"), null);
  assert.ok(mini < NLI_PROGRESS_MIN_STEPS && paper >= NLI_PROGRESS_MIN_STEPS);
  const bar = nliTrainingProgress(paper, "paper", undefined, { silent: true });
  assert.ok(bar);
  assert.equal(bar.total, paper);
  bar.tick(12_272);
  assert.match(bar.render(), /12272\/122720 steps .*ETA/);
  assert.ok(nliTrainingProgress(mini, "forced", true, { silent: true }));
  assert.equal(nliTrainingProgress(paper, "off", false), null);
});
