import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  createHead,
  createIdentityHead,
  createLinearResidualHead,
  createMlpResidualHead,
  gelu,
  type Head,
  type HeadState,
  normalizeRows,
  projectRows,
} from "../lib/heads/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

await initBackend("wasm");

// ---- Float64 oracles ----
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax > 2) {
    // erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up
    let k = 0;
    for (let i = 80; i >= 1; i--) k = (i / 2) / (ax + k);
    return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + k));
  }
  let sum = 0, term = x, n = 0; // Maclaurin series (little cancellation for |x| ≤ 2)
  while (Math.abs(term) > 1e-17 || n < 3) {
    sum += term / (2 * n + 1);
    n += 1;
    term *= (-x * x) / n;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const gelu64 = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));

function normalize64(y: number[]): number[] {
  const n = Math.max(Math.sqrt(y.reduce((a, v) => a + v * v, 0)), 1e-12);
  return y.map((v) => v / n);
}
/** Naive forward of each head kind on Float64 copies of the state. */
function forward64(
  kind: string,
  d: number,
  state: Record<string, Float64Array>,
  t: number[],
): number[] {
  if (kind === "identity") return normalize64(t);
  if (kind === "linear") {
    const dW = state.dW!;
    const y = t.map((_, j) => {
      let s = t[j]!;
      for (let k = 0; k < d; k++) s += t[k]! * dW[k * d + j]!;
      return s;
    });
    return normalize64(y);
  }
  const w1 = state.w1!, b1 = state.b1!, w2 = state.w2!, b2 = state.b2!;
  const h = b1.length;
  const hid = Array.from({ length: h }, (_, j) => {
    let s = b1[j]!;
    for (let k = 0; k < d; k++) s += t[k]! * w1[k * h + j]!;
    return gelu64(s);
  });
  const y = t.map((tj, j) => {
    let s = tj + b2[j]!;
    for (let k = 0; k < h; k++) s += hid[k]! * w2[k * d + j]!;
    return s;
  });
  return normalize64(y);
}
function randRows(rng: SeededRandom, n: number, d: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}
function randomState(head: Head, rng: SeededRandom, scale: number): HeadState {
  const s: HeadState = {};
  for (const [k, v] of Object.entries(head.getState())) s[k] = v.map(() => rng.normal() * scale);
  return s;
}
const to64 = (s: HeadState) =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Float64Array.from(v)]));

Deno.test("gelu() is the exact erf GELU (torch nn.GELU default) with a correct gradient", () => {
  const xs = [-6, -3, -1.5, -1, -0.3, 0, 0.2, 0.5, 1, 2.5, 5];
  const x = tf.tensor1d(xs);
  const y = gelu(x).dataSync();
  xs.forEach((v, i) =>
    assert.ok(Math.abs(y[i]! - gelu64(v)) < 2e-6, `gelu(${v}) = ${y[i]} vs ${gelu64(v)}`)
  );
  // torch.nn.functional.gelu(torch.tensor([1., -1., .5], dtype=torch.float64))
  assert.ok(Math.abs(gelu64(1) - 0.8413447460685429) < 1e-14);
  assert.ok(Math.abs(gelu64(-1) + 0.15865525393145707) < 1e-14);
  assert.ok(Math.abs(gelu64(0.5) - 0.34573123063700656) < 1e-14);
  const g = tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(x).dataSync();
  xs.forEach((v, i) => {
    const fd = (gelu64(v + 1e-6) - gelu64(v - 1e-6)) / 2e-6;
    assert.ok(Math.abs(g[i]! - fd) < 2e-5, `gelu'(${v}) = ${g[i]} vs ${fd}`);
  });
  x.dispose();
});

Deno.test("heads at initialisation are the identity baseline (rows only re-normalised)", () => {
  const rng = new SeededRandom(1);
  const rows = randRows(rng, 7, 6);
  const t = tf.tensor2d(rows.flat(), [7, 6]);
  for (const kind of ["identity", "linear", "mlp"] as const) {
    const head = createHead(kind, 6, { hidden: 5, seed: 3 });
    const before = tf.memory().numTensors;
    const out = head.apply(t);
    const got = out.dataSync();
    out.dispose();
    assert.equal(tf.memory().numTensors, before, `${kind} apply leaks`);
    rows.forEach((r, i) =>
      normalize64(r).forEach((v, j) => assert.ok(Math.abs(got[i * 6 + j]! - v) < 1e-6, kind))
    );
    head.dispose();
  }
  t.dispose();
});

