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
    sparse.stepSparse(ps, { b: gb }, { emb: { rows, values: vals, width: W } });
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

Deno.test("Adam.stepSparse() rejects a parameter with both or neither gradient, and rows out of range", () => {
  const opt = new Adam({ emb: ROWS * W }, { lr: 0.1 });
  const p = { emb: new Float32Array(ROWS * W) };
  const rows = { rows: [0], values: new Float32Array(W), width: W };
  assert.throws(() => opt.stepSparse(p, {}, {}), KitError);
  assert.throws(
    () => opt.stepSparse(p, { emb: new Float32Array(ROWS * W) }, { emb: rows }),
    KitError,
  );
  assert.throws(
    () => opt.stepSparse(p, {}, { emb: { rows: [ROWS], values: new Float32Array(W), width: W } }),
    /outside/,
  );
  assert.equal(opt.stepCount, 0);
});
