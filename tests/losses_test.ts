import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  crossEntropyRows,
  pivotTextCrossEntropy,
  symmetricInfoNce,
  symmetricInfoNceRepeatedImages,
  textToImageCrossEntropy,
} from "../lib/losses/mod.ts";
import {
  repeatedInfoNceKernelActive,
  setRepeatedInfoNceKernelEnabled,
} from "../lib/losses/_repeated_info_nce_kernel.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

await initBackend("wasm");

// ---- naive Float64 oracles (explicit loops) ----
type M = number[][];
function randMat(rng: SeededRandom, n: number, d: number, unit = false): M {
  return Array.from({ length: n }, () => {
    const r = Array.from({ length: d }, () => rng.normal());
    if (!unit) return r;
    const s = Math.sqrt(r.reduce((a, x) => a + x * x, 0));
    return r.map((x) => x / s);
  });
}
function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}
function naiveCe(logits: M, targets: number[]): number {
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const row = logits[i]!;
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let s = 0;
    for (const x of row) s += Math.exp(x - mx);
    total += mx + Math.log(s) - row[targets[i]!]!;
  }
  return total / logits.length;
}
function naiveInfoNce(t: M, v: M, tau: number): number {
  const n = t.length;
  const s: M = t.map((ti) => v.map((vj) => dot(ti, vj) / tau));
  const sT: M = Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, i) => s[i]![j]!));
  const diag = Array.from({ length: n }, (_, i) => i);
  return 0.5 * (naiveCe(s, diag) + naiveCe(sT, diag));
}
const t2d = (m: M) => tf.tensor2d(m.flat(), [m.length, m[0]!.length]);
const val = (s: tf.Scalar) => {
  const x = s.dataSync()[0]!;
  s.dispose();
  return x;
};

Deno.test("symmetricInfoNce() equals a naive Float64 ½(CE(S)+CE(Sᵀ)) within 1e-5", () => {
  const rng = new SeededRandom(11);
  for (const [n, d, tau] of [[5, 7, 0.07], [12, 16, 0.07], [9, 4, 1]] as const) {
    const t = randMat(rng, n, d, true), v = randMat(rng, n, d, true);
    const before = tf.memory().numTensors;
    const [tt, vv] = [t2d(t), t2d(v)];
    const got = val(symmetricInfoNce(tt, vv, tau));
    tf.dispose([tt, vv]);
    assert.equal(tf.memory().numTensors, before);
    const want = naiveInfoNce(t, v, tau);
    assert.ok(
      Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)),
      `${n}×${d} τ=${tau}: ${got} vs ${want}`,
    );
  }
});

Deno.test("symmetricInfoNce() is numerically stable for logits around ±1e3", () => {
  const rng = new SeededRandom(2);
  const t = randMat(rng, 6, 3, true), v = randMat(rng, 6, 3, true);
  const got = tf.tidy(() => val(symmetricInfoNce(t2d(t), t2d(v), 1e-3)));
  const want = naiveInfoNce(t, v, 1e-3);
  assert.ok(Number.isFinite(got));
  assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want), `${got} vs ${want}`);
});

