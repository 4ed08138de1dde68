import assert from "node:assert/strict";
import {
  centredSquaredSingularValues,
  centredSquaredSingularValuesFromGram,
  componentsForVarianceShare,
  cosineKnn,
  cosineKnnFromGram,
  diagnoseLanguages,
  dimensionEntropy,
  effectiveRank,
  effectiveRankFromSpectrum,
  fitMultinomialLogistic,
  gram,
  gramCorrelation,
  hubness,
  inDegrees,
  langIdProbe,
  type Matrix,
  matrix,
  meanCosine,
  minimizeLbfgs,
  neighbourOverlap,
  numpyHistogramBin,
  pca90,
  populationSkewness,
  predictMultinomialLogistic,
  roundHalfEven,
  selectRows,
  shareNearZero,
  stackLanguages,
  stratifiedSplit,
  symmetricEigenvalues,
  TABLE6_ROWS,
} from "../lib/diagnostics/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

// ------------------------------------------------------------------------------------ fixture
interface PerLanguageGolden {
  effective_rank: number;
  pca90: number;
  mean_cosine: number;
  poz: number;
  entropy: number;
  hub_skewness: number;
  hub_ratio: number;
  in_degrees: number[];
  knn: number[];
  squared_singular_values: number[];
}
interface ProbeGolden {
  seed: number;
  max_rows: number;
  C: number;
  train: number[];
  test: number[];
  accuracy: number;
  coef: number[];
  intercept: number[];
  objective: number;
}
interface Golden {
  n: number;
  d: number;
  k: number;
  languages: string[];
  data: Record<string, number[]>;
  duplicate_rows: { en: [number, number] };
  per_language: Record<string, PerLanguageGolden>;
  pairs: { a: string; b: string; gram_correlation: number; neighbour_overlap: number }[];
  macro: Record<string, number>;
  probe: ProbeGolden;
  probe_first_rows: ProbeGolden;
  hub_top_counts: Record<string, number>;
  histogram: {
    f32_values: number[];
    f32_rows: number;
    f32_entropy: number;
    f32_counts: number[][];
    f32_as_f64_entropy: number;
    f32_as_f64_counts: number[][];
    f64_values: number[];
    f64_rows: number;
    f64_entropy: number;
    f64_counts: number[][];
    cols: number;
  };
}

const golden: Golden = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/diagnostics_golden.json", import.meta.url)),
);
const byLang: Record<string, Matrix> = Object.fromEntries(
  golden.languages.map((l) => [l, matrix(Float64Array.from(golden.data[l]!), golden.n, golden.d)]),
);
const TOL = 1e-5;

