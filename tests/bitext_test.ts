import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/select_backend.ts";
import {
  bitextFromSimilarity,
  bitextRetrieval,
  cosineSimilarityMatrix,
  type RowMatrix,
  rowMatrix,
  topKRows,
  xsimFromCosines,
  xsimRadii,
} from "../lib/retrieval/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

interface GoldenBitext {
  n: number;
  d: number;
  k: number;
  a: number[];
  b: number[];
  cosine: { aToB: number; bToA: number; mean: number };
  margin: { aToB: number; bToA: number; mean: number };
}
const golden: { bitext: GoldenBitext } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/retrieval_golden.json", import.meta.url)),
);

function randomMatrix(rng: SeededRandom, rows: number, cols: number): RowMatrix {
  return rowMatrix(Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols);
}

/** Indices of one row sorted by (score desc, index asc) with Array.prototype.sort. */
function stableOrder(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => (scores[b]! - scores[a]!) || (a - b));
}

function column(S: Float32Array, n: number, j: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => S[i * n + j]!);
}

/**
 * The naive oracle: full stable sorts for argmax and kNN; the margin over the source's k
 * nearest neighbours exactly as LASER's xsim.py scores them.
 */
function naiveBitext(S: Float32Array, n: number, k: number) {
  const rows = Array.from({ length: n }, (_, i) => S.subarray(i * n, (i + 1) * n));
  const cols = Array.from({ length: n }, (_, j) => column(S, n, j));
  const nnRows = rows.map((r) => stableOrder(r).slice(0, k));
  const nnCols = cols.map((c) => stableOrder(c).slice(0, k));
  const avgRows = rows.map((r, i) => nnRows[i]!.reduce((s, j) => s + r[j]!, 0) / k);
  const avgCols = cols.map((c, j) => nnCols[j]!.reduce((s, i) => s + c[i]!, 0) / k);
  const cosAB = rows.filter((r, i) => stableOrder(r)[0] === i).length / n;
  const cosBA = cols.filter((c, j) => stableOrder(c)[0] === j).length / n;
  const pick = (cands: number[], score: (j: number) => number) => {
    let best = cands[0]!, bs = score(best);
    for (const j of cands.slice(1)) if (score(j) > bs) [best, bs] = [j, score(j)];
    return best;
  };
  let mAB = 0, mBA = 0;
  for (let i = 0; i < n; i++) {
    if (pick(nnRows[i]!, (j) => rows[i]![j]! / ((avgRows[i]! + avgCols[j]!) / 2)) === i) mAB++;
    if (pick(nnCols[i]!, (j) => cols[i]![j]! / ((avgCols[i]! + avgRows[j]!) / 2)) === i) mBA++;
  }
  return { cosine: [cosAB, cosBA], margin: [mAB / n, mBA / n] };
}

Deno.test("bitextRetrieval() matches numpy golden accuracies (cosine and LASER margin, k=4)", async () => {
  await initBackend("wasm");
  const g = golden.bitext;
  const a = rowMatrix(Float32Array.from(g.a), g.n, g.d),
    b = rowMatrix(Float32Array.from(g.b), g.n, g.d);
  for (const engine of ["js", "tf"] as const) {
    const r = await bitextRetrieval(a, b, { engine });
    assert.equal(r.n, g.n);
    assert.equal(r.k, 4);
    for (const kind of ["cosine", "margin"] as const) {
      for (const key of ["aToB", "bToA", "mean"] as const) {
        assert.ok(
          Math.abs(r[kind][key] - g[kind][key]) < 1e-5,
          `${engine} ${kind} ${key}: ${r[kind][key]} vs ${g[kind][key]}`,
        );
      }
    }
  }
  // The golden case is not trivial: some sentences are missed and the margin changes results.
  assert.ok(g.cosine.aToB < 1 && g.cosine.aToB !== g.margin.aToB);
});

