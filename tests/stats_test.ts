import assert from "node:assert/strict";
import {
  bootstrapIndices,
  bootstrapInterval,
  forEachBootstrapResample,
  macroMeanStatistic,
  pairedBootstrapTest,
  percentile,
  weightedMeanStatistic,
} from "../lib/stats/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

interface Golden {
  n: number;
  resamples: number;
  seed: number;
  first_indices: number[][];
  a: number[];
  b: number[];
  mean_a: { estimate: number; low: number; high: number };
  paired: { difference: number; low: number; high: number; p_value: number };
  macro: { units2: number[]; estimate: number; low: number; high: number };
  percentile_cases: { values: number[]; q: number; expected: number }[];
}
const golden: Golden = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/stats_golden.json", import.meta.url)),
);
const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

Deno.test("bootstrapIndices() draws the same indices as the numpy fixture's mulberry32", () => {
  const idx = bootstrapIndices(golden.n, golden.resamples, golden.seed);
  for (let r = 0; r < golden.first_indices.length; r++) {
    assert.deepEqual(
      Array.from(idx.subarray(r * golden.n, (r + 1) * golden.n)),
      golden.first_indices[r],
    );
  }
});

Deno.test("forEachBootstrapResample() counts match bootstrapIndices() draws", () => {
  const n = 17, B = 25, seed = 99;
  const idx = bootstrapIndices(n, B, seed);
  forEachBootstrapResample(n, B, seed, (counts, b) => {
    const expect = new Int32Array(n);
    for (let i = 0; i < n; i++) expect[idx[b * n + i]!]!++;
    assert.deepEqual(counts, expect);
  });
});

Deno.test("percentile() equals numpy's default linear percentile", () => {
  for (const c of golden.percentile_cases) close(percentile(c.values, c.q), c.expected);
  assert.throws(() => percentile([], 50), KitError);
  assert.throws(() => percentile([1, NaN], 50), KitError);
});

Deno.test("bootstrapInterval() of all-ones is [1, 1] and of all-zeros [0, 0]", () => {
  const ones = bootstrapInterval(weightedMeanStatistic(new Float64Array(30).fill(1)), 30, {
    seed: 1,
  });
  assert.equal(ones.estimate, 1);
  assert.equal(ones.low, 1);
  assert.equal(ones.high, 1);
  const zeros = bootstrapInterval(weightedMeanStatistic(new Float64Array(30)), 30, {
    seed: 1,
    resamples: 50,
  });
  assert.deepEqual([zeros.low, zeros.high], [0, 0]);
});

Deno.test("bootstrapInterval() of a mean equals numpy's percentiles on the same resamples", () => {
  const ci = bootstrapInterval(weightedMeanStatistic(golden.a), golden.n, {
    seed: golden.seed,
    resamples: golden.resamples,
  });
  close(ci.estimate, golden.mean_a.estimate);
  close(ci.low, golden.mean_a.low);
  close(ci.high, golden.mean_a.high);
  assert.equal(ci.used, golden.resamples);
});

Deno.test("bootstrapInterval() is deterministic per seed and changes with the seed", () => {
  const f = weightedMeanStatistic(golden.a);
  const x = bootstrapInterval(f, golden.n, { seed: 5, resamples: 200 });
  const y = bootstrapInterval(f, golden.n, { seed: 5, resamples: 200 });
  const z = bootstrapInterval(f, golden.n, { seed: 6, resamples: 200 });
  assert.deepEqual(x, y);
  assert.ok(x.low !== z.low || x.high !== z.high);
});

Deno.test("macroMeanStatistic() over unit subsets equals numpy's macro mean", () => {
  const units2 = golden.macro.units2;
  const stat = macroMeanStatistic([
    { values: golden.a },
    { values: units2.map((u) => golden.b[u]!), units: units2 },
  ]);
  const ci = bootstrapInterval(stat, golden.n, { seed: golden.seed, resamples: golden.resamples });
  close(ci.estimate, golden.macro.estimate);
  close(ci.low, golden.macro.low);
  close(ci.high, golden.macro.high);
});

Deno.test("pairedBootstrapTest() equals numpy's difference interval and p-value", () => {
  const r = pairedBootstrapTest(
    weightedMeanStatistic(golden.a),
    weightedMeanStatistic(golden.b),
    golden.n,
    {
      seed: golden.seed,
      resamples: golden.resamples,
    },
  );
  close(r.difference, golden.paired.difference);
  close(r.low, golden.paired.low);
  close(r.high, golden.paired.high);
  close(r.pValue, golden.paired.p_value);
});

Deno.test("pairedBootstrapTest() of a system with itself has difference 0 and p = 1", () => {
  const f = weightedMeanStatistic(golden.a);
  const r = pairedBootstrapTest(f, f, golden.n, { seed: 2, resamples: 100 });
  assert.equal(r.difference, 0);
  assert.equal(r.pValue, 1);
  assert.deepEqual([r.low, r.high], [0, 0]);
});

Deno.test("weightedMeanStatistic() is NaN when no row is drawn; bad arguments throw KitError", () => {
  const f = weightedMeanStatistic([1, 0], [0, 0]);
  assert.ok(Number.isNaN(f(new Int32Array([0, 3]))));
  assert.throws(() => weightedMeanStatistic([1, 0], [0]), KitError);
  assert.throws(() => bootstrapIndices(0, 10, 1), KitError);
  assert.throws(
    () => bootstrapInterval(weightedMeanStatistic([1]), 1, { seed: 1, level: 1.5 }),
    KitError,
  );
});

Deno.test("forEachBootstrapResample() draws the same counts as the seeded stream on every call, even when a visitor writes to them", () => {
  const naive = (n: number, resamples: number, seed: number) => {
    const rng = new SeededRandom(seed), out: number[][] = [];
    for (let b = 0; b < resamples; b++) {
      const c = new Array(n).fill(0);
      for (let i = 0; i < n; i++) c[rng.int(n)]++;
      out.push(c);
    }
    return out;
  };
  const collect = (n: number, resamples: number, seed: number, scribble = false) => {
    const out: number[][] = [];
    forEachBootstrapResample(n, resamples, seed, (w) => {
      out.push([...w]);
      if (scribble) w.fill(99);
    });
    return out;
  };
  assert.deepEqual(collect(37, 20, 5, true), naive(37, 20, 5));
  assert.deepEqual(collect(37, 20, 5), naive(37, 20, 5), "a second call (memoised) is unchanged");
  assert.deepEqual(collect(37, 20, 6), naive(37, 20, 6), "another seed");
  assert.deepEqual(collect(36, 20, 5), naive(36, 20, 5), "another n");
});