Deno.test("symmetricInfoNceRepeatedImages() equals symmetricInfoNce() on tiled images, value and gradient", () => {
  const rng = new SeededRandom(5);
  const [R, B, d] = [9, 4, 8];
  const t = randMat(rng, R * B, d, true), u = randMat(rng, B, d, true);
  const tiled: M = Array.from({ length: R * B }, (_, i) => u[i % B]!);
  const want = naiveInfoNce(t, tiled, 0.07);
  const before = tf.memory().numTensors;
  const tt = t2d(t), uu = t2d(u), vv = t2d(tiled);
  const fast = tf.valueAndGrad((x: tf.Tensor) =>
    symmetricInfoNceRepeatedImages(x as tf.Tensor2D, uu, R, 0.07)
  );
  const full = tf.valueAndGrad((x: tf.Tensor) => symmetricInfoNce(x as tf.Tensor2D, vv, 0.07));
  const a = fast(tt), b = full(tt);
  assert.ok(Math.abs(a.value.dataSync()[0]! - want) < 1e-5, `${a.value.dataSync()[0]} vs ${want}`);
  assert.ok(Math.abs(b.value.dataSync()[0]! - want) < 1e-5);
  const ga = a.grad.dataSync(), gb = b.grad.dataSync();
  for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i]! - gb[i]!) < 1e-6, `grad ${i}`);
  // image gradients: d/dU of the fast loss = Σ over the R copies of d/dV of the full loss
  const gu = tf.grad((x: tf.Tensor) =>
    symmetricInfoNceRepeatedImages(tt, x as tf.Tensor2D, R, 0.07)
  )(uu);
  const gv = tf.grad((x: tf.Tensor) => symmetricInfoNce(tt, x as tf.Tensor2D, 0.07))(vv);
  const guSum = tf.tidy(() => tf.sum(tf.reshape(gv, [R, B, d]), 0));
  const du = gu.dataSync(), dv = guSum.dataSync();
  for (let i = 0; i < du.length; i++) {
    assert.ok(Math.abs(du[i]! - dv[i]!) < 1e-5, `image grad ${i}`);
  }
  // frozen images: same text gradient, zero image gradient
  const [ft, fu] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
    symmetricInfoNceRepeatedImages(x as tf.Tensor2D, y as tf.Tensor2D, R, 0.07, {
      frozenImages: true,
    })
  )([tt, uu]);
  const fd = ft!.dataSync();
  for (let i = 0; i < fd.length; i++) assert.equal(fd[i], ga[i]);
  assert.ok(fu!.dataSync().every((x) => x === 0));
  tf.dispose([a.value, a.grad, b.value, b.grad, tt, uu, vv, gu, gv, guSum, ft!, fu!]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("symmetricInfoNce() gradient matches central finite differences of the Float64 oracle", () => {
  const rng = new SeededRandom(8);
  const [n, d, tau] = [6, 5, 0.2];
  const t = randMat(rng, n, d, true), v = randMat(rng, n, d, true);
  const vv = t2d(v), tt = t2d(t);
  const g = tf.grad((x: tf.Tensor) => symmetricInfoNce(x as tf.Tensor2D, vv, tau))(tt);
  const gd = g.dataSync();
  const h = 1e-5;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      const plus = t.map((r) => [...r]), minus = t.map((r) => [...r]);
      plus[i]![k]! += h;
      minus[i]![k]! -= h;
      const fd = (naiveInfoNce(plus, v, tau) - naiveInfoNce(minus, v, tau)) / (2 * h);
      assert.ok(Math.abs(gd[i * d + k]! - fd) < 2e-4, `(${i},${k}) ${gd[i * d + k]} vs ${fd}`);
    }
  }
  tf.dispose([g, vv, tt]);
});

Deno.test("textToImageCrossEntropy() equals the naive CE of T·Iᵀ·s with each caption's image as target", () => {
  const rng = new SeededRandom(3);
  const [L, B, d] = [4, 5, 6];
  const t = randMat(rng, L * B, d), im = randMat(rng, B, d);
  const idx = Array.from({ length: L * B }, (_, i) => i % B);
  for (const s of [1, 0.37]) {
    const logits = t.map((ti) => im.map((ij) => dot(ti, ij) * s));
    const want = naiveCe(logits, idx);
    const got = tf.tidy(() => val(textToImageCrossEntropy(t2d(t), t2d(im), s, idx)));
    assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, want), `${got} vs ${want}`);
    const gotTensorScale = tf.tidy(() =>
      val(textToImageCrossEntropy(t2d(t), t2d(im), tf.scalar(s), idx))
    );
    assert.ok(Math.abs(gotTensorScale - want) < 1e-5 * Math.max(1, want));
  }
  // non-block targets
  const perm = idx.map((_, i) => (i * 3) % B);
  const want = naiveCe(t.map((ti) => im.map((ij) => dot(ti, ij))), perm);
  assert.ok(
    Math.abs(tf.tidy(() => val(textToImageCrossEntropy(t2d(t), t2d(im), 1, perm))) - want) <
      1e-5 * want,
  );
});

Deno.test("textToImageCrossEntropy() gradient w.r.t. the learned scale matches finite differences", () => {
  const rng = new SeededRandom(4);
  const t = randMat(rng, 6, 3), im = randMat(rng, 3, 3);
  const idx = [0, 1, 2, 0, 1, 2];
  const oracle = (s: number) => naiveCe(t.map((ti) => im.map((ij) => dot(ti, ij) * s)), idx);
  const tt = t2d(t), ii = t2d(im);
  const s = tf.scalar(0.8);
  const g = tf.grad((x: tf.Tensor) => textToImageCrossEntropy(tt, ii, x as tf.Scalar, idx))(s);
  const fd = (oracle(0.8 + 1e-6) - oracle(0.8 - 1e-6)) / 2e-6;
  assert.ok(Math.abs(g.dataSync()[0]! - fd) < 1e-4, `${g.dataSync()[0]} vs ${fd}`);
  tf.dispose([g, s, tt, ii]);
});

