import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/select_backend.ts";
import { tf } from "../lib/backend/tf.ts";
import {
  argmaxColumns,
  argmaxRows,
  CertifiedSimilarity,
  cosineSimilarityMatrix,
  dotProductsJs,
  dotProductsMany,
  dotRow,
  evaluateFold,
  imageToTextRetrieval,
  l2NormalizeRows,
  macroAverage,
  type MatMulEngine,
  meanReciprocalRank,
  metricsFromRanks,
  pivotRetrieval,
  rankOfTruth,
  recallAtK,
  type RetrievalMetrics,
  type RowMatrix,
  rowMatrix,
  selectRows,
  summarizeFoldMetrics,
  summarizeFolds,
  textToImageRetrieval,
  transposeData,
} from "../lib/retrieval/mod.ts";
import { kFoldIndices } from "../lib/cv/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

// ---------------------------------------------------------------------------------------------
// Naive oracles: full matrices, full stable sorts with Array.prototype.sort.

/** Candidate indices of one row sorted by (score desc, index asc). */
function stableOrder(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => (scores[b]! - scores[a]!) || (a - b));
}

function naiveRanks(S: Float32Array, nq: number, nc: number, truth?: Int32Array): number[] {
  const out: number[] = [];
  for (let q = 0; q < nq; q++) {
    const order = stableOrder(S.subarray(q * nc, (q + 1) * nc));
    out.push(order.indexOf(truth === undefined ? q : truth[q]!));
  }
  return out;
}

function naiveCosine(a: RowMatrix, b: RowMatrix): Float64Array {
  const norm = (m: RowMatrix, r: number) => {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += m.data[r * m.cols + c]! ** 2;
    return Math.sqrt(s);
  };
  const out = new Float64Array(a.rows * b.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let c = 0; c < a.cols; c++) s += a.data[i * a.cols + c]! * b.data[j * b.cols + c]!;
      out[i * b.rows + j] = s / (norm(a, i) * norm(b, j));
    }
  }
  return out;
}

function naiveMetrics(ranks: number[]): RetrievalMetrics {
  const share = (k: number) => ranks.filter((r) => r < k).length / ranks.length;
  return {
    r1: share(1),
    r5: share(5),
    r10: share(10),
    mrr: ranks.reduce((s, r) => s + 1 / (r + 1), 0) / ranks.length,
  };
}

/** Pivot retrieval the slow way: explicit image·captionᵀ query products and full sorts. */
function naivePivot(
  text: Record<string, RowMatrix>,
  images: RowMatrix,
  langs: string[],
): { src: string; tgt: string; m: RetrievalMetrics }[] {
  const n = images.rows;
  const out: { src: string; tgt: string; m: RetrievalMetrics }[] = [];
  for (const src of langs) {
    const S = naiveCosine(text[src]!, images);
    const top1 = Array.from(
      { length: n },
      (_, i) => stableOrder(S.subarray(i * n, (i + 1) * n))[0]!,
    );
    for (const tgt of langs) {
      if (tgt === src) continue;
      const Q = naiveCosine(images, text[tgt]!); // image × tgt caption
      const ranks = top1.map((j, i) => stableOrder(Q.subarray(j * n, (j + 1) * n)).indexOf(i));
      out.push({ src, tgt, m: naiveMetrics(ranks) });
    }
  }
  return out;
}

function randomMatrix(rng: SeededRandom, rows: number, cols: number): RowMatrix {
  return rowMatrix(Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols);
}

/** Small integer entries: many exactly equal dot products. */
function quantizedMatrix(rng: SeededRandom, rows: number, cols: number): RowMatrix {
  return rowMatrix(Float32Array.from({ length: rows * cols }, () => rng.int(3) - 1), rows, cols);
}

