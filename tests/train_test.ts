import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { createHead, type Head, projectRows } from "../lib/heads/mod.ts";
import { symmetricInfoNce } from "../lib/losses/mod.ts";
import { clipGradNorm, gatherRows, LanguageBalancedSampler } from "../lib/optim/mod.ts";
import {
  type EmbeddingRows,
  HeadStepper,
  PAPER_D_TRAIN_CONFIG,
  readTrainCheckpoint,
  resolveTrainConfig,
  trainHead,
} from "../lib/train/mod.ts";
import { readSafetensors } from "../lib/io/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

await initBackend("wasm");

// ---------- synthetic data ----------
function normalizeRowsJs(a: Float32Array, d: number): Float32Array {
  for (let i = 0; i < a.length / d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += a[i * d + j]! ** 2;
    s = Math.sqrt(s);
    for (let j = 0; j < d; j++) a[i * d + j] = a[i * d + j]! / s;
  }
  return a;
}
/** A random rotation exp-like via the Cayley transform (I − A)⁻¹(I + A), A skew with entries ~ angle/√d. */
function randomRotation(rng: SeededRandom, d: number, angle: number): Float64Array {
  const M = new Float64Array(d * d), R = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    M[i * d + i] = 1;
    R[i * d + i] = 1;
    for (let j = i + 1; j < d; j++) {
      const a = rng.normal() * angle / Math.sqrt(d);
      M[i * d + j] = -a, M[j * d + i] = a, R[i * d + j] = a, R[j * d + i] = -a;
    }
  }
  for (let c = 0; c < d; c++) { // Gauss–Jordan: R ← M⁻¹R
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(M[r * d + c]!) > Math.abs(M[p * d + c]!)) p = r;
    for (let k = 0; k < d; k++) {
      [M[c * d + k], M[p * d + k]] = [M[p * d + k]!, M[c * d + k]!];
      [R[c * d + k], R[p * d + k]] = [R[p * d + k]!, R[c * d + k]!];
    }
    const pv = M[c * d + c]!;
    for (let k = 0; k < d; k++) {
      (M[c * d + k] = M[c * d + k]! / pv), (R[c * d + k] = R[c * d + k]! / pv);
    }
    for (let r = 0; r < d; r++) {
      const f = M[r * d + c]!;
      if (r === c || f === 0) continue;
      for (let k = 0; k < d; k++) {
        (M[r * d + k] = M[r * d + k]! - f * M[c * d + k]!),
          (R[r * d + k] = R[r * d + k]! - f * R[c * d + k]!);
      }
    }
  }
  return R;
}
interface Synthetic {
  d: number;
  n: number;
  images: EmbeddingRows;
  textByLang: Record<string, EmbeddingRows>;
  trainIdx: number[];
  holdoutIdx: number[];
}
/**
 * Planted cross-language structure: images are random unit vectors; language l's caption of
 * image i is normalize(R_l·Q·v_i + noise), Q a large rotation shared by all languages (holdout
 * t2i R@1 ≈ 0.07 at the start) and R_l a small language-specific one.
 */
function plantedRotation(
  seed: number,
  d = 32,
  n = 400,
  langs = 9,
  noise = 0.6,
  angle = 1.0,
): Synthetic {
  const rng = new SeededRandom(seed);
  const images = normalizeRowsJs(Float32Array.from({ length: n * d }, () => rng.normal()), d);
  const Q = randomRotation(rng, d, angle);
  const textByLang: Record<string, EmbeddingRows> = {};
  for (let l = 0; l < langs; l++) {
    const Rl = randomRotation(rng, d, 0.3);
    const out = new Float32Array(n * d), tmp = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += Q[j * d + k]! * images[i * d + k]!;
        tmp[j] = s;
      }
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += Rl[j * d + k]! * tmp[k]!;
        out[i * d + j] = s + noise * rng.normal() / Math.sqrt(d);
      }
    }
    textByLang[`l${l}`] = { data: normalizeRowsJs(out, d), rows: n, cols: d };
  }
  const perm = new SeededRandom(seed + 1).shuffle(Array.from({ length: n }, (_, i) => i));
  const h = Math.floor(n / 5);
  return {
    d,
    n,
    images: { data: images, rows: n, cols: d },
    textByLang,
    trainIdx: perm.slice(h),
    holdoutIdx: perm.slice(0, h),
  };
}
/** Tiny inline R@1 over the holdout rows: queries `q`, candidates `c`, truth = same row. */
function recallAt1(q: Float32Array, c: Float32Array, d: number, idx: readonly number[]): number {
  let hits = 0;
  for (let a = 0; a < idx.length; a++) {
    let best = -Infinity, arg = -1;
    for (let b = 0; b < idx.length; b++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += q[idx[a]! * d + k]! * c[idx[b]! * d + k]!;
      if (s > best) (best = s), (arg = b);
    }
    if (arg === a) hits++;
  }
  return hits / idx.length;
}
function perLanguage(head: Head | null, s: Synthetic): { t2i: number[]; i2t: number[] } {
  const t2i: number[] = [], i2t: number[] = [];
  for (const rows of Object.values(s.textByLang)) {
    const t = head ? projectRows(head, rows.data) : rows.data;
    t2i.push(recallAt1(t, s.images.data, s.d, s.holdoutIdx));
    i2t.push(recallAt1(s.images.data, t, s.d, s.holdoutIdx));
  }
  return { t2i, i2t };
}
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const macroT2i = (s: Synthetic) => ({ head }: { head: Head }) => mean(perLanguage(head, s).t2i);

