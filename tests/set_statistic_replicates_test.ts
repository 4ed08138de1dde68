import assert from "node:assert/strict";

function assertAlmostEquals(a: number, b: number, tol: number): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
}
import {
  setStatisticReplicates,
  weightedEffectiveRank,
  weightedGramCorrelation,
} from "../lib/claims/set_statistic_replicates.ts";
import { diagnoseLanguages } from "../lib/diagnostics/diagnose_languages.ts";
import { gram } from "../lib/diagnostics/gram.ts";
import { type Matrix, matrix } from "../lib/diagnostics/matrix.ts";
import { effectiveRank } from "../lib/diagnostics/spectrum.ts";
import { forEachBootstrapResample } from "../lib/stats/mod.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

const rng = new SeededRandom(11);
const rand = (n: number, d: number): Matrix =>
  matrix(Float64Array.from({ length: n * d }, () => rng.normal()), n, d);

/** Row i repeated w[i] times. */
function expand(x: Matrix, w: ArrayLike<number>): { m: Matrix; origin: number[] } {
  const rows: number[] = [], origin: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < w[i]!; c++) {
      for (let j = 0; j < x.cols; j++) rows.push(x.data[i * x.cols + j]!);
      origin.push(i);
    }
  }
  return { m: matrix(Float64Array.from(rows), origin.length, x.cols), origin };
}

/** Naive: Pearson over the expanded set's i < j entries whose rows come from distinct items. */
function naiveGramCorrelation(mats: Matrix[], w: ArrayLike<number>): number {
  const ex = mats.map((m) => expand(m, w));
  const origin = ex[0]!.origin, N = origin.length;
  const tri = ex.map(({ m }) => {
    const g = gram(m).data, out: number[] = [];
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) if (origin[i] !== origin[j]) out.push(g[i * N + j]!);
    }
    return out;
  });
  const pearson = (a: number[], b: number[]) => {
    const ma = a.reduce((s, v) => s + v, 0) / a.length;
    const mb = b.reduce((s, v) => s + v, 0) / b.length;
    let c = 0, va = 0, vb = 0;
    a.forEach((x, i) => {
      c += (x - ma) * (b[i]! - mb);
      va += (x - ma) ** 2;
      vb += (b[i]! - mb) ** 2;
    });
    return c / Math.sqrt(va * vb);
  };
  let s = 0, k = 0;
  for (let a = 0; a < tri.length; a++) {
    for (let b = a + 1; b < tri.length; b++, k++) s += pearson(tri[a]!, tri[b]!);
  }
  return s / k;
}

Deno.test("weightedEffectiveRank() equals the effective rank of the expanded rows when weights repeat rows", () => {
  const x = rand(12, 5);
  const w = [2, 0, 1, 3, 1, 0, 0, 1, 2, 1, 1, 0];
  assertAlmostEquals(weightedEffectiveRank(x, w), effectiveRank(expand(x, w).m), 1e-9);
  assertAlmostEquals(weightedEffectiveRank(x, new Array(12).fill(1)), effectiveRank(x), 1e-9);
  // fewer drawn rows than dimensions: the m × m side
  const wide = rand(6, 10), ww = [0, 2, 1, 0, 3, 1];
  assertAlmostEquals(weightedEffectiveRank(wide, ww), effectiveRank(expand(wide, ww).m), 1e-9);
});

Deno.test("weightedGramCorrelation() equals a naive Pearson over distinct-item pairs of the expanded set", () => {
  const mats = [rand(10, 4), rand(10, 4), rand(10, 4)];
  const w = [1, 3, 0, 2, 1, 1, 0, 2, 1, 1];
  const got = weightedGramCorrelation(mats.map((m) => gram(m).data), 10, w);
  assertAlmostEquals(got, naiveGramCorrelation(mats, w), 1e-12);
});