Deno.test("bitextFromSimilarity() equals a naive full-sort oracle, with many ties", async () => {
  const rng = new SeededRandom(31);
  for (const [n, d, levels] of [[12, 3, 3], [20, 4, 2], [25, 6, 0], [5, 2, 2]] as const) {
    // levels > 0: small-integer entries, so that many cosines are exactly equal.
    const gen = () => levels > 0 ? rng.int(levels + 1) - 1 : rng.normal();
    const a = rowMatrix(Float32Array.from({ length: n * d }, gen), n, d);
    const b = rowMatrix(Float32Array.from({ length: n * d }, gen), n, d);
    const S = await cosineSimilarityMatrix(a, b, { engine: "js" });
    const aa = await cosineSimilarityMatrix(a, a, { engine: "js" });
    const bb = await cosineSimilarityMatrix(b, b, { engine: "js" });
    for (const k of [1, 2, 4, n - 1]) {
      const fast = bitextFromSimilarity(S, n, k, { aa, bb });
      const naive = naiveBitext(S, n, k);
      const what = `n=${n} levels=${levels} k=${k}`;
      assert.deepEqual([fast.cosine.aToB, fast.cosine.bToA], naive.cosine, what);
      assert.deepEqual([fast.margin.aToB, fast.margin.bToA], naive.margin, what);
      const nx = naiveXsim(S, aa, bb, n, k);
      assert.deepEqual([fast.xsim.aToB, fast.xsim.bToA], [nx.aToB, nx.bToA], what);
    }
  }
});

/**
 * Naive K xsim: for each sentence, sort the distances to the other sentences of its own
 * language with Array.prototype.sort and sum the first k; score every pair; argmax by a full
 * stable sort of the whole row / column.
 */
function naiveXsim(S: Float32Array, aa: Float32Array, bb: Float32Array, n: number, k: number) {
  const radius = (self: Float32Array, i: number) =>
    Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .map((j) => 1 - self[i * n + j]!)
      .sort((x, y) => x - y)
      .slice(0, k)
      .reduce((s, d) => s + d, 0) / (2 * k);
  const rA = Array.from({ length: n }, (_, i) => radius(aa, i));
  const rB = Array.from({ length: n }, (_, j) => radius(bb, j));
  const score = (i: number, j: number) => 1 - (1 - S[i * n + j]!) / (rA[i]! + rB[j]!);
  const scores = Float64Array.from({ length: n * n }, (_, t) => score(Math.floor(t / n), t % n));
  let ab = 0, ba = 0;
  for (let i = 0; i < n; i++) {
    if (stableOrder(Array.from({ length: n }, (_, j) => scores[i * n + j]!))[0] === i) ab++;
    if (stableOrder(Array.from({ length: n }, (_, r) => scores[r * n + i]!))[0] === i) ba++;
  }
  return { rA, rB, scores, aToB: ab / n, bToA: ba / n };
}

interface XsimGoldenCase {
  n: number;
  d: number;
  k: number;
  a: number[];
  b: number[];
  rA: number[];
  rB: number[];
  scores: number[];
  xsim: { aToB: number; bToA: number };
  cosine: { aToB: number; bToA: number };
}
const xsimGolden: { cases: XsimGoldenCase[] } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/k_xsim_golden.json", import.meta.url)),
);

Deno.test("xsimFromCosines() equals numpy goldens and the naive oracle within 1e-6 (K's xsim, k=4)", async () => {
  await initBackend("wasm");
  for (const g of xsimGolden.cases) {
    const a = rowMatrix(Float32Array.from(g.a), g.n, g.d),
      b = rowMatrix(Float32Array.from(g.b), g.n, g.d);
    for (const engine of ["js", "tf"] as const) {
      const S = await cosineSimilarityMatrix(a, b, { engine });
      const aa = await cosineSimilarityMatrix(a, a, { engine });
      const bb = await cosineSimilarityMatrix(b, b, { engine });
      const rA = xsimRadii(aa, g.n, g.k), rB = xsimRadii(bb, g.n, g.k);
      const x = xsimFromCosines(S, aa, bb, g.n, g.k);
      const naive = naiveXsim(S, aa, bb, g.n, g.k);
      let worst = 0;
      for (let i = 0; i < g.n; i++) {
        worst = Math.max(worst, Math.abs(rA[i]! - g.rA[i]!), Math.abs(rB[i]! - g.rB[i]!));
        assert.ok(Math.abs(rA[i]! - naive.rA[i]!) < 1e-12);
      }
      for (let t = 0; t < g.n * g.n; t++) {
        worst = Math.max(worst, Math.abs(x[t]! - g.scores[t]!));
        assert.ok(Math.abs(x[t]! - naive.scores[t]!) < 1e-12, `${engine} naive score ${t}`);
      }
      assert.ok(worst < 1e-6, `${engine}: worst deviation from numpy ${worst}`);
      const r = await bitextRetrieval(a, b, { engine });
      assert.deepEqual([r.xsim.aToB, r.xsim.bToA], [g.xsim.aToB, g.xsim.bToA], engine);
      assert.deepEqual([r.cosine.aToB, r.cosine.bToA], [g.cosine.aToB, g.cosine.bToA], engine);
    }
  }
  // Not trivial: xsim changes some decisions relative to cosine in at least one case.
  assert.ok(
    xsimGolden.cases.some((g) => g.xsim.aToB !== g.cosine.aToB || g.xsim.bToA !== g.cosine.bToA),
  );
  assert.ok(xsimGolden.cases.every((g) => g.xsim.aToB < 1));
});

