import { diagonalHits, topKRows, transposeData, xsimFromCosines } from "../retrieval/mod.ts";
import type { BitextAccuracy, TopK, WithinLanguageCosines } from "../retrieval/mod.ts";
import { bitextFromSimilarity } from "../retrieval/mod.ts";
import { KitError } from "../util/kit_error.ts";

/** Per-sentence outcome (1 = its translation was retrieved, 0 = not) in both directions. */
export interface DirectionalCorrectness {
  aToB: Uint8Array;
  bToA: Uint8Array;
}

/** Per-sentence bitext retrieval outcomes by cosine, K's xsim and LASER's ratio margin. */
export interface BitextCorrectness {
  n: number;
  k: number;
  cosine: DirectionalCorrectness;
  /** Paper K's own xsim (lib/retrieval/k_xsim.ts). */
  xsim: DirectionalCorrectness;
  /** LASER's ratio margin (not K's xsim). */
  margin: DirectionalCorrectness;
}

function neighbourMeans(t: TopK, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < t.k; j++) s += t.score[r * t.k + j]!;
    out[r] = s / t.k;
  }
  return out;
}

function marginCorrect(
  nn: TopK,
  avgSrc: Float64Array,
  avgTgt: Float64Array,
  n: number,
): Uint8Array {
  const out = new Uint8Array(n), k = nn.k;
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
    out[i] = best === i ? 1 : 0;
  }
  return out;
}

function mean(x: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/**
 * Which sentences bitext retrieval gets right, one 0/1 per sentence and direction, by cosine, by
 * K's xsim and by LASER's ratio margin — the per-item form of lib/retrieval's `bitextFromSimilarity`
 * (same definitions, ties and neighbourhoods), so that bootstrap intervals can resample
 * sentences. Also returns `bitextFromSimilarity`'s accuracies and throws if the two disagree.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitextCorrectness } from "./bitext_correctness.ts";
 * const I = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
 * const { correct } = bitextCorrectness(I, 3, 1, { aa: I, bb: I });
 * assert(correct.cosine.aToB.join() === "1,1,1");
 * ```
 */
export function bitextCorrectness(
  S: Float32Array,
  n: number,
  k: number,
  within: WithinLanguageCosines,
): { correct: BitextCorrectness; accuracy: BitextAccuracy } {
  const accuracy = bitextFromSimilarity(S, n, k, within); // validates n, k and the matrix
  const cos = diagonalHits(S, n);
  const xs = diagonalHits(xsimFromCosines(S, within.aa, within.bb, n, k), n);
  const nnA = topKRows(S, n, n, k), nnB = topKRows(transposeData(S, n, n), n, n, k);
  const avgA = neighbourMeans(nnA, n), avgB = neighbourMeans(nnB, n);
  const correct: BitextCorrectness = {
    n,
    k,
    cosine: { aToB: cos.rows, bToA: cos.cols },
    xsim: { aToB: xs.rows, bToA: xs.cols },
    margin: { aToB: marginCorrect(nnA, avgA, avgB, n), bToA: marginCorrect(nnB, avgB, avgA, n) },
  };
  for (const score of ["cosine", "xsim", "margin"] as const) {
    for (const dir of ["aToB", "bToA"] as const) {
      if (Math.abs(mean(correct[score][dir]) - accuracy[score][dir]) > 1e-12) {
        throw new KitError(
          `bitextCorrectness: per-sentence ${score} ${dir} accuracy ${mean(correct[score][dir])} ` +
            `disagrees with bitextFromSimilarity's ${accuracy[score][dir]} (a bug in the kit)`,
        );
      }
    }
  }
  return { correct, accuracy };
}
