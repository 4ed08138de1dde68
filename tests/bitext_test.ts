import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/select_backend.ts";
import {
  bitextFromSimilarity,
  bitextRetrieval,
  cosineSimilarityMatrix,
  type RowMatrix,
  rowMatrix,
  topKRows,
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

Deno.test("bitextRetrieval() matches numpy golden accuracies (cosine and xsim margin, k=4)", async () => {
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
    for (const k of [1, 2, 4, n]) {
      const fast = bitextFromSimilarity(S, n, k);
      const naive = naiveBitext(S, n, k);
      const what = `n=${n} levels=${levels} k=${k}`;
      assert.deepEqual([fast.cosine.aToB, fast.cosine.bToA], naive.cosine, what);
      assert.deepEqual([fast.margin.aToB, fast.margin.bToA], naive.margin, what);
    }
  }
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
  // A scaled copy is the same direction: cosine retrieval is still perfect.
  const scaled = rowMatrix(a.data.map((x) => 3 * x), a.rows, a.cols);
  assert.equal((await bitextRetrieval(a, scaled)).cosine.mean, 1);
});

Deno.test("bitextRetrieval() gives about 1/n for independent random embeddings", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(34);
  const n = 50, trials = 40;
  let cos = 0, margin = 0;
  for (let t = 0; t < trials; t++) {
    const r = await bitextRetrieval(randomMatrix(rng, n, 32), randomMatrix(rng, n, 32));
    cos += r.cosine.mean;
    margin += r.margin.mean;
  }
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