Deno.test("pivotTextCrossEntropy() scores each non-English caption against the English batch (target i mod B)", () => {
  const rng = new SeededRandom(6);
  const [L, B, d] = [3, 4, 5];
  const x = randMat(rng, L * B, d), en = randMat(rng, B, d);
  const s = 0.5;
  const want = naiveCe(x.map((xi) => en.map((e) => dot(xi, e) * s)), x.map((_, i) => i % B));
  const got = tf.tidy(() => val(pivotTextCrossEntropy(t2d(x), t2d(en), s)));
  assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, want), `${got} vs ${want}`);
  const explicit = tf.tidy(() =>
    val(pivotTextCrossEntropy(t2d(x), t2d(en), s, x.map((_, i) => i % B)))
  );
  assert.equal(explicit, got);
  assert.throws(
    () => tf.tidy(() => pivotTextCrossEntropy(t2d(x.slice(0, 5)), t2d(en), s)),
    KitError,
  );
});

Deno.test("crossEntropyRows() and the losses throw KitErrors for mismatched shapes and bad targets", () => {
  tf.tidy(() => {
    assert.throws(
      () => crossEntropyRows(tf.zeros([2, 3]) as tf.Tensor2D, [0, 3]),
      /targets\[1\] = 3/,
    );
    assert.throws(
      () => crossEntropyRows(tf.zeros([2, 3]) as tf.Tensor2D, [0]),
      /2 logit rows but 1 targets/,
    );
    assert.throws(
      () => symmetricInfoNce(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 3]) as tf.Tensor2D),
      /2 text rows but 3 image rows/,
    );
    assert.throws(
      () => symmetricInfoNce(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D, 0),
      /temperature/,
    );
    assert.throws(
      () =>
        symmetricInfoNceRepeatedImages(
          tf.zeros([7, 3]) as tf.Tensor2D,
          tf.zeros([2, 3]) as tf.Tensor2D,
          3,
        ),
      /7 text rows must be repeats/,
    );
    assert.throws(
      () =>
        textToImageCrossEntropy(
          tf.zeros([2, 3]) as tf.Tensor2D,
          tf.zeros([2, 4]) as tf.Tensor2D,
          1,
          [0, 1],
        ),
      /expected 3 columns/,
    );
  });
});

Deno.test("symmetricInfoNceRepeatedImages(): the one-pass WASM kernel and the composite ops agree (value, text and image gradients)", () => {
  const rng = new SeededRandom(9);
  const [R, B, d] = [9, 8, 16];
  const tt = t2d(randMat(rng, R * B, d, true)), uu = t2d(randMat(rng, B, d, true));
  const run = (kernel: boolean, tau: number) => {
    setRepeatedInfoNceKernelEnabled(kernel);
    try {
      assert.equal(repeatedInfoNceKernelActive(), kernel);
      const [gt, gu] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        symmetricInfoNceRepeatedImages(x as tf.Tensor2D, y as tf.Tensor2D, R, tau)
      )([tt, uu]);
      const v = tf.tidy(() => symmetricInfoNceRepeatedImages(tt, uu, R, tau).dataSync()[0]!);
      const out = { v, gt: gt!.dataSync(), gu: gu!.dataSync() };
      tf.dispose([gt!, gu!]);
      return out;
    } finally {
      setRepeatedInfoNceKernelEnabled(true);
    }
  };
  for (const tau of [0.07, 0.001]) { // 0.001: logits up to ±1e3 (stability)
    const a = run(true, tau), b = run(false, tau);
    assert.ok(Number.isFinite(a.v) && Math.abs(a.v - b.v) <= 1e-5 * Math.max(1, Math.abs(b.v)));
    const scale = Math.max(...Array.from(b.gt, Math.abs), ...Array.from(b.gu, Math.abs));
    a.gt.forEach((g, i) => assert.ok(Math.abs(g - b.gt[i]!) <= 1e-5 * scale, `text grad ${i}`));
    a.gu.forEach((g, i) => assert.ok(Math.abs(g - b.gu[i]!) <= 1e-5 * scale, `image grad ${i}`));
  }
  tf.dispose([tt, uu]);
});