function assertMetricsClose(
  actual: RetrievalMetrics,
  expected: RetrievalMetrics,
  what: string,
  tol = 1e-5,
) {
  for (const k of ["r1", "r5", "r10", "mrr"] as const) {
    assert.ok(
      Math.abs(actual[k] - expected[k]) <= tol,
      `${what} ${k}: ${actual[k]} vs expected ${expected[k]}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Golden values from numpy (tests/fixtures/make_retrieval_golden.py).

interface GoldenCase {
  n: number;
  d: number;
  images: number[];
  text: Record<string, number[]>;
  t2i: Record<string, RetrievalMetrics>;
  i2t: Record<string, RetrievalMetrics>;
  t2iMacro: RetrievalMetrics;
  i2tMacro: RetrievalMetrics;
  ranks: Record<string, { t2i: number[]; i2t: number[] }>;
  pivot: {
    pairs: (RetrievalMetrics & { src: string; tgt: string; ranks: number[] })[];
    macro: RetrievalMetrics;
  };
}
const golden: { langs: string[]; random: GoldenCase; ties: GoldenCase } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/retrieval_golden.json", import.meta.url)),
);

function goldenInputs(c: GoldenCase): { images: RowMatrix; text: Record<string, RowMatrix> } {
  return {
    images: rowMatrix(Float32Array.from(c.images), c.n, c.d, "golden images"),
    text: Object.fromEntries(
      golden.langs.map((
        l,
      ) => [l, rowMatrix(Float32Array.from(c.text[l]!), c.n, c.d, `golden ${l}`)]),
    ),
  };
}

async function checkGolden(c: GoldenCase, engine: MatMulEngine, what: string) {
  const { images, text } = goldenInputs(c);
  for (const l of golden.langs) {
    const S = await cosineSimilarityMatrix(text[l]!, images, { engine });
    assert.deepEqual(
      Array.from(rankOfTruth(S, c.n, c.n)),
      c.ranks[l]!.t2i,
      `${what} t2i ranks ${l}`,
    );
    assert.deepEqual(
      Array.from(rankOfTruth(transposeData(S, c.n, c.n), c.n, c.n)),
      c.ranks[l]!.i2t,
      `${what} i2t ranks ${l}`,
    );
    assertMetricsClose(
      await textToImageRetrieval(text[l]!, images, { engine }),
      c.t2i[l]!,
      `${what} t2i ${l}`,
    );
    assertMetricsClose(
      await imageToTextRetrieval(images, text[l]!, { engine }),
      c.i2t[l]!,
      `${what} i2t ${l}`,
    );
  }
  const fold = await evaluateFold(text, images, { langs: golden.langs, engine });
  assert.deepEqual(fold.langs, golden.langs);
  for (const l of golden.langs) {
    assertMetricsClose(fold.t2i[l]!, c.t2i[l]!, `${what} fold t2i ${l}`);
    assertMetricsClose(fold.i2t[l]!, c.i2t[l]!, `${what} fold i2t ${l}`);
  }
  assertMetricsClose(fold.t2iMacro, c.t2iMacro, `${what} t2i macro`);
  assertMetricsClose(fold.i2tMacro, c.i2tMacro, `${what} i2t macro`);
  const pivot = await pivotRetrieval(text, images, golden.langs, { engine });
  for (const p of [pivot, fold.pivot!]) {
    assert.deepEqual(
      p.pairs.map((x) => `${x.src}>${x.tgt}`),
      c.pivot.pairs.map((x) => `${x.src}>${x.tgt}`),
    );
    p.pairs.forEach((x, i) =>
      assertMetricsClose(x, c.pivot.pairs[i]!, `${what} pivot ${x.src}>${x.tgt}`)
    );
    assertMetricsClose(p.macro, c.pivot.macro, `${what} pivot macro`);
  }
}

// ---------------------------------------------------------------------------------------------

Deno.test("rankOfTruth() equals a full stable sort on random scores", () => {
  const rng = new SeededRandom(11);
  for (const [nq, nc] of [[1, 1], [7, 7], [13, 40], [40, 13]] as const) {
    const S = Float32Array.from({ length: nq * nc }, () => rng.normal());
    const truth = Int32Array.from({ length: nq }, () => rng.int(nc));
    assert.deepEqual(Array.from(rankOfTruth(S, nq, nc, truth)), naiveRanks(S, nq, nc, truth));
    if (nq <= nc) assert.deepEqual(Array.from(rankOfTruth(S, nq, nc)), naiveRanks(S, nq, nc));
  }
});

Deno.test("rankOfTruth() equals a full stable sort when many scores tie", () => {
  const rng = new SeededRandom(12);
  for (const levels of [1, 2, 3, 5]) {
    const nq = 30, nc = 30;
    const S = Float32Array.from({ length: nq * nc }, () => rng.int(levels) / 4);
    const truth = Int32Array.from({ length: nq }, () => rng.int(nc));
    assert.deepEqual(Array.from(rankOfTruth(S, nq, nc, truth)), naiveRanks(S, nq, nc, truth));
    assert.deepEqual(Array.from(rankOfTruth(S, nq, nc)), naiveRanks(S, nq, nc));
  }
  // All scores equal: rank = truth index (lower indices first).
  assert.deepEqual(Array.from(rankOfTruth(new Float32Array(9), 3, 3)), [0, 1, 2]);
});

Deno.test("rankOfTruth() throws KitError on a wrong shape or truth index", () => {
  assert.throws(() => rankOfTruth(new Float32Array(5), 2, 3), KitError);
  assert.throws(() => rankOfTruth(new Float32Array(6), 2, 3, Int32Array.from([0])), KitError);
  assert.throws(() => rankOfTruth(new Float32Array(6), 2, 3, Int32Array.from([0, 3])), KitError);
  assert.throws(() => rankOfTruth(new Float32Array(6), 3, 2), KitError); // truth 2 ≥ nc
});

Deno.test("recallAtK() and meanReciprocalRank() count 0-based ranks", () => {
  const ranks = Int32Array.from([0, 1, 4, 5, 9, 10, 100]);
  assert.equal(recallAtK(ranks, 1), 1 / 7);
  assert.equal(recallAtK(ranks, 5), 3 / 7);
  assert.equal(recallAtK(ranks, 10), 5 / 7);
  assert.ok(
    Math.abs(
      meanReciprocalRank(ranks) - (1 + 1 / 2 + 1 / 5 + 1 / 6 + 1 / 10 + 1 / 11 + 1 / 101) / 7,
    ) < 1e-15,
  );
  assert.deepEqual(metricsFromRanks(ranks), naiveMetrics(Array.from(ranks)));
  assert.throws(() => recallAtK([], 1), KitError);
  assert.throws(() => recallAtK([0], 0), KitError);
  assert.throws(() => meanReciprocalRank([]), KitError);
});

Deno.test("argmaxRows() and argmaxColumns() pick the lowest index on ties", () => {
  const S = Float32Array.from([1, 3, 3, 0, 2, 2, 3, 1, 0]); // 3×3
  assert.deepEqual(Array.from(argmaxRows(S, 3, 3)), [1, 1, 0]);
  assert.deepEqual(Array.from(argmaxColumns(S, 3, 3)), [2, 0, 0]);
  const rng = new SeededRandom(3);
  const R = Float32Array.from({ length: 20 * 17 }, () => rng.int(4));
  const rows = Array.from(
    { length: 20 },
    (_, r) => stableOrder(R.subarray(r * 17, (r + 1) * 17))[0],
  );
  assert.deepEqual(Array.from(argmaxRows(R, 20, 17)), rows);
  const Rt = transposeData(R, 20, 17);
  assert.deepEqual(Array.from(argmaxColumns(R, 20, 17)), Array.from(argmaxRows(Rt, 17, 20)));
});

Deno.test("dotProductsJs() and the TF.js engine equal naive dot products; no tensors leak", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(5);
  for (const [m, n, d] of [[1, 1, 1], [5, 7, 3], [33, 18, 65], [0, 4, 3], [3, 0, 2]] as const) {
    const a = randomMatrix(rng, m, d), b = randomMatrix(rng, n, d);
    const naive = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += a.data[i * d + k]! * b.data[j * d + k]!;
        naive[i * n + j] = s;
      }
    }
    const js = dotProductsJs(a, b);
    const before = tf.memory().numTensors;
    const [viaTf] = await dotProductsMany([a], b, { engine: "tf" });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(js.length, m * n);
    assert.equal(viaTf!.length, m * n);
    for (let i = 0; i < m * n; i++) {
      assert.equal(js[i], Math.fround(naive[i]!));
      assert.ok(Math.abs(viaTf![i]! - naive[i]!) < 1e-4);
    }
  }
  assert.throws(() => dotProductsJs(randomMatrix(rng, 2, 3), randomMatrix(rng, 2, 4)), KitError);
});

Deno.test("cosineSimilarityMatrix() equals naive cosines with both engines", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(6);
  const a = randomMatrix(rng, 17, 9), b = randomMatrix(rng, 23, 9);
  const naive = naiveCosine(a, b);
  for (const engine of ["js", "tf", "auto"] as const) {
    const S = await cosineSimilarityMatrix(a, b, { engine });
    for (let i = 0; i < S.length; i++) assert.ok(Math.abs(S[i]! - naive[i]!) < 1e-6, engine);
  }
});

Deno.test("textToImageRetrieval() / imageToTextRetrieval() / evaluateFold() / pivotRetrieval() match numpy golden values", async () => {
  await initBackend("wasm");
  for (const engine of ["js", "tf"] as const) {
    await checkGolden(golden.random, engine, `random/${engine}`);
  }
});

Deno.test("evaluateFold() exact-fast equals the js engine bit for bit on the numpy golden cases (random, exact ties)", async () => {
  await initBackend("wasm");
  for (const c of [golden.random, golden.ties]) {
    const { images, text } = goldenInputs(c);
    const reference = await evaluateFold(text, images, { engine: "js" });
    assert.deepEqual(await evaluateFold(text, images, { engine: "exact-fast" }), reference);
    assert.deepEqual(await evaluateFold(text, images), reference); // the default
  }
});

Deno.test("retrieval metrics match numpy golden values with exact ties (duplicated rows)", async () => {
  await initBackend("wasm");
  // The duplicated rows give bit-identical scores in plain JS loops, so stable tie-breaking
  // decides as numpy's argsort(kind="stable") does. TF.js's kernel also gives equal values
  // for equal rows here.
  for (const engine of ["js", "tf"] as const) {
    await checkGolden(golden.ties, engine, `ties/${engine}`);
  }
});

Deno.test("pivotRetrieval() equals a naive pivot (explicit image queries, full sorts) with ties", async () => {
  const rng = new SeededRandom(21);
  const n = 25, d = 6;
  const images = quantizedMatrix(rng, n, d);
  const text: Record<string, RowMatrix> = {};
  for (const l of ["a", "b", "c", "d"]) text[l] = quantizedMatrix(rng, n, d);
  // A zero-noise language: top-1 images are often tied duplicates.
  text["e"] = images;
  const langs = Object.keys(text);
  const fast = await pivotRetrieval(text, images, langs, { engine: "js" });
  const naive = naivePivot(text, images, langs);
  assert.equal(fast.pairs.length, langs.length * (langs.length - 1));
  fast.pairs.forEach((p, i) => {
    assert.equal(`${p.src}>${p.tgt}`, `${naive[i]!.src}>${naive[i]!.tgt}`);
    assertMetricsClose(p, naive[i]!.m, `${p.src}>${p.tgt}`, 1e-12);
  });
  assertMetricsClose(fast.macro, macroAverage(naive.map((x) => x.m)), "macro", 1e-12);
});

Deno.test("textToImageRetrieval() equals naive full-sort metrics on random data with ties", async () => {
  const rng = new SeededRandom(22);
  for (const make of [randomMatrix, quantizedMatrix]) {
    const n = 40, d = 5;
    const images = make(rng, n, d), text = make(rng, n, d);
    const S = naiveCosine(text, images);
    const St = naiveCosine(images, text);
    const f32 = Float32Array.from(S), f32t = Float32Array.from(St);
    assertMetricsClose(
      await textToImageRetrieval(text, images, { engine: "js" }),
      naiveMetrics(naiveRanks(f32, n, n)),
      `t2i ${make.name}`,
      1e-12,
    );
    assertMetricsClose(
      await imageToTextRetrieval(images, text, { engine: "js" }),
      naiveMetrics(naiveRanks(f32t, n, n)),
      `i2t ${make.name}`,
      1e-12,
    );
  }
});

Deno.test("evaluateFold() with rows equals evaluateFold() on the selected rows", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(23);
  const N = 60, d = 12;
  const images = randomMatrix(rng, N, d);
  const text = {
    en: randomMatrix(rng, N, d),
    fr: randomMatrix(rng, N, d),
    it: randomMatrix(rng, N, d),
  };
  const fold = kFoldIndices(N, 5, 7)[2]!;
  const viaRows = await evaluateFold(text, images, { rows: fold.test, langs: ["fr", "en"] });
  const sel = (m: RowMatrix) => selectRows(m, fold.test);
  const direct = await evaluateFold({ en: sel(text.en), fr: sel(text.fr) }, sel(images), {
    langs: ["fr", "en"],
  });
  assert.deepEqual(viaRows, direct);
  assert.equal(viaRows.n, 12);
  assert.deepEqual(viaRows.langs, ["fr", "en"]);
  assert.deepEqual(Object.keys(viaRows.t2i), ["fr", "en"]);
  assert.equal(viaRows.pivot!.pairs.length, 2);
  assert.deepEqual(viaRows.t2iMacro, macroAverage([viaRows.t2i.fr!, viaRows.t2i.en!]));
  const noPivot = await evaluateFold(text, images, { pivot: false });
  assert.equal(noPivot.pivot, null);
  assert.deepEqual(noPivot.langs, ["en", "fr", "it"]);
});

Deno.test("retrieval functions throw KitError on mismatched or non-finite inputs", async () => {
  const rng = new SeededRandom(24);
  const a = randomMatrix(rng, 5, 4);
  await assert.rejects(textToImageRetrieval(a, randomMatrix(rng, 6, 4)), KitError);
  await assert.rejects(imageToTextRetrieval(randomMatrix(rng, 5, 3), a), KitError);
  await assert.rejects(evaluateFold({ en: a }, a, { langs: ["en", "de"] }), KitError);
  await assert.rejects(pivotRetrieval({ en: a }, a), KitError);
  await assert.rejects(evaluateFold({ en: a }, a, { rows: [0, 5] }), KitError);
  assert.throws(() => rowMatrix(Float32Array.from([1, NaN]), 1, 2, "x.npy"), /x\.npy.*NaN/);
  assert.throws(() => rowMatrix(new Float32Array(3), 2, 2), KitError);
});

Deno.test("l2NormalizeRows() gives unit rows and leaves zero rows at zero", () => {
  const m = l2NormalizeRows(rowMatrix(Float32Array.from([3, 4, 0, 0, 1, 1]), 3, 2));
  assert.deepEqual(Array.from(m.data), [
    0.6000000238418579,
    0.800000011920929,
    0,
    0,
    Math.fround(Math.SQRT1_2),
    Math.fround(Math.SQRT1_2),
  ]);
});

Deno.test("summarizeFolds() gives mean and sample std (ddof 1)", () => {
  const s = summarizeFolds([0.31, 0.29, 0.35, 0.33, 0.30]);
  // numpy: np.mean → 0.316, np.std(ddof=1) → 0.024083189157584588
  assert.ok(Math.abs(s.mean - 0.316) < 1e-15);
  assert.ok(Math.abs(s.std - 0.024083189157584588) < 1e-15);
  assert.equal(s.n, 5);
  assert.ok(Number.isNaN(summarizeFolds([0.5]).std));
  assert.throws(() => summarizeFolds([]), KitError);
  assert.throws(() => summarizeFolds([1, NaN]), KitError);
  const m = summarizeFoldMetrics([
    { r1: 0.1, r5: 0.5, r10: 0.7, mrr: 0.2 },
    { r1: 0.3, r5: 0.5, r10: 0.9, mrr: 0.4 },
  ]);
  assert.ok(Math.abs(m.r1.mean - 0.2) < 1e-15 && Math.abs(m.r1.std - Math.SQRT2 * 0.1) < 1e-15);
  assert.equal(m.r5.std, 0);
  assert.equal(m.mrr.n, 2);
});

// ---------------------------------------------------------------------------------------------
// engine "exact-fast": float32 products from any kernel, decisions with the float64 bits.

/**
 * Image pairs that differ by `scale` per coordinate, captions = images + noise, plus exact
 * duplicates (rows 0 and 1 of every block of 6 equal): near ties everywhere, exact ties too.
 */
function nearTwinFixture(seed: number, n: number, d: number, scale: number) {
  const rng = new SeededRandom(seed);
  const img = new Float32Array(n * d);
  const text: Record<string, RowMatrix> = {};
  for (let p = 0; p < n; p += 2) {
    for (let c = 0; c < d; c++) {
      const v = rng.normal();
      img[p * d + c] = v;
      if (p + 1 < n) img[(p + 1) * d + c] = p % 6 === 0 ? v : v + scale * rng.normal();
    }
  }
  for (const l of ["en", "de", "fr"]) {
    text[l] = rowMatrix(img.map((v) => v + 0.3 * rng.normal()), n, d);
  }
  return { images: rowMatrix(img, n, d), text };
}

/**
 * A simulated float32 kernel: the reference value plus an error anywhere within `frac` of the
 * float32 dot-product bound γ_d·‖p‖‖q‖ (what a different summation order may do), rounded to
 * float32.
 */
function perturbedProducts(rng: SeededRandom, P: RowMatrix, Q: RowMatrix, frac: number) {
  const d = P.cols, u = 2 ** -24, g = (d * u) / (1 - d * u);
  const norm = (m: RowMatrix, r: number) => Math.sqrt(dotRow(m.data, r * d, m.data, r * d, d));
  const J = dotProductsJs(P, Q), out = new Float32Array(J.length);
  for (let r = 0; r < P.rows; r++) {
    for (let c = 0; c < Q.rows; c++) {
      const e = frac * g * norm(P, r) * norm(Q, c);
      out[r * Q.rows + c] = J[r * Q.rows + c]! + e * (2 * rng.next() - 1);
    }
  }
  return out;
}

Deno.test("CertifiedSimilarity ranks and argmaxes equal rankInRow/argmaxRows on dotProductsJs when the fast products err within the bound", () => {
  const rng = new SeededRandom(41);
  const { images, text } = nearTwinFixture(5, 90, 64, 1e-6);
  const P = l2NormalizeRows(text.en!), Q = l2NormalizeRows(images);
  const J = dotProductsJs(P, Q), Jt = transposeData(J, 90, 90);
  const n = 90;
  for (const frac of [0, 0.5, 0.999]) {
    const C = new CertifiedSimilarity(P, Q, perturbedProducts(rng, P, Q, frac));
    const Ct = C.transpose();
    const truth = Int32Array.from({ length: n }, () => rng.int(n));
    assert.deepEqual(
      Int32Array.from({ length: n }, (_, q) => C.rankInRow(q, truth[q]!)),
      rankOfTruth(J, n, n, truth),
    );
    assert.deepEqual(
      Int32Array.from({ length: n }, (_, q) => Ct.rankInRow(q, truth[q]!)),
      rankOfTruth(Jt, n, n, truth),
    );
    assert.deepEqual(Int32Array.from({ length: n }, (_, q) => C.argmaxRow(q)), argmaxRows(J, n, n));
    assert.deepEqual(
      Int32Array.from({ length: n }, (_, q) => Ct.argmaxRow(q)),
      argmaxRows(Jt, n, n),
    );
    for (let k = 0; k < 50; k++) {
      const r = rng.int(n), c = rng.int(n);
      assert.equal(C.exact(r, c), J[r * n + c]);
      assert.equal(Ct.exact(c, r), J[r * n + c]);
    }
  }
});

Deno.test("CertifiedSimilarity with a too-small tolerance gives ranks that differ from dotProductsJs (the bound matters)", () => {
  const rng = new SeededRandom(43);
  const { images, text } = nearTwinFixture(5, 90, 64, 1e-6);
  const P = l2NormalizeRows(text.en!), Q = l2NormalizeRows(images);
  const J = dotProductsJs(P, Q), n = 90;
  const fast = perturbedProducts(rng, P, Q, 0.999);
  const ranks = (C: CertifiedSimilarity) =>
    Int32Array.from({ length: n }, (_, q) => C.rankInRow(q, q));
  assert.deepEqual(ranks(new CertifiedSimilarity(P, Q, fast)), rankOfTruth(J, n, n));
  assert.notDeepEqual(ranks(new CertifiedSimilarity(P, Q, fast, 0.01)), rankOfTruth(J, n, n));
});

Deno.test("evaluateFold() exact-fast equals the js engine bit for bit on random data and near-twin data with exact ties", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(47);
  const random = {
    images: randomMatrix(rng, 70, 48),
    text: { en: randomMatrix(rng, 70, 48), de: randomMatrix(rng, 70, 48) },
  };
  for (const { images, text } of [random, nearTwinFixture(7, 120, 96, 1e-7)]) {
    const reference = await evaluateFold(text, images, { engine: "js" });
    const before = tf.memory().numTensors;
    assert.deepEqual(await evaluateFold(text, images), reference);
    assert.deepEqual(await evaluateFold(text, images, { rows: [5, 1, 2, 3, 0, 9, 8] }), {
      ...(await evaluateFold(text, images, { rows: [5, 1, 2, 3, 0, 9, 8], engine: "js" })),
    });
    assert.equal(tf.memory().numTensors, before);
  }
});

Deno.test("evaluateFold() on paper D's shape (9 languages × 554 × 512) is fast enough with both engines", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(25);
  const n = 554, d = 512;
  const images = randomMatrix(rng, n, d);
  const langs = ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"];
  const text = Object.fromEntries(langs.map((l) => [l, randomMatrix(rng, n, d)]));
  await evaluateFold(text, images, { pivot: false, engine: "tf" }); // warm-up
  // engine "tf" (TF.js WASM, kernel-dependent ranks), "js" (float64 reference, what D's tables
  // report) and the default "exact-fast" (js's bits at about tf's speed)
  const results: Record<string, unknown> = {};
  const times: Record<string, number> = {};
  for (
    const [engine, limitMs] of [["tf", 10_000], ["js", 30_000], ["exact-fast", 10_000]] as const
  ) {
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const r = await evaluateFold(text, images, engine === "exact-fast" ? {} : { engine });
    const ms = performance.now() - t0;
    assert.equal(tf.memory().numTensors, before);
    assert.equal(r.pivot!.pairs.length, 72);
    results[engine] = r;
    times[engine] = ms;
    console.log(
      `evaluateFold 9×554×512 (t2i, i2t, 72 pivot pairs), ${engine}: ${ms.toFixed(0)} ms`,
    );
    assert.ok(ms < limitMs, `${engine} took ${ms} ms`);
  }
  assert.deepEqual(results["exact-fast"], results.js);
  // Generous (the machine is shared): exact-fast must stay well below the float64 reference.
  assert.ok(times["exact-fast"]! < times.js! * 0.6, JSON.stringify(times));
});
