import { KitError } from "../util/kit_error.ts";
import { argmaxColumns, argmaxRows } from "./rank.ts";
import { type RowMatrix, transposeData } from "./row_matrix.ts";
import { cosineSimilarityMatrix, type SimilarityOptions } from "./similarity.ts";
import { xsimFromCosines } from "./k_xsim.ts";

/** Retrieval accuracy in both directions (fractions in [0, 1]) and their mean. */
export interface DirectionalAccuracy {
  aToB: number;
  bToA: number;
  mean: number;
}

/**
 * Bitext retrieval accuracy of n parallel sentences by cosine, by paper K's own `xsim`
 * (lib/retrieval/k_xsim.ts) and by LASER's ratio margin (`margin`, kept only under that name).
 */
export interface BitextAccuracy {
  n: number;
  /** Neighbourhood size of xsim and of the margin. */
  k: number;
  cosine: DirectionalAccuracy;
  /** Paper K's xsim (nkrasner/cl-clip-align@d75b729 `Alignment/text-image/flores-sts.py`): within-language k-neighbourhood radii, argmax over all n. */
  xsim: DirectionalAccuracy;
  /** LASER's ratio margin (Artetxe & Schwenk 2019) — not K's xsim. */
  margin: DirectionalAccuracy;
}

/** The within-language cosine matrices K's xsim needs: a × a and b × b, both n × n. */
export interface WithinLanguageCosines {
  aa: Float32Array;
  bb: Float32Array;
}

/** Options of {@link bitextRetrieval}. */
export interface BitextOptions extends SimilarityOptions {
  /** Neighbourhood size of K's xsim and of the LASER margin (default 4). */
  k?: number;
}

/** The k nearest candidates of each row: indices and scores, best first, `rows × k`. */
export interface TopK {
  index: Int32Array;
  score: Float64Array;
  k: number;
}

/**
 * The k largest entries of each row of a row-major `nr × nc` matrix, in descending order with
 * stable tie-breaking (equal scores: lower column index first).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { topKRows } from "./bitext_retrieval.ts";
 * const t = topKRows(new Float32Array([0.1, 0.9, 0.5, 0.9]), 1, 4, 3);
 * assert(t.index.join() === "1,3,2");
 * ```
 */
export function topKRows(S: Float32Array, nr: number, nc: number, k: number): TopK {
  if (S.length !== nr * nc) {
    throw new KitError(`topKRows: expected ${nr}×${nc} scores, got ${S.length}`);
  }
  if (!Number.isInteger(k) || k < 1 || k > nc) {
    throw new KitError(`topKRows: k must be an integer in [1, ${nc}], got ${k}`);
  }
  const index = new Int32Array(nr * k), score = new Float64Array(nr * k);
  for (let r = 0; r < nr; r++) {
    const o = r * nc, p = r * k;
    let filled = 0;
    for (let c = 0; c < nc; c++) {
      const v = S[o + c]!;
      if (filled === k && !(v > score[p + k - 1]!)) continue;
      // Insert after every entry ≥ v (stable: earlier columns stay ahead on ties).
      let pos = filled === k ? k - 1 : filled;
      while (pos > 0 && v > score[p + pos - 1]!) {
        score[p + pos] = score[p + pos - 1]!;
        index[p + pos] = index[p + pos - 1]!;
        pos--;
      }
      score[p + pos] = v;
      index[p + pos] = c;
      if (filled < k) filled++;
    }
  }
  return { index, score, k };
}

function meanOfRows(t: TopK, nr: number): Float64Array {
  const out = new Float64Array(nr);
  for (let r = 0; r < nr; r++) {
    let s = 0;
    for (let j = 0; j < t.k; j++) s += t.score[r * t.k + j]!;
    out[r] = s / t.k;
  }
  return out;
}

/**
 * Margin retrieval in one direction (LASER's ratio margin, its `xsim.py`): for source i, the candidates
 * are its k cosine-nearest targets; score = cos / ((avgSrc[i] + avgTgt[j]) / 2); the first
 * candidate (in nearest-first order) with the highest score is the prediction.
 */
function marginAccuracy(nn: TopK, avgSrc: Float64Array, avgTgt: Float64Array, n: number): number {
  const k = nn.k;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = -1, bestScore = -Infinity;
    for (let t = 0; t < k; t++) {
      const j = nn.index[i * k + t]!;
      const m = nn.score[i * k + t]! / ((avgSrc[i]! + avgTgt[j]!) / 2);
      if (best < 0 || m > bestScore) {
        best = j;
        bestScore = m;
      }
    }
    if (best === i) correct++;
  }
  return correct / n;
}

function directional(aToB: number, bToA: number): DirectionalAccuracy {
  return { aToB, bToA, mean: (aToB + bToA) / 2 };
}

/** Whether each row's / column's argmax (first index on ties, numpy's NaN rule) is its diagonal. */
export function diagonalHits(S: Float32Array | Float64Array, n: number): {
  rows: Uint8Array;
  cols: Uint8Array;
} {
  const rows = new Uint8Array(n), cols = new Uint8Array(n);
  const rowBest = argmaxRows(S, n, n), colBest = argmaxColumns(S, n, n);
  for (let i = 0; i < n; i++) {
    rows[i] = rowBest[i] === i ? 1 : 0;
    cols[i] = colBest[i] === i ? 1 : 0;
  }
  return { rows, cols };
}