Deno.test("trainHead() with D's defaults raises holdout t2i R@1 in every language (linear and MLP heads) on planted structure", async () => {
  const s = plantedRotation(1);
  const before = perLanguage(null, s);
  for (const kind of ["linear", "mlp"] as const) {
    const head = createHead(kind, s.d, { hidden: 64, seed: 7 });
    const res = await trainHead({
      head,
      textByLang: s.textByLang,
      images: s.images,
      trainIdx: s.trainIdx,
      holdoutIdx: s.holdoutIdx,
      evaluate: macroT2i(s),
      progress: false,
    });
    assert.ok(res.completed && res.stepsDone === 240 && res.epochScores.length === 20);
    const after = perLanguage(head, s);
    after.t2i.forEach((r, l) =>
      assert.ok(r > before.t2i[l]! + 0.2, `${kind} l${l}: t2i ${before.t2i[l]} → ${r}`)
    );
    assert.ok(
      Math.abs(mean(after.t2i) - res.bestScore) < 1e-12,
      "the head holds the best epoch's parameters",
    );
    assert.ok(res.lossHistory.at(-1)! < res.lossHistory[0]! - 1);
    // Here the planted distortion Q hurts both directions equally, and undoing it helps both:
    // i2t rises too. Paper D's i2t *drop* needs a modality gap and a per-caption offset toward
    // the image mean; tests/image_pivot_test.ts plants that and checks the drop.
    after.i2t.forEach((r, l) =>
      assert.ok(r > before.i2t[l]!, `${kind} l${l}: i2t ${before.i2t[l]} → ${r}`)
    );
    head.dispose();
  }
});

Deno.test("HeadStepper: 50 D-sized steps (288×512) leave tf.memory().numTensors unchanged; step times reported", async () => {
  const [n, d, langs] = [300, 512, 9];
  const rng = new SeededRandom(4);
  const unit = () => normalizeRowsJs(Float32Array.from({ length: n * d }, () => rng.normal()), d);
  const text = Array.from({ length: langs }, unit), images = unit();
  const train = Array.from({ length: n }, (_, i) => i);
  for (const kind of ["linear", "mlp"] as const) {
    const head = createHead(kind, d, { hidden: 512, seed: 7 });
    const stepper = new HeadStepper(head, text, images, train, resolveTrainConfig({}));
    await stepper.step(0); // warm-up (kernel set-up)
    const before = tf.memory().numTensors;
    const times: number[] = [];
    for (let i = 1; i <= 50; i++) {
      const t0 = performance.now();
      await stepper.step(i);
      times.push(performance.now() - t0);
    }
    assert.equal(tf.memory().numTensors, before, `${kind}: tensors leaked`);
    times.sort((a, b) => a - b);
    console.log(
      `  ${kind} head step (288×512, wasm): median ${times[25]!.toFixed(1)} ms, min ${
        times[0]!.toFixed(1)
      } ms`,
    );
    head.dispose();
  }
});