function close(actual: number, expected: number, tol = TOL, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs expected ${expected}`,
  );
}

function randomMatrix(rng: SeededRandom, rows: number, cols: number): Matrix {
  return matrix(Float64Array.from({ length: rows * cols }, () => rng.normal()), rows, cols);
}

// ---------------------------------------------------------------------- naive reference code
function naiveGram(x: Matrix): Float64Array {
  const g = new Float64Array(x.rows * x.rows);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.rows; j++) {
      let s = 0;
      for (let t = 0; t < x.cols; t++) s += x.data[i * x.cols + t]! * x.data[j * x.cols + t]!;
      g[i * x.rows + j] = s;
    }
  }
  return g;
}

/** Cyclic Jacobi eigenvalues (slow, simple, very accurate), descending. */
function jacobiEigenvalues(a0: Float64Array, n: number): number[] {
  const a = Float64Array.from(a0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        total += a[i * n + j]! ** 2;
        if (i !== j) off += a[i * n + j]! ** 2;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]!).sort((p, q) => q - p);
}

function naiveCentredScatterSpectrum(x: Matrix): number[] {
  const { rows: n, cols: d } = x;
  const xc = new Float64Array(n * d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x.data[i * d + j]!;
    m /= n;
    for (let i = 0; i < n; i++) xc[i * d + j] = x.data[i * d + j]! - m;
  }
  const c = new Float64Array(d * d);
  for (let p = 0; p < d; p++) {
    for (let q = 0; q < d; q++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += xc[i * d + p]! * xc[i * d + q]!;
      c[p * d + q] = s;
    }
  }
  return jacobiEigenvalues(c, d).map((v) => Math.max(v, 0)).slice(0, Math.min(n, d));
}

/** Full sort of every row's cosines (self excluded), descending, ties by lower index. */
function naiveKnn(x: Matrix, k: number): number[] {
  const { rows: n, cols: d } = x;
  const unit = (i: number) => {
    const r = Array.from(x.data.subarray(i * d, (i + 1) * d));
    const norm = Math.max(Math.hypot(...r), 1e-12);
    return r.map((v) => v / norm);
  };
  const rows = Array.from({ length: n }, (_, i) => unit(i));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const cand = rows.map((r, j) => ({ j, s: r.reduce((acc, v, t) => acc + v * rows[i]![t]!, 0) }))
      .filter((c) => c.j !== i)
      .sort((p, q) => q.s - p.s || p.j - q.j);
    out.push(...cand.slice(0, k).map((c) => c.j));
  }
  return out;
}

function naivePearson(a: number[], b: number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length, mb = b.reduce((s, v) => s + v, 0) / b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function upperTriangle(g: Float64Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push(g[i * n + j]!);
  return out;
}

/** numpy.histogram bin by linear search over the linspace edges ([a, b), last bin closed). */
function naiveBin(v: number, float32: boolean): number {
  const edges = Array.from({ length: 31 }, (_, i) => i === 30 ? 1 : i * (2 / 30) - 1)
    .map((e) => float32 ? Math.fround(e) : e);
  const c = Math.min(Math.max(v, -1), 1);
  for (let i = 0; i < 29; i++) if (c >= edges[i]! && c < edges[i + 1]!) return i;
  return 29;
}

// ------------------------------------------------------------------------------------- tests
Deno.test("gram() equals the naive X·Xᵀ for odd and even row counts", () => {
  const rng = new SeededRandom(1);
  for (const [n, d] of [[1, 3], [2, 5], [5, 4], [8, 7], [13, 16]] as const) {
    const x = randomMatrix(rng, n, d);
    const fast = gram(x), ref = naiveGram(x);
    assert.equal(fast.size, n);
    for (let i = 0; i < n * n; i++) close(fast.data[i]!, ref[i]!, 1e-12, `gram ${n}×${d} [${i}]`);
  }
});

Deno.test("symmetricEigenvalues() agrees with cyclic Jacobi on random, degenerate and tiny matrices", () => {
  const rng = new SeededRandom(2);
  const cases: { a: Float64Array; n: number }[] = [];
  for (const n of [1, 2, 3, 4, 5, 9, 31]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    }
    cases.push({ a, n });
  }
  // diagonal (no reflections needed), repeated eigenvalues, rank-deficient Gram
  cases.push({ a: Float64Array.from([3, 0, 0, 0, 3, 0, 0, 0, -1]), n: 3 });
  const id = new Float64Array(36);
  for (let i = 0; i < 6; i++) id[i * 6 + i] = 2;
  cases.push({ a: id, n: 6 });
  cases.push({ a: naiveGram(randomMatrix(rng, 12, 3)), n: 12 });
  for (const { a, n } of cases) {
    const fast = symmetricEigenvalues({ data: a, size: n });
    const ref = jacobiEigenvalues(a, n);
    const scale = Math.max(...ref.map(Math.abs), 1);
    ref.forEach((v, i) => close(fast[i]!, v, 1e-12 * scale, `eigenvalue ${i} of ${n}×${n}`));
  }
});

Deno.test("centredSquaredSingularValues() matches numpy's SVD of the centred data (1e-6 relative)", () => {
  for (const l of golden.languages) {
    const s2 = centredSquaredSingularValues(byLang[l]!);
    const ref = golden.per_language[l]!.squared_singular_values;
    assert.equal(s2.length, ref.length);
    ref.forEach((v, i) => close(s2[i]!, v, 1e-6, `${l} s²[${i}]`));
    // the double-centred Gram route: same values, then zeros
    const viaGram = centredSquaredSingularValuesFromGram(gram(byLang[l]!));
    assert.equal(viaGram.length, golden.n);
    ref.forEach((v, i) => close(viaGram[i]!, v, 1e-6, `${l} s²[${i}] via Gram`));
    for (let i = ref.length; i < golden.n; i++) assert.ok(viaGram[i]! < 1e-12 * ref[0]!);
  }
});

Deno.test("centredSquaredSingularValues() uses the row Gram when rows < cols and matches Jacobi", () => {
  const rng = new SeededRandom(3);
  const x = randomMatrix(rng, 7, 11);
  const fast = centredSquaredSingularValues(x);
  const ref = naiveCentredScatterSpectrum(x); // 11 eigenvalues of the 11×11 scatter; keep 7
  assert.equal(fast.length, 7);
  ref.forEach((v, i) => close(fast[i]!, v, 1e-10 * ref[0]!, `s²[${i}]`));
  assert.ok(fast[6]! < 1e-10 * ref[0]!); // centring removes one dimension
});

Deno.test("centredSquaredSingularValues() is accurate at paper scale (554×512): traces and both routes agree", () => {
  const rng = new SeededRandom(4);
  const n = 554, d = 512;
  const data = new Float32Array(n * d);
  const common = Array.from({ length: d }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const v = 1.2 * common[j]! + rng.normal() / Math.sqrt(1 + j / 4);
      data[i * d + j] = v;
      ss += v * v;
    }
    for (let j = 0; j < d; j++) data[i * d + j] = data[i * d + j]! / Math.sqrt(ss);
  }
  const x = matrix(data, n, d);
  const viaScatter = centredSquaredSingularValues(x);
  const viaGram = centredSquaredSingularValuesFromGram(gram(x));
  let fro = 0, colMeanSq = 0;
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * d + j]!;
    m /= n;
    for (let i = 0; i < n; i++) fro += (data[i * d + j]! - m) ** 2;
    colMeanSq += m * m;
  }
  assert.ok(colMeanSq > 0);
  const sum = viaScatter.reduce((s, v) => s + v, 0);
  close(sum, fro, 1e-12, "Σs² = ‖Xc‖²_F");
  for (let i = 0; i < d; i++) {
    assert.ok(Math.abs(viaGram[i]! - viaScatter[i]!) <= 1e-6 * viaScatter[i]!, `s²[${i}] relative`);
  }
});

Deno.test("effectiveRank() and pca90() match numpy per language", () => {
  for (const l of golden.languages) {
    const g = golden.per_language[l]!;
    close(effectiveRank(byLang[l]!), g.effective_rank, TOL, `${l} effective rank`);
    assert.equal(pca90(byLang[l]!), g.pca90, `${l} PCA-90`);
  }
  // uniform spectrum: rank = count; PCA share exactly at a boundary counts (≥)
  close(effectiveRankFromSpectrum(new Float64Array([2, 2, 2])), 3, 1e-9);
  assert.equal(componentsForVarianceShare(new Float64Array([9, 1]), 0.9), 1);
  assert.equal(componentsForVarianceShare(new Float64Array([8, 1, 1]), 0.9), 2);
});

Deno.test("meanCosine() matches numpy and the naive pair loop", () => {
  for (const l of golden.languages) {
    const x = byLang[l]!;
    close(meanCosine(x), golden.per_language[l]!.mean_cosine, TOL, `${l} mean cosine`);
    const g = naiveGram(x);
    let s = 0, c = 0;
    for (let i = 0; i < x.rows; i++) {
      for (let j = i + 1; j < x.rows; j++) {
        s += g[i * x.rows + j]! / Math.sqrt(g[i * x.rows + i]! * g[j * x.rows + j]!);
        c++;
      }
    }
    close(meanCosine(x), s / c, 1e-12, `${l} mean cosine vs naive`);
  }
});

Deno.test("shareNearZero() (PoZ) matches numpy", () => {
  for (const l of golden.languages) {
    assert.equal(shareNearZero(byLang[l]!), golden.per_language[l]!.poz, `${l} PoZ`);
  }
});

Deno.test("dimensionEntropy() matches numpy.histogram on embeddings", () => {
  for (const l of golden.languages) {
    close(dimensionEntropy(byLang[l]!), golden.per_language[l]!.entropy, TOL, `${l} entropy`);
  }
});

Deno.test("numpyHistogramBin() and dimensionEntropy() reproduce numpy at bin edges in float32 and float64", () => {
  const h = golden.histogram;
  const cases = [
    {
      values: h.f32_values,
      rows: h.f32_rows,
      f32: true,
      counts: h.f32_counts,
      entropy: h.f32_entropy,
    },
    {
      values: h.f32_values,
      rows: h.f32_rows,
      f32: false,
      counts: h.f32_as_f64_counts,
      entropy: h.f32_as_f64_entropy,
    },
    {
      values: h.f64_values,
      rows: h.f64_rows,
      f32: false,
      counts: h.f64_counts,
      entropy: h.f64_entropy,
    },
  ];
  for (const c of cases) {
    const data = c.f32 ? Float32Array.from(c.values) : Float64Array.from(c.values);
    if (c.f32) c.values.forEach((v, i) => assert.equal(data[i], v)); // exact float32 values
    const x = matrix(data, c.rows, h.cols);
    close(dimensionEntropy(x), c.entropy, 1e-12, `entropy (float32=${c.f32})`);
    for (let col = 0; col < h.cols; col++) {
      const counts = new Array(30).fill(0);
      for (let r = 0; r < c.rows; r++) {
        const v = Math.min(Math.max(data[r * h.cols + col]!, -1), 1);
        const b = numpyHistogramBin(v, 30, c.f32);
        assert.equal(b, naiveBin(v, c.f32), `bin of ${v} (float32=${c.f32})`);
        counts[b]++;
      }
      assert.deepEqual(counts, c.counts[col], `column ${col} counts (float32=${c.f32})`);
    }
  }
});

Deno.test("cosineKnn() matches numpy's stable argsort and a naive full sort, ties to the lower index", () => {
  for (const l of golden.languages) {
    const nn = cosineKnn(byLang[l]!, golden.k);
    assert.deepEqual(Array.from(nn.indices), golden.per_language[l]!.knn, `${l} kNN`);
    assert.deepEqual(Array.from(nn.indices), naiveKnn(byLang[l]!, golden.k), `${l} kNN vs naive`);
  }
  // rows 5 and 17 of "en" are identical: each is the other's first neighbour, and every other
  // row that lists them lists 5 before 17
  const [a, b] = golden.duplicate_rows.en;
  const nn = cosineKnn(byLang.en!, golden.k);
  assert.equal(nn.indices[a * golden.k], b);
  assert.equal(nn.indices[b * golden.k], a);
  let both = 0;
  for (let i = 0; i < golden.n; i++) {
    const row = Array.from(nn.indices.subarray(i * golden.k, (i + 1) * golden.k));
    if (row.includes(a) && row.includes(b)) {
      both++;
      assert.equal(row.indexOf(b), row.indexOf(a) + 1);
    }
  }
  assert.ok(both > 0);
  // an exact tie between two different rows at equal angle
  const t = cosineKnnFromGram(gram(matrix(Float64Array.from([1, 0, 0, 1, 0, -1]), 3, 2)), 1);
  assert.deepEqual(Array.from(t.indices), [1, 0, 0]); // row 0: tie between 1 and 2 → 1
  assert.throws(() => cosineKnn(byLang.en!, golden.n), KitError);
});

Deno.test("hubness() matches numpy/scipy in-degrees, skewness and top-1% ratio", () => {
  for (const l of golden.languages) {
    const nn = cosineKnn(byLang[l]!, golden.k);
    assert.deepEqual(Array.from(inDegrees(nn)), golden.per_language[l]!.in_degrees);
    const h = hubness(nn);
    close(h.skewness, golden.per_language[l]!.hub_skewness, TOL, `${l} skew`);
    close(h.hubRatio, golden.per_language[l]!.hub_ratio, TOL, `${l} hub ratio`);
  }
  assert.ok(Number.isNaN(populationSkewness([3, 3, 3])));
  close(populationSkewness([1, 2, 10]), 0.6745554845457661, 1e-12); // scipy.stats.skew
});

Deno.test("roundHalfEven() gives Python's max(1, round(0.01·n)) for the hub-ratio top count", () => {
  for (const [n, top] of Object.entries(golden.hub_top_counts)) {
    assert.equal(Math.max(1, roundHalfEven(0.01 * Number(n))), top, `n = ${n}`);
  }
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [
    0,
    2,
    2,
    4,
    -2,
    2,
    3,
  ]);
});

Deno.test("gramCorrelation() and neighbourOverlap() match numpy per pair and the naive Pearson", () => {
  for (const p of golden.pairs) {
    const ga = gram(byLang[p.a]!), gb = gram(byLang[p.b]!);
    close(gramCorrelation(ga, gb), p.gram_correlation, TOL, `${p.a}-${p.b} RSA`);
    const naive = naivePearson(upperTriangle(ga.data, golden.n), upperTriangle(gb.data, golden.n));
    close(gramCorrelation(ga, gb), naive, 1e-12, `${p.a}-${p.b} RSA vs naive`);
    const ov = neighbourOverlap(
      cosineKnn(byLang[p.a]!, golden.k),
      cosineKnn(byLang[p.b]!, golden.k),
    );
    close(ov, p.neighbour_overlap, TOL, `${p.a}-${p.b} overlap`);
  }
  const nn = cosineKnn(byLang.en!, 3);
  assert.equal(neighbourOverlap(nn, nn), 1);
});

Deno.test("stratifiedSplit() reproduces the documented algorithm (Python port) and keeps class shares", () => {
  for (const p of [golden.probe, golden.probe_first_rows]) {
    const parts = golden.languages.map((l) => byLang[l]!);
    const { labels } = stackLanguages(parts, p.max_rows);
    const s = stratifiedSplit(labels, 0.3, p.seed);
    assert.deepEqual(Array.from(s.train), p.train);
    assert.deepEqual(Array.from(s.test), p.test);
  }
  const labels = [...new Array(10).fill(0), ...new Array(7).fill(1), ...new Array(3).fill(2)];
  const s = stratifiedSplit(labels, 0.3, 1);
  assert.equal(s.test.length, 6); // ceil(0.3·20)
  const perClass = [0, 1, 2].map((c) => Array.from(s.test).filter((i) => labels[i] === c).length);
  assert.deepEqual(perClass, [3, 2, 1]); // quotas 3, 2.1, 0.9 → 3, 2, 0 + 1 for the largest remainder
  assert.deepEqual([...s.train, ...s.test].sort((a, b) => a - b), labels.map((_, i) => i));
  assert.notDeepEqual(Array.from(stratifiedSplit(labels, 0.3, 2).test), Array.from(s.test));
});

Deno.test("fitMultinomialLogistic() reaches sklearn's optimum on the same split: exact accuracy, close coefficients", () => {
  const parts = golden.languages.map((l) => byLang[l]!);
  for (const p of [golden.probe, golden.probe_first_rows]) {
    const all = stackLanguages(parts, p.max_rows);
    const train = selectRows(all, p.train), test = selectRows(all, p.test);
    const model = fitMultinomialLogistic(train.x, train.labels, { C: p.C, classes: 3 });
    assert.ok(model.converged, `gradient ${model.gradientInfNorm}`);
    const pred = predictMultinomialLogistic(model, test.x);
    const acc = pred.reduce((s, v, i) => s + (v === test.labels[i] ? 1 : 0), 0) / pred.length;
    assert.equal(acc, p.accuracy);
    close(model.objective, p.objective, 1e-10, "objective");
    p.coef.forEach((v, i) => close(model.coef[i]!, v, 1e-4, `coef[${i}]`));
    const meanB = model.intercept.reduce((s, v) => s + v, 0) / 3;
    p.intercept.forEach((v, i) => close(model.intercept[i]! - meanB, v, 1e-4, `intercept[${i}]`));
  }
  assert.throws(() => fitMultinomialLogistic(byLang.en!, [0, 1]), KitError);
});

Deno.test("langIdProbe() gives the golden accuracy end to end (first rows, split, fit, predict)", () => {
  const parts = golden.languages.map((l) => byLang[l]!);
  for (const p of [golden.probe, golden.probe_first_rows]) {
    const r = langIdProbe(parts, { seed: p.seed, maxRowsPerLanguage: p.max_rows });
    assert.equal(r.accuracy, p.accuracy);
    assert.equal(r.testRows, p.test.length);
    assert.equal(r.trainRows, p.train.length);
    assert.ok(r.converged);
  }
});

Deno.test("langIdProbe() reports per test row (language, row, right or wrong) whose share of ones is its accuracy exactly", () => {
  const parts = golden.languages.map((l) => byLang[l]!);
  for (const p of [golden.probe, golden.probe_first_rows]) {
    const r = langIdProbe(parts, { seed: p.seed, maxRowsPerLanguage: p.max_rows });
    const { language, row, correct } = r.test;
    assert.equal(correct.length, r.testRows);
    assert.equal(language.length, r.testRows);
    assert.equal(row.length, r.testRows);
    // The same rows as the golden split: stacked index = language offset + row.
    const take = parts.map((m) => Math.min(m.rows, p.max_rows));
    const offset = take.map((_, i) => take.slice(0, i).reduce((s, v) => s + v, 0));
    const stacked = Array.from(language, (l, i) => offset[l]! + row[i]!);
    assert.deepEqual(stacked, p.test);
    for (let i = 0; i < row.length; i++) assert.ok(row[i]! >= 0 && row[i]! < take[language[i]!]!);
    // Exactly the reported accuracy, and the golden one.
    const hits = correct.reduce((s, v) => s + v, 0);
    assert.equal(hits / correct.length, r.accuracy);
    assert.equal(hits / correct.length, p.accuracy);
    // Each row's verdict is that of the same model refitted and applied naively, row by row.
    const all = stackLanguages(parts, p.max_rows);
    const train = selectRows(all, p.train);
    const model = fitMultinomialLogistic(train.x, train.labels, { C: p.C, classes: parts.length });
    for (let i = 0; i < stacked.length; i++) {
      const m = parts[language[i]!]!;
      const x = matrix(m.data.slice(row[i]! * m.cols, (row[i]! + 1) * m.cols), 1, m.cols);
      const pred = predictMultinomialLogistic(model, x)[0];
      assert.equal(correct[i], pred === language[i] ? 1 : 0, `test row ${i}`);
    }
    assert.ok(hits > 0 && hits < correct.length, "the fixture has right and wrong rows");
  }
});

Deno.test("diagnoseLanguages() passes the probe's per-row outcomes through, one language order for labels and rows", () => {
  const order = ["ja", "en", "de"];
  const r = diagnoseLanguages(byLang, { seed: 3, k: 3, languages: order });
  const direct = langIdProbe(order.map((l) => byLang[l]!), { seed: 3 });
  assert.deepEqual(r.probe!.test, direct.test);
  assert.equal(r.macro.langIdAccuracy, direct.accuracy);
});

Deno.test("minimizeLbfgs() converges on an ill-conditioned quadratic and on Rosenbrock", () => {
  const q = minimizeLbfgs(
    (x, g) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        const c = 10 ** (i / 2);
        f += 0.5 * c * (x[i]! - 1) ** 2;
        g[i] = c * (x[i]! - 1);
      }
      return f;
    },
    new Float64Array(9),
    { gradientTolerance: 1e-10 },
  );
  assert.ok(q.converged);
  q.x.forEach((v) => close(v, 1, 1e-9));
  const r = minimizeLbfgs(
    (x, g) => {
      const [a, b] = [x[0]!, x[1]!];
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    },
    Float64Array.from([-1.2, 1]),
    { gradientTolerance: 1e-9 },
  );
  assert.ok(r.converged);
  close(r.x[0]!, 1, 1e-7);
  close(r.x[1]!, 1, 1e-7);
});

Deno.test("diagnoseLanguages() macro-averages every Table 6 value like the numpy reference", () => {
  const r = diagnoseLanguages(byLang, { seed: golden.probe.seed, k: golden.k });
  assert.deepEqual(r.languages, golden.languages);
  assert.equal(r.pairs.length, 3);
  const m = golden.macro;
  close(r.macro.effectiveRank, m.effective_rank!, TOL, "effective rank");
  close(r.macro.pca90, m.pca90!, 1e-12, "PCA-90");
  close(r.macro.meanCosine, m.mean_cosine!, TOL, "mean cosine");
  close(r.macro.poz, m.poz!, 1e-12, "PoZ");
  close(r.macro.entropy, m.entropy!, TOL, "entropy");
  close(r.macro.gramCorrelation, m.gram_correlation!, TOL, "Gram corr");
  close(r.macro.neighbourOverlap, m.neighbour_overlap!, TOL, "overlap");
  close(r.macro.hubSkewness, m.hub_skewness!, TOL, "hub skew");
  close(r.macro.hubRatio, m.hub_ratio!, TOL, "hub ratio");
  assert.equal(r.macro.langIdAccuracy, m.lang_id_accuracy);
  for (const l of golden.languages) {
    close(r.perLanguage[l]!.effectiveRank, golden.per_language[l]!.effective_rank, TOL, l);
    assert.equal(r.perLanguage[l]!.pca90, golden.per_language[l]!.pca90);
  }
  r.pairs.forEach((p, i) => {
    assert.equal(`${p.a}-${p.b}`, `${golden.pairs[i]!.a}-${golden.pairs[i]!.b}`);
    close(p.gramCorrelation, golden.pairs[i]!.gram_correlation, TOL, "pair RSA");
  });
  assert.deepEqual(TABLE6_ROWS.map((row) => row.key).sort(), Object.keys(r.macro).sort());
  const noProbe = diagnoseLanguages(byLang, { seed: 1, probe: false, languages: ["ja", "en"] });
  assert.equal(noProbe.probe, null);
  assert.ok(Number.isNaN(noProbe.macro.langIdAccuracy));
  assert.deepEqual(noProbe.pairs.map((p) => `${p.a}-${p.b}`), ["ja-en"]);
});

Deno.test("diagnoseLanguages() rejects misaligned, non-finite or missing inputs with KitError", () => {
  const short = matrix(byLang.de!.data.slice(0, 10 * golden.d), 10, golden.d);
  assert.throws(() => diagnoseLanguages({ en: byLang.en!, de: short }, { seed: 1 }), KitError);
  const bad = Float64Array.from(byLang.de!.data);
  bad[7] = NaN;
  assert.throws(
    () => diagnoseLanguages({ en: byLang.en!, de: matrix(bad, golden.n, golden.d) }, { seed: 1 }),
    (e: unknown) => e instanceof KitError && /"de"/.test(e.message) && /NaN/.test(e.message),
  );
  assert.throws(() => diagnoseLanguages(byLang, { seed: 1, languages: ["en", "xx"] }), KitError);
  assert.throws(() => matrix(new Float64Array(5), 2, 3), KitError);
});
