import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { biasGelu, createMlpResidualHead, gelu, residualNormalize } from "../lib/heads/mod.ts";
import {
  fusedHeadKernelsActive,
  setFusedHeadKernelsEnabled,
} from "../lib/heads/_fused_head_kernels.ts";
import { HeadStepper } from "../lib/train/head_step.ts";
import { resolveTrainConfig } from "../lib/train/train_config.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

await initBackend("wasm");

// ---- Float64 oracles ----
/** erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)): positive terms, no cancellation. */
function erf64(x: number): number {
  let term = x, sum = x;
  for (let n = 1; n < 400; n++) {
    term *= 2 * x * x / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-18 * Math.abs(sum)) break;
  }
  return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
}
const cdf64 = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2));
const pdf64 = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
const gelu64 = (x: number) => x * cdf64(x);
const dgelu64 = (x: number) => cdf64(x) + x * pdf64(x);

function randMatrix(rng: SeededRandom, rows: number, cols: number, scale = 1): number[] {
  return Array.from({ length: rows * cols }, () => scale * rng.normal());
}

/** Runs `fn` with the fused kernels on or off (restores them on). */
function withFused<T>(on: boolean, fn: () => T): T {
  setFusedHeadKernelsEnabled(on);
  try {
    return fn();
  } finally {
    setFusedHeadKernelsEnabled(true);
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Value and gradients (for z and b, weighted by r) of biasGelu. */
function biasGeluRun(z: tf.Tensor2D, b: tf.Tensor1D, r: tf.Tensor2D) {
  return tf.tidy(() => {
    const y = biasGelu(z, b).dataSync();
    const [gz, gb] = tf.grads((zz: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(biasGelu(zz as tf.Tensor2D, bb as tf.Tensor1D), r))
    )([z, b]);
    return { y, gz: gz!.dataSync(), gb: gb!.dataSync() };
  });
}

Deno.test("fusedHeadKernelsActive() is true on wasm for columns divisible by 4, false when off or not", () => {
  assert.equal(fusedHeadKernelsActive(512), true);
  assert.equal(fusedHeadKernelsActive(6), false);
  assert.equal(withFused(false, () => fusedHeadKernelsActive(512)), false);
});

Deno.test("biasGelu() fused value and gradient match the Float64 GELU and Φ(x) + xφ(x) within float32 rounding", () => {
  // a grid through the tails and the centre, plus random values; bias per column
  const xs: number[] = [];
  for (let i = 0; i <= 1600; i++) xs.push(-10 + i * 0.0125);
  const rng = new SeededRandom(1);
  for (let i = 0; i < 1599; i++) xs.push(3 * rng.normal());
  const cols = 8, rows = xs.length / cols;
  assert.ok(Number.isInteger(rows));
  const bias = [0.25, -0.5, 0, 1, -1, 0.125, 2, -2];
  const z = tf.tensor2d(xs.map((x, i) => x - bias[i % cols]!), [rows, cols]);
  const b = tf.tensor1d(bias);
  const r = tf.tensor2d(randMatrix(rng, rows, cols), [rows, cols]);
  const zv = z.dataSync(), rv = r.dataSync();
  const { y, gz, gb } = biasGeluRun(z, b, r);
  let maxY = 0, maxG = 0;
  const gb64 = new Float64Array(cols);
  for (let i = 0; i < zv.length; i++) {
    const x = Math.fround(zv[i]! + bias[i % cols]!); // the float32 sum the kernel sees
    const tol = Math.max(1, Math.abs(x));
    maxY = Math.max(maxY, Math.abs(y[i]! - gelu64(x)) / tol);
    const g = rv[i]! * dgelu64(x);
    maxG = Math.max(maxG, Math.abs(gz[i]! - g) / Math.max(1, Math.abs(g)));
    gb64[i % cols]! += g;
  }
  assert.ok(maxY < 5e-7, `GELU error ${maxY}`);
  assert.ok(maxG < 5e-7, `GELU' error ${maxG}`);
  assert.ok(maxAbsDiff(gb, gb64) < 1e-4, `bias gradient off by ${maxAbsDiff(gb, gb64)}`);
  tf.dispose([z, b, r]);
});

Deno.test("biasGelu() fused and composite (gelu(z + b)) paths agree within 1e-6 on value and gradients", () => {
  const rng = new SeededRandom(2);
  const rows = 37, cols = 12;
  const z = tf.tensor2d(randMatrix(rng, rows, cols, 2), [rows, cols]);
  const b = tf.tensor1d(randMatrix(rng, 1, cols, 0.5));
  const r = tf.tensor2d(randMatrix(rng, rows, cols), [rows, cols]);
  const fused = biasGeluRun(z, b, r);
  const composite = withFused(false, () => biasGeluRun(z, b, r));
  const plain = tf.tidy(() => gelu(tf.add(z, b)).dataSync());
  assert.ok(maxAbsDiff(fused.y, composite.y) < 1e-6);
  assert.ok(maxAbsDiff(composite.y, plain) === 0, "the fallback is gelu(z + b)");
  assert.ok(maxAbsDiff(fused.gz, composite.gz) < 1e-6);
  assert.ok(maxAbsDiff(fused.gb, composite.gb) < 1e-5);
  tf.dispose([z, b, r]);
});

Deno.test("biasGelu() takes the composite path for columns not divisible by 4 and stays correct", () => {
  const rng = new SeededRandom(3);
  const z = tf.tensor2d(randMatrix(rng, 5, 6), [5, 6]);
  const b = tf.tensor1d(randMatrix(rng, 1, 6));
  const r = tf.tensor2d(randMatrix(rng, 5, 6), [5, 6]);
  const { y, gz } = biasGeluRun(z, b, r);
  const zv = z.dataSync(), bv = b.dataSync(), rv = r.dataSync();
  for (let i = 0; i < zv.length; i++) {
    const x = Math.fround(zv[i]! + bv[i % 6]!);
    assert.ok(Math.abs(y[i]! - gelu64(x)) < 2e-6);
    assert.ok(Math.abs(gz[i]! - rv[i]! * dgelu64(x)) < 2e-5);
  }
  tf.dispose([z, b, r]);
});

/** Value and gradients (t, m, b) of residualNormalize, weighted by r. */
function residualRun(t: tf.Tensor2D, m: tf.Tensor2D, b: tf.Tensor1D, r: tf.Tensor2D) {
  return tf.tidy(() => {
    const z = residualNormalize(t, m, b).dataSync();
    const g = tf.grads((tt: tf.Tensor, mm: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(
        residualNormalize(tt as tf.Tensor2D, mm as tf.Tensor2D, bb as tf.Tensor1D),
        r,
      ))
    )([t, m, b]);
    return { z, gt: g[0]!.dataSync(), gm: g[1]!.dataSync(), gb: g[2]!.dataSync() };
  });
}

Deno.test("residualNormalize() fused matches the Float64 forward and gradient, and the composite path", () => {
  const rng = new SeededRandom(5);
  const rows = 23, cols = 16;
  const tv = randMatrix(rng, rows, cols), mv = randMatrix(rng, rows, cols, 0.3);
  const bv = randMatrix(rng, 1, cols, 0.1), rv = randMatrix(rng, rows, cols);
  const t = tf.tensor2d(tv, [rows, cols]), m = tf.tensor2d(mv, [rows, cols]);
  const b = tf.tensor1d(bv), r = tf.tensor2d(rv, [rows, cols]);
  const fused = residualRun(t, m, b, r);
  const composite = withFused(false, () => residualRun(t, m, b, r));
  // Float64 oracle: z = y/‖y‖, dL/dy = (r − z⟨z, r⟩)/‖y‖
  const z64: number[] = [], g64: number[] = [], gb64 = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const y = Array.from(
      { length: cols },
      (_, j) => tv[i * cols + j]! + mv[i * cols + j]! + bv[j]!,
    );
    const n = Math.sqrt(y.reduce((a, v) => a + v * v, 0));
    const z = y.map((v) => v / n);
    const p = z.reduce((a, v, j) => a + v * rv[i * cols + j]!, 0);
    z.forEach((v, j) => {
      z64.push(v);
      const g = (rv[i * cols + j]! - v * p) / n;
      g64.push(g);
      gb64[j]! += g;
    });
  }
  assert.ok(maxAbsDiff(fused.z, z64) < 1e-6);
  assert.ok(maxAbsDiff(fused.gm, g64) < 1e-5);
  assert.ok(maxAbsDiff(fused.gt, g64) < 1e-5);
  assert.ok(maxAbsDiff(fused.gb, gb64) < 1e-5);
  assert.ok(maxAbsDiff(fused.z, composite.z) < 1e-6);
  assert.ok(maxAbsDiff(fused.gm, composite.gm) < 1e-5);
  assert.ok(maxAbsDiff(fused.gb, composite.gb) < 1e-5);
  tf.dispose([t, m, b, r]);
});

Deno.test("MLP head training: fused and composite trajectories agree within 1e-5 relative, numTensors flat", async () => {
  const d = 16, langs = 3, n = 40, rng = new SeededRandom(6);
  const unit = () => {
    const a = Float32Array.from(randMatrix(rng, n, d));
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[i * d + j]! ** 2;
      for (let j = 0; j < d; j++) a[i * d + j]! /= Math.sqrt(s);
    }
    return a;
  };
  const text = Array.from({ length: langs }, unit), images = unit();
  const idx = Array.from({ length: n }, (_, i) => i);
  const config = resolveTrainConfig({ epochs: 1, stepsPerEpoch: 5, batchPerLang: 8 });
  const run = async (fused: boolean) => {
    setFusedHeadKernelsEnabled(fused);
    const head = createMlpResidualHead(d, { hidden: 24, seed: 7 });
    try {
      const stepper = await HeadStepper.create(head, text, images, idx, config);
      const losses: number[] = [];
      await stepper.step(0);
      const before = tf.memory().numTensors;
      for (let s = 1; s < 5; s++) losses.push((await stepper.step(s)).loss);
      assert.equal(tf.memory().numTensors, before, "numTensors grows per step");
      return { losses, params: stepper.params };
    } finally {
      head.dispose();
      setFusedHeadKernelsEnabled(true);
    }
  };
  const a = await run(true), b = await run(false);
  a.losses.forEach((l, i) => assert.ok(Math.abs(l - b.losses[i]!) <= 1e-5 * Math.abs(l)));
  for (const [name, p] of Object.entries(a.params)) {
    const q = b.params[name]!;
    let diff = 0, norm = 0;
    for (let i = 0; i < p.length; i++) {
      diff += (p[i]! - q[i]!) ** 2;
      norm += q[i]! ** 2;
    }
    assert.ok(Math.sqrt(diff) <= 1e-5 * Math.sqrt(norm), `${name}: ${Math.sqrt(diff / norm)}`);
  }
});

Deno.test("on the cpu backend the heads take the composite path (no fused kernel there)", async () => {
  await tf.setBackend("cpu");
  try {
    assert.equal(fusedHeadKernelsActive(512), false);
    const z = tf.tensor2d([[0.5, -1, 2, 0]]), b = tf.tensor1d([0.5, 0, 0, 1]);
    const y = biasGelu(z, b).dataSync();
    [1, -1, 2, 1].forEach((x, i) => assert.ok(Math.abs(y[i]! - gelu64(x)) < 2e-6));
    const zn = residualNormalize(
      tf.tensor2d([[1, 0, 0, 0]]),
      tf.tensor2d([[2, 4, 0, 0]]),
      tf.zeros([4]),
    )
      .dataSync();
    assert.ok(Math.abs(zn[0]! - 0.6) < 1e-6 && Math.abs(zn[1]! - 0.8) < 1e-6);
    tf.dispose([z, b]);
  } finally {
    await tf.setBackend("wasm");
  }
  assert.equal(fusedHeadKernelsActive(512), true);
});