Deno.test("linear and MLP heads match a naive Float64 forward for random parameters within 1e-5", () => {
  const rng = new SeededRandom(2);
  const [n, d, h] = [9, 8, 6];
  const rows = randRows(rng, n, d);
  const t = tf.tensor2d(rows.flat(), [n, d]);
  for (
    const head of [createLinearResidualHead(d), createMlpResidualHead(d, { hidden: h, seed: 4 })]
  ) {
    const state = randomState(head, rng, 0.3);
    head.setState(state);
    const got = tf.tidy(() => head.apply(t).dataSync());
    const s64 = to64(state);
    rows.forEach((r, i) =>
      forward64(head.kind, d, s64, r).forEach((v, j) =>
        assert.ok(
          Math.abs(got[i * d + j]! - v) < 1e-5,
          `${head.kind} (${i},${j}) ${got[i * d + j]} vs ${v}`,
        )
      )
    );
    const proj = projectRows(head, Float32Array.from(rows.flat()), 4);
    proj.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) < 1e-6));
    head.dispose();
  }
  t.dispose();
});

Deno.test("head gradients (through apply and the regularisers) match finite differences of the Float64 forward", () => {
  const rng = new SeededRandom(3);
  const [n, d, h] = [5, 6, 4];
  const rows = randRows(rng, n, d);
  const weights = randRows(rng, n, d); // loss = Σ apply(t) ⊙ R + 0.7·prox + 0.3·ortho
  const t = tf.tensor2d(rows.flat(), [n, d]);
  const R = tf.tensor2d(weights.flat(), [n, d]);
  for (
    const head of [createLinearResidualHead(d), createMlpResidualHead(d, { hidden: h, seed: 5 })]
  ) {
    const state = randomState(head, rng, 0.25);
    head.setState(state);
    const loss64 = (s: Record<string, Float64Array>) => {
      let total = 0;
      rows.forEach((r, i) =>
        forward64(head.kind, d, s, r).forEach((v, j) => (total += v * weights[i]![j]!))
      );
      if (head.kind === "linear") {
        const dW = s.dW!;
        let prox = 0, ortho = 0;
        for (const v of dW) prox += v * v;
        for (let a = 0; a < d; a++) {
          for (let b = 0; b < d; b++) {
            let g = 0;
            for (let k = 0; k < d; k++) {
              g += (dW[k * d + a]! + (k === a ? 1 : 0)) * (dW[k * d + b]! + (k === b ? 1 : 0));
            }
            ortho += (g - (a === b ? 1 : 0)) ** 2;
          }
        }
        total += 0.7 * prox / (d * d) + 0.3 * ortho / (d * d);
      } else {
        let sq = 0, cnt = 0;
        for (const v of Object.values(s)) for (const x of v) (sq += x * x), cnt++;
        total += 0.7 * sq / cnt;
      }
      return total;
    };
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => {
        let l = tf.add(tf.sum(tf.mul(head.apply(t), R)), tf.mul(head.regularizers.prox(), 0.7));
        if (head.regularizers.ortho) l = tf.add(l, tf.mul(head.regularizers.ortho(), 0.3));
        return l as tf.Scalar;
      }), head.variables as tf.Variable[]);
    const s64 = to64(state);
    assert.ok(Math.abs(value.dataSync()[0]! - loss64(s64)) < 1e-4);
    for (const p of head.parameters) {
      const g = grads[p.variable.name]!.dataSync();
      const arr = s64[p.name]!;
      for (let idx = 0; idx < arr.length; idx += Math.max(1, Math.floor(arr.length / 12))) {
        const keep = arr[idx]!;
        arr[idx] = keep + 1e-6;
        const up = loss64(s64);
        arr[idx] = keep - 1e-6;
        const down = loss64(s64);
        arr[idx] = keep;
        const fd = (up - down) / 2e-6;
        assert.ok(
          Math.abs(g[idx]! - fd) < 1e-4 * Math.max(1, Math.abs(fd)),
          `${head.kind}.${p.name}[${idx}] ${g[idx]} vs ${fd}`,
        );
      }
    }
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, `${head.kind} gradient leaks`);
    head.dispose();
  }
  tf.dispose([t, R]);
});

