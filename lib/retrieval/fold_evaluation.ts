import {
  checkLanguages,
  pivotFromSimilarities,
  type PivotRetrievalResult,
} from "./pivot_retrieval.ts";
import { macroAverage, metricsFromRanks, rankOfTruth, type RetrievalMetrics } from "./rank.ts";
import { l2NormalizeRows, type RowMatrix, selectRows, transposeData } from "./row_matrix.ts";
import { dotProductsMany, type MatMulEngine, type SimilarityOptions } from "./similarity.ts";

/** Options of {@link evaluateFold}. */
export interface FoldEvaluationOptions extends SimilarityOptions {
  /**
   * How the similarities are multiplied out. Default `"js"` (not `"auto"`): float64 accumulation
   * in plain JavaScript, the same bits on every backend and in every process, so a reported
   * number never depends on which matmul kernel (OpenBLAS sgemm, XNNPACK, WebGPU) was active.
   * Ranks compare similarities, and a last-ulp difference between two kernels' float32 sums
   * flips a near tie, changing R@1 (notebook 05 on `wasm+openblas` vs `./kit task align` on
   * `wasm` differed this way). `"tf"` / `"auto"` trade that for speed.
   */
  engine?: MatMulEngine;
  /** Languages to evaluate, in table order; default `Object.keys(textByLang)`. */
  langs?: readonly string[];
  /** Holdout row indices (e.g. `kFoldIndices(...)[f].test`); default every row. */
  rows?: ArrayLike<number>;
  /** Also run pivot retrieval over all ordered language pairs (default true; needs ≥ 2 languages). */
  pivot?: boolean;
}

/** Paper D's per-fold retrieval results (fractions in [0, 1]). */
export interface FoldEvaluation {
  langs: string[];
  /** Number of holdout items (queries per language). */
  n: number;
  t2i: Record<string, RetrievalMetrics>;
  i2t: Record<string, RetrievalMetrics>;
  /** Mean over languages. */
  t2iMacro: RetrievalMetrics;
  i2tMacro: RetrievalMetrics;
  /** Null when `pivot: false` or fewer than 2 languages. */
  pivot: PivotRetrievalResult | null;
}

/**
 * Evaluates one fold as paper D does: on the holdout rows, per language t2i (captions → the
 * fold's images) and i2t (images → that language's captions), their macro averages over
 * languages, and pivot retrieval over the ordered language pairs. Similarities are dot products
 * of L2-normalised rows; one `caption·imageᵀ` product per language serves t2i, i2t and pivot.
 * By default the products are computed in plain JavaScript with float64 accumulation (see
 * {@link FoldEvaluationOptions.engine}), so the result is independent of the active backend.
 *
 * ```ts
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { evaluateFold } from "./fold_evaluation.ts";
 * const I = matrixFromRows([[1, 0], [0, 1], [1, 1]]);
 * const r = await evaluateFold({ en: I, de: I }, I, { rows: [0, 1] });
 * console.assert(r.n === 2 && r.t2iMacro.r1 === 1 && r.pivot!.macro.r1 === 1);
 * ```
 */
export async function evaluateFold(
  textByLang: Readonly<Record<string, RowMatrix>>,
  images: RowMatrix,
  options: FoldEvaluationOptions = {},
): Promise<FoldEvaluation> {
  const langs = checkLanguages(
    textByLang,
    images,
    options.langs ?? Object.keys(textByLang),
    "evaluateFold",
  );
  const pick = (m: RowMatrix, what: string) =>
    l2NormalizeRows(options.rows === undefined ? m : selectRows(m, options.rows, what));
  const V = pick(images, "evaluateFold images");
  const n = V.rows;
  const sims = await dotProductsMany(
    langs.map((l) => pick(textByLang[l]!, `evaluateFold captions [${l}]`)),
    V,
    { engine: options.engine ?? "js" },
  );
  const simByLang = new Map(langs.map((l, i) => [l, sims[i]!]));
  const transposed = new Map<string, Float32Array>();
  const t2i: Record<string, RetrievalMetrics> = {};
  const i2t: Record<string, RetrievalMetrics> = {};
  for (const l of langs) {
    const S = simByLang.get(l)!;
    const St = transposeData(S, n, n); // image × caption(l)
    transposed.set(l, St);
    t2i[l] = metricsFromRanks(rankOfTruth(S, n, n));
    i2t[l] = metricsFromRanks(rankOfTruth(St, n, n));
  }
  const pivot = (options.pivot ?? true) && langs.length >= 2
    ? pivotFromSimilarities(simByLang, n, langs, transposed)
    : null;
  return {
    langs,
    n,
    t2i,
    i2t,
    t2iMacro: macroAverage(langs.map((l) => t2i[l]!)),
    i2tMacro: macroAverage(langs.map((l) => i2t[l]!)),
    pivot,
  };
}
