import assert from "node:assert/strict";
import { kFoldAssignment, kFoldIndices, MT19937, NumpyRandomState } from "../lib/cv/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

interface GoldenFold {
  test: number[];
  train?: number[];
}
interface Golden {
  kfold: { n: number; k: number; seed: number | null; shuffle: boolean; folds: GoldenFold[] }[];
  permutation: { n: number; seed: number; perm: number[] }[];
  raw: { seed: number; uint32: number[] }[];
}

const golden: Golden = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/kfold_golden.json", import.meta.url)),
);

function complement(n: number, test: number[]): number[] {
  const s = new Set(test);
  return Array.from({ length: n }, (_, i) => i).filter((i) => !s.has(i));
}

Deno.test("MT19937.nextUint32() equals numpy's legacy RandomState raw stream", () => {
  for (const { seed, uint32 } of golden.raw) {
    const mt = new MT19937(seed);
    assert.deepEqual(uint32.map(() => mt.nextUint32()), uint32, `seed ${seed}`);
  }
});

Deno.test("MT19937 crosses the 624-word twist boundary like the reference generator", () => {
  // Reference values of mt19937 with init_genrand(5489) (C++ std::mt19937 default):
  // the 10000th output is 4123659995.
  const mt = new MT19937(5489);
  let last = 0;
  for (let i = 0; i < 10000; i++) last = mt.nextUint32();
  assert.equal(last, 4123659995);
});

Deno.test("NumpyRandomState.permutation() equals numpy's RandomState(seed).permutation(n)", () => {
  for (const { n, seed, perm } of golden.permutation) {
    assert.deepEqual(new NumpyRandomState(seed).permutation(n), perm, `n=${n} seed=${seed}`);
  }
});

Deno.test("NumpyRandomState.shuffle() shuffles typed arrays like plain arrays", () => {
  const a = new NumpyRandomState(7).shuffle(Int32Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(a), new NumpyRandomState(7).permutation(50));
});

Deno.test("kFoldIndices() equals scikit-learn KFold folds exactly", () => {
  for (const c of golden.kfold) {
    const folds = kFoldIndices(c.n, c.k, c.seed ?? 0, { shuffle: c.shuffle });
    assert.equal(folds.length, c.folds.length);
    folds.forEach((fold, f) => {
      const g = c.folds[f]!;
      const what = `n=${c.n} k=${c.k} seed=${c.seed} fold ${f}`;
      assert.deepEqual(fold.test, g.test, what);
      assert.deepEqual(fold.train, g.train ?? complement(c.n, g.test), what);
    });
  }
});

Deno.test("kFoldIndices() gives paper D's 5 folds of 554 over N=2770 that partition the rows", () => {
  const folds = kFoldIndices(2770, 5, 7);
  assert.deepEqual(folds.map((f) => f.test.length), [554, 554, 554, 554, 554]);
  const all = folds.flatMap((f) => f.test).sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 2770 }, (_, i) => i));
  const assignment = kFoldAssignment(2770, 5, 7);
  folds.forEach((f, i) => f.test.forEach((r) => assert.equal(assignment[r], i)));
});

Deno.test("kFoldIndices() throws KitError on bad arguments", () => {
  for (
    const [n, k, seed] of [[10, 1, 0], [3, 4, 0], [10, 2.5, 0], [10.5, 2, 0], [10, 2, -1], [
      10,
      2,
      2 ** 32,
    ], [10, 2, 0.5]]
  ) {
    assert.throws(() => kFoldIndices(n!, k!, seed!), KitError, `${n} ${k} ${seed}`);
  }
});