Deno.test("regularisers: prox = ΣΔW²/d², ortho = Σ(WᵀW−I)²/d² (linear), mean of squares (MLP), zero at init", () => {
  const lin = createLinearResidualHead(4);
  assert.equal(tf.tidy(() => lin.regularizers.prox().dataSync()[0]), 0);
  assert.ok(Math.abs(tf.tidy(() => lin.regularizers.ortho!().dataSync()[0]!)) < 1e-12);
  const dW = new Float32Array(16);
  dW[1] = 0.5; // W = I + 0.5·e₀e₁ᵀ → WᵀW − I has entries 0.5, 0.5, 0.25
  lin.setState({ dW });
  assert.ok(Math.abs(tf.tidy(() => lin.regularizers.prox().dataSync()[0]!) - 0.25 / 16) < 1e-8);
  assert.ok(
    Math.abs(
      tf.tidy(() => lin.regularizers.ortho!().dataSync()[0]!) - (0.25 + 0.25 + 0.0625) / 16,
    ) < 1e-7,
  );
  lin.dispose();
  const mlp = createMlpResidualHead(4, { hidden: 3, seed: 1 });
  const st = mlp.getState();
  let sq = 0, cnt = 0;
  for (const v of Object.values(st)) for (const x of v) (sq += x * x), cnt++;
  assert.equal(cnt, 4 * 3 + 3 + 3 * 4 + 4);
  assert.ok(Math.abs(tf.tidy(() => mlp.regularizers.prox().dataSync()[0]!) - sq / cnt) < 1e-7);
  assert.equal(mlp.regularizers.ortho, null);
  mlp.dispose();
  assert.equal(createIdentityHead(3).regularizers.ortho, null);
});

Deno.test("createMlpResidualHead() draws W1, b1 from U(−1/√d, 1/√d) by seed, W2 = b2 = 0", () => {
  const d = 64, h = 128, bound = 1 / 8;
  const a = createMlpResidualHead(d, { hidden: h, seed: 7 }),
    b = createMlpResidualHead(d, { hidden: h, seed: 7 });
  const c = createMlpResidualHead(d, { hidden: h, seed: 8 });
  const sa = a.getState(), sb = b.getState(), sc = c.getState();
  assert.deepEqual(sa.w1, sb.w1);
  assert.deepEqual(sa.b1, sb.b1);
  assert.notDeepEqual(sa.w1, sc.w1);
  for (const key of ["w1", "b1"]) {
    const v = sa[key]!;
    let mean = 0, sq = 0, max = 0;
    for (const x of v) (mean += x), (sq += x * x), (max = Math.max(max, Math.abs(x)));
    mean /= v.length;
    assert.ok(max <= bound);
    if (key === "w1") {
      assert.ok(Math.abs(mean) < 0.01 * bound * 10);
      assert.ok(
        Math.abs(sq / v.length - bound * bound / 3) < 0.05 * bound * bound,
        "variance of U(−b, b) is b²/3",
      );
    }
  }
  assert.ok(sa.w2!.every((x) => x === 0) && sa.b2!.every((x) => x === 0));
  assert.equal(sa.w1!.length, d * h);
  for (const x of [a, b, c]) x.dispose();
});

Deno.test("getState()/setState() round-trip and setState() rejects missing or mis-sized entries", () => {
  const rng = new SeededRandom(9);
  const head = createMlpResidualHead(5, { hidden: 3 });
  const s = randomState(head, rng, 1);
  head.setState(s);
  const back = head.getState();
  for (const k of Object.keys(s)) assert.deepEqual(back[k], s[k]);
  back.w1![0] = 123; // a copy: the head is unchanged
  assert.notEqual(head.getState().w1![0], 123);
  assert.throws(
    () => head.setState({ w1: s.w1! }),
    (e: unknown) => e instanceof KitError && /no "b1"/.test(e.message),
  );
  assert.throws(
    () => head.setState({ ...s, b2: new Float32Array(2) }),
    (e: unknown) => e instanceof KitError && /"b2" has 2 values, expected 5/.test(e.message),
  );
  head.dispose();
  assert.throws(() => createHead("bogus" as "linear", 3), KitError);
  const lin = createLinearResidualHead(3);
  assert.throws(
    () => tf.tidy(() => lin.apply(tf.zeros([2, 4]) as tf.Tensor2D)),
    /expected n × 3 rows/,
  );
  lin.dispose();
});

Deno.test("normalizeRows() gradient matches the composed-ops gradient", () => {
  const rng = new SeededRandom(4);
  const x = tf.tensor2d(randRows(rng, 4, 5).flat(), [4, 5]);
  const r = tf.tensor2d(randRows(rng, 4, 5).flat(), [4, 5]);
  const a = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(normalizeRows(v as tf.Tensor2D), r)))(x)
    .dataSync();
  const b = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.div(v, tf.norm(v, 2, 1, true)), r)))(x)
    .dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6);
  tf.dispose([x, r]);
});
