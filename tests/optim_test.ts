import assert from "node:assert/strict";
import {
  Adam,
  clipGradNorm,
  gatherRows,
  languageBalancedBatch,
  LanguageBalancedSampler,
  proxClipAdamStep,
  warmupCosineLr,
} from "../lib/optim/mod.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import { instantiateAdamKernel } from "../lib/optim/wasm/adam_kernel.ts";
import { KitError } from "../lib/util/kit_error.ts";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} vs ${b}`);

/** Float64 reference of torch.optim.Adam (coupled decay) / AdamW (decoupled) on one scalar. */
function adamReference(
  theta0: number,
  grads: number[],
  lrs: number[],
  o: { b1: number; b2: number; eps: number; wd: number; decoupled: boolean },
): number[] {
  let th = theta0, m = 0, v = 0;
  const out: number[] = [];
  grads.forEach((g0, i) => {
    const t = i + 1;
    let g = g0;
    if (o.decoupled) th *= 1 - lrs[i]! * o.wd;
    else g += o.wd * th;
    m = o.b1 * m + (1 - o.b1) * g;
    v = o.b2 * v + (1 - o.b2) * g * g;
    const mHat = m / (1 - o.b1 ** t);
    const denom = Math.sqrt(v) / Math.sqrt(1 - o.b2 ** t) + o.eps;
    th -= lrs[i]! * mHat / denom;
    out.push(th);
  });
  return out;
}

Deno.test("Adam.step() with coupled weight decay follows torch.optim.Adam (hand-computed first step, reference after)", () => {
  // Step 1 by hand: g = 0.5 + 0.01·1 = 0.51; m = 0.051, v = 0.001·0.2601; m̂ = 0.51, √v̂ = 0.51;
  // θ = 1 − 0.1 · 0.51 / (0.51 + 1e-8).
  const p = { w: new Float32Array([1, -2, 0.25]) };
  const opt = new Adam({ w: 3 }, { lr: 0.1, weightDecay: 0.01 });
  const grads = [[0.5, 0.1, -3], [0.2, -0.4, 1e-3], [-0.7, 0.3, 0], [0.05, 0.05, 2]];
  const lrs = [0.1, 0.05, 0.02, 0.1];
  const refs = [0, 1, 2].map((j) =>
    adamReference(p.w[j]!, grads.map((g) => g[j]!), lrs, {
      b1: 0.9,
      b2: 0.999,
      eps: 1e-8,
      wd: 0.01,
      decoupled: false,
    })
  );
  grads.forEach((g, i) => {
    opt.step(p, { w: new Float32Array(g) }, lrs[i]);
    if (i === 0) close(p.w[0]!, 1 - 0.1 * 0.51 / (0.51 + 1e-8), 1e-7, "hand step 1");
    for (let j = 0; j < 3; j++) close(p.w[j]!, refs[j]![i]!, 2e-6, `step ${i + 1} θ${j}`);
  });
  assert.equal(opt.stepCountOf("w"), 4);
});

Deno.test("Adam.step() with decoupled=true is AdamW (θ·(1 − lr·wd) before the update)", () => {
  const p = { w: new Float32Array([1, -0.5]) };
  const opt = new Adam({ w: 2 }, {
    lr: 0.01,
    weightDecay: 0.1,
    decoupled: true,
    beta1: 0.8,
    beta2: 0.99,
    eps: 1e-6,
  });
  const grads = [[0.3, -0.2], [0.1, 0.4], [-0.2, 0.0]];
  const lrs = [0.01, 0.01, 0.005];
  const refs = [0, 1].map((j) =>
    adamReference(p.w[j]!, grads.map((g) => g[j]!), lrs, {
      b1: 0.8,
      b2: 0.99,
      eps: 1e-6,
      wd: 0.1,
      decoupled: true,
    })
  );
  grads.forEach((g, i) => {
    opt.step(p, { w: new Float32Array(g) }, lrs[i]);
    for (let j = 0; j < 2; j++) close(p.w[j]!, refs[j]![i]!, 2e-6, `AdamW step ${i + 1}`);
  });
});

Deno.test("Adam getState()/setState() resumes an identical trajectory, and rejects mismatched state", () => {
  const grads = Array.from(
    { length: 6 },
    (_, i) => ({ a: new Float32Array([Math.sin(i), Math.cos(i)]), b: new Float32Array([i - 2]) }),
  );
  const run = (split: number | null) => {
    const p = { a: new Float32Array([0.3, -0.1]), b: new Float32Array([2]) };
    let opt = new Adam({ a: 2, b: 1 }, { lr: 0.05, weightDecay: 5e-4 });
    grads.forEach((g, i) => {
      if (split !== null && i === split) {
        const s = opt.getState();
        opt = new Adam({ a: 2, b: 1 }, { lr: 0.05, weightDecay: 5e-4 });
        opt.setState(s);
      }
      opt.step(p, g);
    });
    return [...p.a, ...p.b];
  };
  assert.deepEqual(run(3), run(null));
  const opt = new Adam({ a: 2 });
  assert.throws(
    () => opt.setState({ steps: { a: 1 }, m: { a: new Float32Array(2) }, v: {} }),
    KitError,
  );
  assert.throws(
    () => opt.step({ a: new Float32Array(3) }, { a: new Float32Array(3) }),
    /expected 2/,
  );
  assert.throws(() => new Adam({ a: 1 }, { beta1: 1 }), KitError);
});

Deno.test("clipGradNorm() scales all gradients by max/(norm+1e-6) only when the global norm exceeds max", () => {
  const g = { a: new Float32Array([3, 0]), b: new Float32Array([0, 4]) };
  const r = clipGradNorm(g, 1);
  assert.equal(r.totalNorm, 5);
  close(r.scale, 1 / (5 + 1e-6), 1e-7);
  close(g.a[0]!, 3 / (5 + 1e-6), 1e-6);
  close(g.b[1]!, 4 / (5 + 1e-6), 1e-6);
  const small = { a: new Float32Array([0.3, 0.4]) };
  const r2 = clipGradNorm(small, 1);
  assert.equal(r2.scale, 1);
  assert.deepEqual([...small.a], [Math.fround(0.3), Math.fround(0.4)]);
});

Deno.test("warmupCosineLr() has D's values at step 0, end of warm-up, start of decay, middle and last step", () => {
  const s = { baseLr: 1e-3, warmupSteps: 120, totalSteps: 240, floor: 0.1 };
  close(warmupCosineLr(0, s), 1e-3 / 120, 1e-12, "step 0");
  close(warmupCosineLr(59, s), 1e-3 * 60 / 120, 1e-12, "step 59");
  close(warmupCosineLr(119, s), 1e-3, 1e-12, "step 119");
  close(warmupCosineLr(120, s), 1e-3, 1e-12, "step 120");
  close(warmupCosineLr(180, s), 1e-3 * (0.1 + 0.9 * 0.5), 1e-12, "step 180 (halfway)");
  close(
    warmupCosineLr(239, s),
    1e-3 * (0.1 + 0.45 * (1 + Math.cos(Math.PI * 119 / 120))),
    1e-12,
    "last step",
  );
  close(warmupCosineLr(239, s), 1.00154e-4, 1e-5, "last step ≈ 1.00154e-4");
  for (let i = 121; i < 240; i++) assert.ok(warmupCosineLr(i, s) < warmupCosineLr(i - 1, s));
  close(warmupCosineLr(0, { ...s, warmupSteps: 0 }), 1e-3, 1e-12, "no warm-up");
  assert.throws(() => warmupCosineLr(-1, s), KitError);
});

Deno.test("LanguageBalancedSampler draws with replacement from the training indices, deterministically per seed", () => {
  const train = Array.from({ length: 50 }, (_, i) => i * 2 + 1); // odd rows only
  const a = new LanguageBalancedSampler(train, { seed: 7 });
  const b = new LanguageBalancedSampler(train, { seed: 7 });
  const c = new LanguageBalancedSampler(train, { seed: 8 });
  const seqA = Array.from({ length: 20 }, () => [...a.next()]);
  const seqB = Array.from({ length: 20 }, () => [...b.next()]);
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA[0], [...c.next()]);
  assert.equal(seqA[0]!.length, 32);
  const all = seqA.flat();
  assert.ok(all.every((x) => x % 2 === 1 && x < 100));
  assert.ok(
    seqA.some((batch) => new Set(batch).size < batch.length),
    "with replacement: some batch repeats an index",
  );
  // resuming the stream from its state
  const d = new LanguageBalancedSampler(train, { seed: 7 });
  d.next();
  const e = new LanguageBalancedSampler(train, { seed: 1 });
  e.state = d.state;
  assert.deepEqual([...e.next()], seqA[1]);
  assert.throws(() => new LanguageBalancedSampler([], { seed: 1 }), KitError);
});

Deno.test("languageBalancedBatch() stacks 9 language blocks of 32 captions (288 rows) over images repeated 9 times", () => {
  const [N, d, L] = [40, 3, 9];
  const textByLang = Array.from(
    { length: L },
    (_, l) => Float32Array.from({ length: N * d }, (_, k) => l * 1000 + k),
  );
  const images = Float32Array.from({ length: N * d }, (_, k) => -k);
  const idx = new LanguageBalancedSampler(Array.from({ length: N }, (_, i) => i), { seed: 3 })
    .next();
  const batch = languageBalancedBatch(textByLang, images, d, idx);
  assert.equal(batch.text.length, 288 * d);
  const reps = batch.images();
  assert.equal(reps.length, 288 * d);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < 32; i++) {
      const row = l * 32 + i, src = idx[i]!;
      for (let k = 0; k < d; k++) {
        assert.equal(batch.text[row * d + k], l * 1000 + src * d + k);
        assert.equal(reps[row * d + k], -(src * d + k));
      }
    }
  }
  assert.deepEqual(batch.uniqueImages, gatherRows(images, d, idx));
  assert.throws(() => gatherRows(images, d, [N]), /out of range/);
});

/** The JavaScript Adam loop the WebAssembly kernel replaced (torch.optim.Adam, float64 math). */
class JsAdam {
  t = 0;
  m: Record<string, Float32Array> = {};
  v: Record<string, Float32Array> = {};
  constructor(
    sizes: Record<string, number>,
    readonly o: { weightDecay: number; decoupled: boolean },
  ) {
    for (const [k, n] of Object.entries(sizes)) {
      this.m[k] = new Float32Array(n);
      this.v[k] = new Float32Array(n);
    }
  }
  step(params: Record<string, Float32Array>, grads: Record<string, Float32Array>, lr: number) {
    this.t += 1;
    const t = this.t, b1 = 0.9, b2 = 0.999;
    const stepSize = lr / (1 - b1 ** t), bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const wd = this.o.decoupled ? 0 : this.o.weightDecay;
    const decay = this.o.decoupled ? 1 - lr * this.o.weightDecay : 1;
    for (const name of Object.keys(this.m)) {
      const p = params[name]!, g = grads[name]!, m = this.m[name]!, v = this.v[name]!;
      for (let i = 0; i < p.length; i++) {
        const theta = p[i]! * decay;
        const gi = g[i]! + wd * theta;
        const mi = m[i]! + (1 - b1) * (gi - m[i]!);
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = theta - stepSize * mi / (Math.sqrt(vi) / bc2Sqrt + 1e-8);
      }
    }
  }
}

/** The unfused sequence the fused step replaces: prox gradient into g, clipGradNorm, Adam.step. */
function naiveProxClipAdam(
  adam: JsAdam,
  params: Record<string, Float32Array>,
  grads: Record<string, Float32Array>,
  proxParams: string[],
  lambdaProx: number,
  maxGradNorm: number,
  lr: number,
): { proxSquares: number; gradNorm: number } {
  const g = Object.fromEntries(Object.entries(grads).map(([k, a]) => [k, a.slice()]));
  const count = proxParams.reduce((a, n) => a + params[n]!.length, 0);
  let proxSquares = 0;
  if (lambdaProx > 0) {
    const coef = 2 * lambdaProx / count;
    for (const n of proxParams) {
      const p = params[n]!, gn = g[n]!;
      for (let i = 0; i < p.length; i++) {
        proxSquares += p[i]! * p[i]!;
        gn[i] = gn[i]! + coef * p[i]!;
      }
    }
  }
  let gradNorm: number;
  if (maxGradNorm > 0) gradNorm = clipGradNorm(g, maxGradNorm).totalNorm;
  else {
    let sq = 0;
    for (const a of Object.values(g)) for (const x of a) sq += x * x;
    gradNorm = Math.sqrt(sq);
  }
  adam.step(params, g, lr);
  return { proxSquares, gradNorm };
}

Deno.test("proxClipAdamStep() (WebAssembly kernel) equals prox + clipGradNorm + the JavaScript Adam loop bit for bit over a 40-step trajectory (coupled/decoupled decay, clipped or not, odd sizes)", () => {
  const sizes = { w1: 300, b1: 17, w2: 256, b2: 5 };
  for (
    const [decoupled, maxGradNorm, lambdaProx, proxParams] of [
      [false, 1, 0.5, ["w1", "b1", "w2", "b2"]],
      [true, 0.3, 2, ["w1", "w2"]],
      [false, 0, 0.5, ["w2"]],
      [false, 1e6, 0, ["w1"]],
    ] as [boolean, number, number, string[]][]
  ) {
    const rng = new SeededRandom(11);
    const init = Object.fromEntries(
      Object.entries(sizes).map((
        [k, n],
      ) => [k, Float32Array.from({ length: n }, () => rng.normal())]),
    );
    const pf = Object.fromEntries(Object.entries(init).map(([k, a]) => [k, a.slice()]));
    const pn = Object.fromEntries(Object.entries(init).map(([k, a]) => [k, a.slice()]));
    const opts = { lr: 1e-2, weightDecay: 5e-3, decoupled };
    const fused = new Adam(sizes, opts), naive = new JsAdam(sizes, opts);
    let clipped = 0;
    for (let step = 0; step < 40; step++) {
      // gradients that depend on the parameters (a quadratic bowl plus noise), so the
      // trajectories would drift apart if one step differed
      const grads = Object.fromEntries(
        Object.entries(pf).map((
          [k, a],
        ) => [k, Float32Array.from(a, (x) => 0.3 * x + 0.1 * rng.normal())]),
      );
      const before = Object.fromEntries(Object.entries(grads).map(([k, a]) => [k, a.slice()]));
      const lr = 1e-2 * (1 - step / 50);
      const r = proxClipAdamStep(fused, pf, grads, { proxParams, lambdaProx, maxGradNorm, lr });
      const ref = naiveProxClipAdam(naive, pn, grads, proxParams, lambdaProx, maxGradNorm, lr);
      if (r.scale < 1) clipped++;
      close(r.gradNorm, ref.gradNorm, 1e-12, `step ${step} norm`);
      close(r.proxSquares, ref.proxSquares, 1e-12, `step ${step} prox`);
      for (const k of Object.keys(sizes)) {
        assert.deepEqual(grads[k], before[k], `step ${step}: ${k} gradients modified`);
        for (let i = 0; i < pf[k]!.length; i++) {
          const a = pf[k]![i]!, b = pn[k]![i]!;
          assert.ok(
            Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(b), 1e-6),
            `${k}[${i}] ${a} vs ${b}`,
          );
        }
      }
    }
    const sf = fused.getState();
    assert.deepEqual(Object.values(sf.steps), [40, 40, 40, 40]);
    assert.deepEqual(sf.m, naive.m, "first moments differ");
    assert.deepEqual(sf.v, naive.v, "second moments differ");
    // in fact bit-identical: the fused step rounds where the naive one stores float32
    for (const k of Object.keys(sizes)) assert.deepEqual(pf[k], pn[k], `${k} not bit-identical`);
    if (maxGradNorm === 0.3) assert.ok(clipped > 0, "the clipped case never clipped");
    if (maxGradNorm === 1e6) assert.equal(clipped, 0);
  }
});

Deno.test("proxClipAdamStep() checks before updating: a throwing beforeUpdate leaves parameters and moments unchanged", () => {
  const adam = new Adam({ w: 3 }, { lr: 0.1 });
  const p = { w: new Float32Array([1, 2, 3]) };
  const g = { w: new Float32Array([1, 1, 1]) };
  assert.throws(
    () =>
      proxClipAdamStep(adam, p, g, {
        proxParams: ["w"],
        lambdaProx: 1,
        maxGradNorm: 1,
        lr: 0.1,
        beforeUpdate: (r) => {
          assert.equal(r.proxSquares, 14);
          throw new KitError("diverged");
        },
      }),
    KitError,
  );
  assert.deepEqual(p.w, new Float32Array([1, 2, 3]));
  assert.equal(adam.stepCountOf("w"), 0);
  assert.throws(
    () => proxClipAdamStep(adam, p, g, { proxParams: ["x"], lambdaProx: 1, maxGradNorm: 1, lr: 1 }),
    /prox parameter "x"/,
  );
});

Deno.test("Adam runs its WebAssembly SIMD kernel here, and its workspace buffers update in place without copies", () => {
  assert.ok(instantiateAdamKernel(64) !== null, "WebAssembly SIMD kernel did not instantiate");
  const sizes = { a: 5, b: 8 };
  const inPlace = new Adam(sizes, { lr: 0.05 }), copied = new Adam(sizes, { lr: 0.05 });
  const pw: Record<string, Float32Array> = {}, gw: Record<string, Float32Array> = {};
  const pc: Record<string, Float32Array> = {}, gc: Record<string, Float32Array> = {};
  for (const [k, n] of Object.entries(sizes)) {
    const w = inPlace.workspace(k);
    w.params.set(Float32Array.from({ length: n }, (_, i) => i - 2));
    pw[k] = w.params;
    gw[k] = w.grads;
    pc[k] = w.params.slice();
    gc[k] = new Float32Array(n);
  }
  for (let s = 0; s < 5; s++) {
    for (const k of Object.keys(sizes)) {
      for (let i = 0; i < gw[k]!.length; i++) {
        gw[k]![i] = gc[k]![i] = Math.sin(3 * i + s + pw[k]![i]!);
      }
    }
    inPlace.step(pw, gw);
    copied.step(pc, gc);
  }
  for (const k of Object.keys(sizes)) {
    assert.deepEqual(pw[k], pc[k]);
    assert.ok(pw[k]![0] !== -2, "parameters did not move");
  }
  assert.throws(() => inPlace.workspace("c"), KitError);
});