Deno.test("xsimRadii() throws KitError when k leaves no room to exclude self", () => {
  const I = new Float32Array([1, 0, 0, 1]);
  assert.throws(() => xsimRadii(I, 2, 2), KitError);
  assert.throws(() => xsimRadii(I, 3, 1), KitError);
  assert.deepEqual(Array.from(xsimRadii(I, 2, 1)), [0.5, 0.5]);
});

Deno.test("topKRows() equals the first k of a full stable sort", () => {
  const rng = new SeededRandom(32);
  const nr = 15, nc = 11;
  const S = Float32Array.from({ length: nr * nc }, () => rng.int(4));
  for (const k of [1, 3, 11]) {
    const t = topKRows(S, nr, nc, k);
    for (let r = 0; r < nr; r++) {
      const order = stableOrder(S.subarray(r * nc, (r + 1) * nc)).slice(0, k);
      assert.deepEqual(Array.from(t.index.subarray(r * k, (r + 1) * k)), order);
      assert.deepEqual(
        Array.from(t.score.subarray(r * k, (r + 1) * k)),
        order.map((c) => S[r * nc + c]!),
      );
    }
  }
  assert.throws(() => topKRows(S, nr, nc, 12), KitError);
});

Deno.test("bitextRetrieval() gives accuracy 1.0 for identical embeddings in two languages", async () => {
  const rng = new SeededRandom(33);
  const a = randomMatrix(rng, 100, 64);
  const r = await bitextRetrieval(a, a);
  assert.deepEqual(r.cosine, { aToB: 1, bToA: 1, mean: 1 });
  assert.deepEqual(r.margin, { aToB: 1, bToA: 1, mean: 1 });
  assert.deepEqual(r.xsim, { aToB: 1, bToA: 1, mean: 1 });
  // A scaled copy is the same direction: cosine retrieval is still perfect.
  const scaled = rowMatrix(a.data.map((x) => 3 * x), a.rows, a.cols);
  assert.equal((await bitextRetrieval(a, scaled)).cosine.mean, 1);
});

Deno.test("bitextRetrieval() gives about 1/n for independent random embeddings", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(34);
  const n = 50, trials = 40;
  let cos = 0, margin = 0, xsim = 0;
  for (let t = 0; t < trials; t++) {
    const r = await bitextRetrieval(randomMatrix(rng, n, 32), randomMatrix(rng, n, 32));
    cos += r.cosine.mean;
    margin += r.margin.mean;
    xsim += r.xsim.mean;
  }
  assert.ok(Math.abs(xsim / trials - 1 / n) < 0.01, `xsim ${xsim / trials}`);
  // Expected 1/n = 0.02; the std of the mean over 40 trials × 2 directions is ≈ 0.0022.
  assert.ok(Math.abs(cos / trials - 1 / n) < 0.01, `cosine ${cos / trials}`);
  assert.ok(Math.abs(margin / trials - 1 / n) < 0.01, `margin ${margin / trials}`);
});

Deno.test("bitextRetrieval() throws KitError on non-parallel inputs or a bad k", async () => {
  const rng = new SeededRandom(35);
  await assert.rejects(bitextRetrieval(randomMatrix(rng, 5, 4), randomMatrix(rng, 6, 4)), KitError);
  await assert.rejects(bitextRetrieval(randomMatrix(rng, 5, 4), randomMatrix(rng, 5, 3)), KitError);
  await assert.rejects(bitextRetrieval(randomMatrix(rng, 3, 4), randomMatrix(rng, 3, 4)), KitError); // k=4 > n=3
  await assert.rejects(
    bitextRetrieval(randomMatrix(rng, 5, 4), randomMatrix(rng, 5, 4), { k: 0 }),
    KitError,
  );
});
