import {
  checkLanguages,
  pivotFromSimilarities,
  type PivotPairMetrics,
  type PivotRetrievalResult,
} from "./pivot_retrieval.ts";
import { macroAverage, metricsFromRanks, rankOfTruth, type RetrievalMetrics } from "./rank.ts";
import { l2NormalizeRows, type RowMatrix, selectRows, transposeData } from "./row_matrix.ts";
import {
  dotProductsMany,
  type MatMulEngine,
  resolveEngine,
  type SimilarityOptions,
} from "./similarity.ts";
import { CertifiedSimilarity } from "./certified_similarity.ts";

/** How {@link evaluateFold} computes its similarities: a {@link MatMulEngine} or `"exact-fast"`. */
export type FoldEngine = MatMulEngine | "exact-fast";

/** Options of {@link evaluateFold}. */
export interface FoldEvaluationOptions extends Omit<SimilarityOptions, "engine"> {
  /**
   * How the similarities are multiplied out. Ranks compare similarities, and a last-ulp
   * difference between two kernels' float32 sums flips a near tie, changing R@1 (notebook 05 on
   * `wasm+openblas` vs `./kit task align` on `wasm` differed this way), so the reported numbers
   * are those of `"js"`: float64 accumulation in plain JavaScript, the same bits on every
   * backend and in every process. Default `"exact-fast"`: the same results as `"js"`, bit for
   * bit, at about the speed of `"tf"` — the fast kernel's float32 products with a rigorous error
   * bound, and the float64 reference recomputed only for the entries within that bound of a
   * comparison's threshold (see {@link CertifiedSimilarity}). `"tf"` / `"auto"` (kernel-dependent
   * ranks) and `"js"` (slow reference) stay available.
   */
  engine?: FoldEngine;
  /**
   * Test-only: multiplies `"exact-fast"`'s error bound (default 1). Below 1 the results may
   * differ from `"js"`; tests use it to show that the bound matters.
   */
  exactFastToleranceScale?: number;
  /** Languages to evaluate, in table order; default `Object.keys(textByLang)`. */
  langs?: readonly string[];
  /** Holdout row indices (e.g. `kFoldIndices(...)[f].test`); default every row. */
  rows?: ArrayLike<number>;
  /** Also run pivot retrieval over all ordered language pairs (default true; needs ≥ 2 languages). */
  pivot?: boolean;
  /**
   * Called with each language's t2i ranks (0-based: 0 = the caption's own image first; one per holdout
   * row, in row order): per-item outcomes, e.g. for a bootstrap interval.
   */
  onT2iRanks?: (lang: string, ranks: Int32Array) => void;
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
 * By default the results are those of float64 similarities (the `"js"` engine's bits) computed
 * at the fast kernel's speed (see {@link FoldEvaluationOptions.engine}), so they are
 * independent of the active backend.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { evaluateFold } from "./fold_evaluation.ts";
 * const I = matrixFromRows([[1, 0], [0, 1], [1, 1]]);
 * const r = await evaluateFold({ en: I, de: I }, I, { rows: [0, 1] });
 * assert(r.n === 2 && r.t2iMacro.r1 === 1 && r.pivot!.macro.r1 === 1);
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
  const captions = langs.map((l) => pick(textByLang[l]!, `evaluateFold captions [${l}]`));
  const engine = options.engine ?? "exact-fast";
  const wantPivot = (options.pivot ?? true) && langs.length >= 2;
  if (engine === "exact-fast" && resolveEngine("auto") === "tf") {
    const fast = await dotProductsMany(captions, V, { engine: "tf" });
    const scale = options.exactFastToleranceScale ?? 1;
    const certified = langs.map((_, i) =>
      new CertifiedSimilarity(captions[i]!, V, fast[i]!, scale)
    );
    return exactFastResults(langs, n, certified, wantPivot, options.onT2iRanks);
  }
  const sims = await dotProductsMany(captions, V, {
    engine: engine === "exact-fast" ? "js" : engine,
  });
  const simByLang = new Map(langs.map((l, i) => [l, sims[i]!]));
  const transposed = new Map<string, Float32Array>();
  const t2i: Record<string, RetrievalMetrics> = {};
  const i2t: Record<string, RetrievalMetrics> = {};
  for (const l of langs) {
    const S = simByLang.get(l)!;
    const St = transposeData(S, n, n); // image × caption(l)
    transposed.set(l, St);
    const ranks = rankOfTruth(S, n, n);
    options.onT2iRanks?.(l, Int32Array.from(ranks));
    t2i[l] = metricsFromRanks(ranks);
    i2t[l] = metricsFromRanks(rankOfTruth(St, n, n));
  }
  const pivot = wantPivot ? pivotFromSimilarities(simByLang, n, langs, transposed) : null;
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

/** {@link evaluateFold}'s results from certified similarities (engine `"exact-fast"`). */
function exactFastResults(
  langs: string[],
  n: number,
  byLang: CertifiedSimilarity[],
  wantPivot: boolean,
  onT2iRanks?: (lang: string, ranks: Int32Array) => void,
): FoldEvaluation {
  const t2i: Record<string, RetrievalMetrics> = {};
  const i2t: Record<string, RetrievalMetrics> = {};
  const transposed: CertifiedSimilarity[] = [];
  const ranks = new Int32Array(n);
  langs.forEach((l, li) => {
    const C = byLang[li]!, Ct = C.transpose(); // caption(l) × image, image × caption(l)
    transposed.push(Ct);
    for (let q = 0; q < n; q++) ranks[q] = C.rankInRow(q, q);
    onT2iRanks?.(l, ranks.slice());
    t2i[l] = metricsFromRanks(ranks);
    for (let q = 0; q < n; q++) ranks[q] = Ct.rankInRow(q, q);
    i2t[l] = metricsFromRanks(ranks);
  });
  let pivot: PivotRetrievalResult | null = null;
  if (wantPivot) {
    // As pivotFromSimilarities: src caption i → its top-1 image j → rank of tgt caption i
    // among all tgt captions for image j.
    const pairs: PivotPairMetrics[] = [];
    const top1 = byLang.map((C) => Int32Array.from({ length: n }, (_, i) => C.argmaxRow(i)));
    langs.forEach((src, si) => {
      const pick = top1[si]!;
      langs.forEach((tgt, ti) => {
        if (ti === si) return;
        const Ct = transposed[ti]!;
        for (let i = 0; i < n; i++) ranks[i] = Ct.rankInRow(pick[i]!, i);
        pairs.push({ src, tgt, ...metricsFromRanks(ranks) });
      });
    });
    pivot = { pairs, macro: macroAverage(pairs) };
  }
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