Deno.test("HeadStepper's first two steps equal a hand-assembled reference: generic InfoNCE on repeated images, prox, clip, Adam", async () => {
  const s = plantedRotation(2, 16, 60, 3);
  const cfg = resolveTrainConfig({
    batchPerLang: 8,
    lambdaProx: 0.5,
    warmupSteps: 2,
    epochs: 1,
    stepsPerEpoch: 4,
  });
  const langs = Object.values(s.textByLang).map((r) => r.data);
  const head = createHead("linear", s.d);
  const stepper = new HeadStepper(head, langs, s.images.data, s.trainIdx, cfg);
  const sampler = new LanguageBalancedSampler(s.trainIdx, { batchPerLang: 8, seed: cfg.seed });
  // reference state: W = I + ΔW as Float64, Adam moments by hand (torch.optim.Adam, coupled decay)
  const d = s.d, D2 = d * d;
  const dW = new Float64Array(D2), m = new Float64Array(D2), v = new Float64Array(D2);
  for (let step = 0; step < 2; step++) {
    const idx = sampler.next();
    const tb = new Float32Array(3 * 8 * d);
    langs.forEach((t, l) => gatherRows(t, d, idx, tb.subarray(l * 8 * d, (l + 1) * 8 * d)));
    const vb = new Float32Array(3 * 8 * d);
    for (let l = 0; l < 3; l++) {
      gatherRows(s.images.data, d, idx, vb.subarray(l * 8 * d, (l + 1) * 8 * d));
    }
    const T = tf.tensor2d(tb, [24, d]), V = tf.tensor2d(vb, [24, d]);
    const W = tf.variable(
      tf.tensor2d(Float32Array.from(dW, (x, k) => x + (k % (d + 1) === 0 ? 1 : 0)), [d, d]),
    );
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => {
        const y = tf.matMul(T, W);
        const z = tf.div(y, tf.norm(y, 2, 1, true)) as tf.Tensor2D;
        const prox = tf.div(tf.sum(tf.square(tf.sub(W, tf.eye(d)))), D2);
        return tf.add(symmetricInfoNce(z, V, 0.07), tf.mul(prox, 0.5)) as tf.Scalar;
      }), [W]);
    const refLoss = value.dataSync()[0]!;
    const g = { w: Float32Array.from(grads[W.name]!.dataSync()) };
    tf.dispose([T, V, W, value, ...Object.values(grads)]);
    clipGradNorm(g, 1);
    const lr = 1e-3 * (step + 1) / 2, t = step + 1;
    for (let k = 0; k < D2; k++) {
      const gk = g.w[k]! + 5e-4 * dW[k]!;
      m[k] = 0.9 * m[k]! + 0.1 * gk;
      v[k] = 0.999 * v[k]! + 0.001 * gk * gk;
      dW[k] = dW[k]! -
        lr / (1 - 0.9 ** t) * m[k]! / (Math.sqrt(v[k]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
    }
    const out = await stepper.step(step);
    assert.ok(Math.abs(out.loss - refLoss) < 1e-5, `step ${step} loss ${out.loss} vs ${refLoss}`);
    assert.equal(out.lr, lr);
    const got = stepper.params.dW!;
    for (let k = 0; k < D2; k++) {
      assert.ok(Math.abs(got[k]! - dW[k]!) < 2e-6, `step ${step} ΔW[${k}] ${got[k]} vs ${dW[k]}`);
    }
  }
  head.dispose();
});