function share(x: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/**
 * Bitext accuracies from a precomputed `n × n` cosine matrix `S` (`S[i, j]` = cos(a_i, b_j))
 * and the within-language cosines K's xsim needs; see {@link bitextRetrieval} for the
 * definitions.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitextFromSimilarity } from "./bitext_retrieval.ts";
 * const I = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
 * const r = bitextFromSimilarity(I, 3, 1, { aa: I, bb: I });
 * assert(r.cosine.mean === 1 && r.xsim.mean === 1 && r.margin.mean === 1);
 * ```
 */
export function bitextFromSimilarity(
  S: Float32Array,
  n: number,
  k: number,
  within: WithinLanguageCosines,
): BitextAccuracy {
  if (!Number.isInteger(n) || n < 1 || S.length !== n * n) {
    throw new KitError(
      `bitextFromSimilarity: expected an n×n matrix with n ≥ 1, got ${S.length} values for n=${n}`,
    );
  }
  if (!Number.isInteger(k) || k < 1 || k > n - 1) {
    throw new KitError(
      `bitextFromSimilarity: k must be an integer in [1, n−1=${
        n - 1
      }] (xsim excludes self), got ${k}`,
    );
  }
  const cos = diagonalHits(S, n);
  const xs = diagonalHits(xsimFromCosines(S, within.aa, within.bb, n, k), n);
  const St = transposeData(S, n, n);
  const nnA = topKRows(S, n, n, k); // for each a_i, its k nearest b
  const nnB = topKRows(St, n, n, k); // for each b_j, its k nearest a
  const avgA = meanOfRows(nnA, n), avgB = meanOfRows(nnB, n);
  return {
    n,
    k,
    cosine: directional(share(cos.rows), share(cos.cols)),
    xsim: directional(share(xs.rows), share(xs.cols)),
    margin: directional(marginAccuracy(nnA, avgA, avgB, n), marginAccuracy(nnB, avgB, avgA, n)),
  };
}

/**
 * Bitext retrieval accuracy (paper K, Table 1) of n parallel sentence embeddings `a` and `b`
 * (row i of `a` translates row i of `b`). S = cosine similarity matrix (rows L2-normalised,
 * then dot products), `S[i, j] = cos(a_i, b_j)`.
 *
 * - **cosine**: a→b = mean over i of [argmax_j S[i, j] = i]; b→a = mean over j of
 *   [argmax_i S[i, j] = j]; ties → the lowest index.
 * - **xsim** (paper K's own score, nkrasner/cl-clip-align@d75b729 `Alignment/text-image/flores-sts.py`, k = 4): D = 1 − cos; r_a(i) = (sum of the k
 *   smallest D(a_i, a_j), j ≠ i) / (2k), r_b(j) likewise within b;
 *   S'(i, j) = 1 − D(a_i, b_j) / (r_a(i) + r_b(j)); argmax over all n candidates, first index
 *   on ties, in both directions.
 * - **margin** (LASER's ratio margin of Artetxe & Schwenk 2019, k = 4 — not K's xsim):
 *   NN_k(x) = the k cosine-nearest sentences of x **in the other language** (descending,
 *   ties → lower index);
 *   margin(x, y) = cos(x, y) / ( Σ_{z∈NN_k(x)} cos(x, z)/(2k) + Σ_{z∈NN_k(y)} cos(y, z)/(2k) ).
 *   As in LASER's `xsim.py`, for a source x only its k nearest neighbours NN_k(x) are scored
 *   and the prediction is the one with the largest margin (first in nearest-first order on a
 *   tie); accuracy = share of sources whose prediction is their own translation. a→b uses the
 *   a sentences as sources, b→a the b sentences.
 *
 * `mean` is the average of the two directions.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { bitextRetrieval } from "./bitext_retrieval.ts";
 * const a = matrixFromRows([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]]);
 * const r = await bitextRetrieval(a, a);
 * assert(r.cosine.aToB === 1 && r.xsim.bToA === 1 && r.margin.bToA === 1);
 * ```
 */
export async function bitextRetrieval(
  a: RowMatrix,
  b: RowMatrix,
  options: BitextOptions = {},
): Promise<BitextAccuracy> {
  if (a.rows !== b.rows) {
    throw new KitError(
      `bitextRetrieval: ${a.rows} sentences in language a but ${b.rows} in b; expected parallel rows`,
    );
  }
  if (a.cols !== b.cols) {
    throw new KitError(`bitextRetrieval: embedding widths differ (${a.cols} vs ${b.cols})`);
  }
  const k = options.k ?? 4;
  const [S, aa, bb] = [
    await cosineSimilarityMatrix(a, b, options),
    await cosineSimilarityMatrix(a, a, options),
    await cosineSimilarityMatrix(b, b, options),
  ];
  return bitextFromSimilarity(S, a.rows, k, { aa, bb });
}