Deno.test("setStatisticReplicates() recomputes each resample naively and its all-ones value is D-T6's", () => {
  const n = 24, d = 4, langs = ["en", "de", "fr"];
  const emb = Object.fromEntries(langs.map((l) => [l, rand(n, d)]));
  const folds = [0, 1, 2].map((k) => {
    const units = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === k);
    const byLang = Object.fromEntries(langs.map((l) => {
      const x = emb[l]!;
      const data = Float64Array.from(units.flatMap((u) => [...x.data.slice(u * d, u * d + d)]));
      return [l, matrix(data, units.length, d)];
    }));
    return { units, byLang };
  });
  const r = setStatisticReplicates(folds, n, { seed: 2025, resamples: 20 });
  forEachBootstrapResample(n, 20, 2025, (counts, b) => {
    let er = 0, gc = 0;
    for (const f of folds) {
      const w = f.units.map((u) => counts[u]!);
      const mats = langs.map((l) => f.byLang[l]!);
      er += mats.reduce((s, m) => s + effectiveRank(expand(m, w).m), 0) / mats.length;
      gc += naiveGramCorrelation(mats, w);
    }
    assertAlmostEquals(r.effectiveRank[b]!, er / folds.length, 1e-9);
    assertAlmostEquals(r.gramCorrelation[b]!, gc / folds.length, 1e-9);
  });
  // observed: all ones equals diagnoseLanguages' macro averaged over folds
  const dt6 = diagnoseLanguages(folds[0]!.byLang, { seed: 7, probe: false, k: 3 }).macro;
  const w1 = new Array(folds[0]!.units.length).fill(1);
  assertAlmostEquals(
    langs.reduce((s, l) => s + weightedEffectiveRank(folds[0]!.byLang[l]!, w1), 0) / 3,
    dt6.effectiveRank,
    1e-9,
  );
  assertAlmostEquals(
    weightedGramCorrelation(langs.map((l) => gram(folds[0]!.byLang[l]!).data), 8, w1),
    dt6.gramCorrelation,
    1e-12,
  );
});

Deno.test("setStatisticReplicates() rejects folds that overlap or miss units", () => {
  const f = (units: number[]) => ({ units, byLang: { en: rand(units.length, 2) } });
  let threw = false;
  try {
    setStatisticReplicates([f([0, 1]), f([1, 2])], 3, { seed: 1, resamples: 2 });
  } catch {
    threw = true;
  }
  assert.equal(threw, true);
});

Deno.test("weightedEffectiveRank() from the row Gram (m < d, paper D's side) equals the centred-rows path and the expanded rows", () => {
  // rows with a shared mean direction (as caption embeddings have): the centring cancels most of
  // each Gram entry, the case where reading the centred Gram off x·xᵀ loses the most digits
  const base = rand(1, 40);
  const x = rand(30, 40);
  for (let i = 0; i < 30; i++) {
    for (let j = 0; j < 40; j++) x.data[i * 40 + j] = x.data[i * 40 + j]! * 0.3 + base.data[j]!;
  }
  const g = gram(x).data;
  const wr = new SeededRandom(5);
  for (let r = 0; r < 5; r++) {
    const w = Array.from({ length: 30 }, () => Math.floor(wr.next() * 3));
    w[r] = 2; // at least one drawn row
    const viaRows = weightedEffectiveRank(x, w);
    const viaGram = weightedEffectiveRank(x, w, g);
    assertAlmostEquals(viaGram, viaRows, 1e-11);
    assertAlmostEquals(viaGram, effectiveRank(expand(x, w).m), 1e-9);
  }
  // m ≥ d: the Gram is not used; the value is the centred-rows path's, bit for bit
  const tall = rand(20, 4), wt = new Array(20).fill(1);
  assert.equal(weightedEffectiveRank(tall, wt, gram(tall).data), weightedEffectiveRank(tall, wt));
  assert.throws(() => weightedEffectiveRank(tall, wt, new Float64Array(3)), /rowGram has 3/);
});
