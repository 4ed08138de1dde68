import assert from "node:assert/strict";
import { Adam } from "../lib/optim/adam.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

const ROWS = 6, W = 4;

function randArray(n: number, rng: SeededRandom): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** A dense gradient that is `vals` in `rows` and zero elsewhere. */
function densify(rows: number[], vals: Float32Array): Float32Array {
  const g = new Float32Array(ROWS * W);
  rows.forEach((r, k) => g.set(vals.subarray(k * W, (k + 1) * W), r * W));
  return g;
}

function rowOf(a: Float32Array, r: number): number[] {
  return Array.from(a.subarray(r * W, (r + 1) * W));
}

Deno.test("Adam.stepSparse() equals the dense step on touched rows and leaves untouched rows as they are (lazy)", () => {
  const rng = new SeededRandom(3);
  const init = { emb: randArray(ROWS * W, rng), b: randArray(3, rng) };
  const sizes = { emb: ROWS * W, b: 3 };
  const dense = new Adam(sizes, { lr: 0.01 }), sparse = new Adam(sizes, { lr: 0.01 });
  const pd = { emb: init.emb.slice(), b: init.b.slice() };
  const ps = { emb: init.emb.slice(), b: init.b.slice() };
  // Step 1 touches rows 4 and 1 (any order), step 2 rows 1 and 3.
  const steps: [number[], Float32Array, Float32Array][] = [
    [[4, 1], randArray(2 * W, rng), randArray(3, rng)],
    [[1, 3], randArray(2 * W, rng), randArray(3, rng)],
  ];
  for (const [s, [rows, vals, gb]] of steps.entries()) {
    dense.step(pd, { emb: densify(rows, vals), b: gb });
    sparse.stepSparse(ps, { b: gb }, { emb: { rows, values: vals, width: W } }, 0.01, "lazy");
    if (s === 0) {
      // With zero moments, dense Adam does not move rows with a zero gradient: identical.
      assert.deepEqual(Array.from(ps.emb), Array.from(pd.emb));
    }
  }
  assert.deepEqual(Array.from(ps.b), Array.from(pd.b));
  // Row 1 touched at both steps: same moments and values as dense Adam.
  assert.deepEqual(rowOf(ps.emb, 1), rowOf(pd.emb, 1));
  // Row 3 touched only at step 2: its first update uses step 2's bias corrections; dense Adam
  // had zero moments for it until then too, so still identical.
  assert.deepEqual(rowOf(ps.emb, 3), rowOf(pd.emb, 3));
  // Rows never touched: unchanged in both.
  for (const r of [0, 2, 5]) {
    assert.deepEqual(rowOf(ps.emb, r), rowOf(init.emb, r));
    assert.deepEqual(rowOf(pd.emb, r), rowOf(init.emb, r));
  }
  // Row 4 touched at step 1 only: dense Adam keeps moving it by its momentum at step 2, the
  // lazy update leaves it where step 1 put it (the documented difference).
  const after1 = new Adam(sizes, { lr: 0.01 });
  const p1 = { emb: init.emb.slice(), b: init.b.slice() };
  after1.step(p1, { emb: densify(steps[0]![0], steps[0]![1]), b: steps[0]![2] });
  assert.deepEqual(rowOf(ps.emb, 4), rowOf(p1.emb, 4));
  assert.notDeepEqual(rowOf(pd.emb, 4), rowOf(p1.emb, 4));
  // Moments of the lazy rows are not decayed either.
  assert.deepEqual(
    Array.from(sparse.getState().m.emb!.subarray(4 * W, 5 * W)),
    Array.from(after1.getState().m.emb!.subarray(4 * W, 5 * W)),
  );
});

Deno.test("Adam.stepSparse() rejects a parameter with both gradients, unknown names and rows out of range; one with neither is not stepped", () => {
  const opt = new Adam({ emb: ROWS * W }, { lr: 0.1 });
  const p = { emb: new Float32Array(ROWS * W) };
  const rows = { rows: [0], values: new Float32Array(W), width: W };
  opt.stepSparse(p, {}, {});
  assert.deepEqual(p.emb, new Float32Array(ROWS * W));
  assert.throws(() => opt.stepSparse(p, { nope: new Float32Array(1) }, {}), /not one of/);
  assert.throws(
    () => opt.stepSparse(p, { emb: new Float32Array(ROWS * W) }, { emb: rows }),
    KitError,
  );
  assert.throws(
    () => opt.stepSparse(p, {}, { emb: { rows: [ROWS], values: new Float32Array(W), width: W } }),
    /outside/,
  );
  assert.equal(opt.stepCountOf("emb"), 0);
});

Deno.test('Adam.stepSparse(…, "dense") is torch.optim.Adam on the zero-filled dense gradient, bit for bit', () => {
  const rng = new SeededRandom(5);
  const init = { emb: randArray(ROWS * W, rng), b: randArray(3, rng) };
  const sizes = { emb: ROWS * W, b: 3 };
  for (const wd of [0, 0.01]) {
    const opts = { lr: 0.01, weightDecay: wd };
    const dense = new Adam(sizes, opts), sparse = new Adam(sizes, opts);
    const pd = { emb: init.emb.slice(), b: init.b.slice() };
    const ps = { emb: init.emb.slice(), b: init.b.slice() };
    for (const rows of [[4, 1], [1, 3], [0]]) {
      const vals = randArray(rows.length * W, rng), gb = randArray(3, rng);
      // the dense path's kernel works in float64 like #update: identical results
      dense.stepSparse(pd, { emb: densify(rows, vals), b: gb }, {});
      sparse.stepSparse(ps, { b: gb }, { emb: { rows, values: vals, width: W } });
    }
    assert.deepEqual(ps.emb, pd.emb, `weight decay ${wd}`);
    assert.deepEqual(ps.b, pd.b);
    assert.equal(sparse.stepCountOf("emb"), 3);
  }
});

Deno.test("Adam keeps per-parameter state: a parameter left out of a step is untouched and starts its step count at its first gradient (torch.optim.Adam with a frozen parameter)", () => {
  const sizes = { a: 2, b: 2 };
  const opt = new Adam(sizes, { lr: 0.1 }), fresh = new Adam({ b: 2 }, { lr: 0.1 });
  const p = { a: new Float32Array([1, 2]), b: new Float32Array([3, 4]) };
  const q = { b: new Float32Array([3, 4]) };
  const g = (s: number) => new Float32Array([0.5 - s, 0.25 * s]);
  for (let s = 0; s < 3; s++) opt.step(p, { a: g(s) });
  assert.deepEqual(p.b, new Float32Array([3, 4]));
  assert.equal(opt.stepCountOf("a"), 3);
  assert.equal(opt.stepCountOf("b"), 0);
  for (let s = 3; s < 6; s++) {
    opt.step(p, { a: g(s), b: g(s) });
    fresh.step(q, { b: g(s) });
  }
  // b's trajectory is that of an optimiser that first saw it at step 3
  assert.deepEqual(p.b, q.b);
  assert.equal(opt.stepCountOf("b"), 3);
  assert.equal(opt.getState().steps.a, 6);
});