Deno.test("trainHead() stopped after 2 epochs and resumed from its checkpoint reproduces the 4-epoch run exactly", async () => {
  const s = plantedRotation(3, 24, 200, 4);
  const dir = await Deno.makeTempDir();
  try {
    const config = {
      epochs: 4,
      stepsPerEpoch: 5,
      batchPerLang: 16,
      warmupSteps: 6,
      lambdaOrtho: 0.01,
    };
    for (const kind of ["linear", "mlp"] as const) {
      const common = {
        textByLang: s.textByLang,
        images: s.images,
        trainIdx: s.trainIdx,
        holdoutIdx: s.holdoutIdx,
        config,
        evaluate: macroT2i(s),
        progress: false as const,
      };
      const straightHead = createHead(kind, s.d, { hidden: 32, seed: 7 });
      const straight = await trainHead({ ...common, head: straightHead });
      const path = join(dir, `${kind}.safetensors`);
      const h1 = createHead(kind, s.d, { hidden: 32, seed: 7 });
      const first = await trainHead({
        ...common,
        head: h1,
        checkpointPath: path,
        stopAfterEpochs: 2,
      });
      assert.equal(first.completed, false);
      assert.equal(first.stepsDone, 10);
      h1.dispose();
      // a fresh process would start from a fresh head: the checkpoint must carry everything
      const h2 = createHead(kind, s.d, { hidden: 32, seed: 99 });
      const second = await trainHead({ ...common, head: h2, checkpointPath: path, resume: true });
      assert.equal(second.resumedFromStep, 10);
      assert.ok(second.completed);
      assert.deepEqual(
        second.lossHistory,
        straight.lossHistory,
        `${kind}: loss trajectories differ`,
      );
      assert.deepEqual(second.epochScores, straight.epochScores);
      assert.equal(second.bestEpoch, straight.bestEpoch);
      const a = straightHead.getState(), b = h2.getState();
      for (const k of Object.keys(a)) assert.deepEqual(b[k], a[k], `${kind}.${k}`);
      // the checkpoint holds the finished run
      const ck = await readTrainCheckpoint(path);
      assert.equal(ck.step, 20);
      assert.equal(ck.epochsDone, 4);
      assert.equal(ck.lossHistory.length, 20);
      const file = await readSafetensors(path);
      assert.ok(
        file.tensors.has(`adam.m.${Object.keys(a)[0]}`) &&
          file.tensors.has(`best.${Object.keys(a)[0]}`),
      );
      // resuming with another config, or on another split, is refused
      const h3 = createHead(kind, s.d, { hidden: 32 });
      await assert.rejects(
        () =>
          trainHead({
            ...common,
            head: h3,
            checkpointPath: path,
            resume: true,
            config: { ...config, lr: 2e-3 },
          }),
        (e: unknown) =>
          e instanceof KitError && /lr: checkpoint 0\.001, now 0\.002/.test(e.message),
      );
      await assert.rejects(
        () =>
          trainHead({
            ...common,
            head: h3,
            checkpointPath: path,
            resume: true,
            holdoutIdx: s.holdoutIdx.slice(1),
          }),
        (e: unknown) => e instanceof KitError && /other data or another split/.test(e.message),
      );
      for (const h of [straightHead, h2, h3]) h.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainHead() keeps the best epoch by the evaluation score and restores it at the end", async () => {
  const s = plantedRotation(5, 16, 80, 2);
  const scripted = [0.2, 0.7, 0.4];
  const states: Record<string, Float32Array>[] = [];
  const reports: number[] = [];
  const head = createHead("linear", s.d);
  const res = await trainHead({
    head,
    textByLang: s.textByLang,
    images: s.images,
    trainIdx: s.trainIdx,
    holdoutIdx: s.holdoutIdx,
    config: { epochs: 3, stepsPerEpoch: 3, batchPerLang: 8, warmupSteps: 2 },
    evaluate: ({ head, epoch }) => {
      states.push(head.getState());
      return scripted[epoch]!;
    },
    onEpoch: (r) => void reports.push(r.bestEpoch),
    progress: false,
  });
  assert.equal(res.bestEpoch, 1);
  assert.equal(res.bestScore, 0.7);
  assert.deepEqual(reports, [0, 1, 1]);
  assert.deepEqual(head.getState().dW, states[1]!.dW);
  assert.notDeepEqual(states[2]!.dW, states[1]!.dW);
  head.dispose();
});

Deno.test("trainHead() rejects bad inputs with KitErrors (shapes, indices, identity head, non-finite score)", async () => {
  const s = plantedRotation(6, 8, 40, 2);
  const base = {
    textByLang: s.textByLang,
    images: s.images,
    trainIdx: s.trainIdx,
    holdoutIdx: s.holdoutIdx,
    progress: false as const,
    config: { epochs: 1, stepsPerEpoch: 1, batchPerLang: 4 },
  };
  const lin = createHead("linear", 8);
  const wide = createHead("linear", 9);
  const cases: [() => Promise<unknown>, RegExp][] = [
    [
      () => trainHead({ ...base, head: wide, evaluate: () => 0 }),
      /images has 8 columns, the head expects 9/,
    ],
    [
      () => trainHead({ ...base, head: lin, trainIdx: [0, 40], evaluate: () => 0 }),
      /trainIdx\[1\] = 40/,
    ],
    [
      () => trainHead({ ...base, head: createHead("identity", 8), evaluate: () => 0 }),
      /identity head has no parameters/,
    ],
    [() => trainHead({ ...base, head: lin, evaluate: () => NaN }), /evaluate\(\) returned NaN/],
    [
      () => trainHead({ ...base, head: lin, evaluate: () => 0, config: { epochs: 0 } }),
      /epochs must be a positive integer/,
    ],
    [
      () =>
        trainHead({
          ...base,
          head: lin,
          evaluate: () => 0,
          textByLang: { x: { data: new Float32Array(8), rows: 1, cols: 8 } },
        }),
      /captions "x" has 1 rows but images have 40/,
    ],
  ];
  for (const [fn, re] of cases) {
    await assert.rejects(fn, (e: unknown) => e instanceof KitError && re.test(e.message));
  }
  assert.equal(PAPER_D_TRAIN_CONFIG.lr, 1e-3);
  lin.dispose();
  wide.dispose();
});
