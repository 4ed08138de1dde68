import { KitError } from "../util/kit_error.ts";
import { checkPaired } from "./cross_modal_retrieval.ts";
import {
  argmaxRows,
  macroAverage,
  metricsFromRanks,
  rankInRow,
  type RetrievalMetrics,
} from "./rank.ts";
import { l2NormalizeRows, type RowMatrix, transposeData } from "./row_matrix.ts";
import { dotProductsMany, type SimilarityOptions } from "./similarity.ts";

/** Pivot retrieval metrics of one ordered language pair. */
export interface PivotPairMetrics extends RetrievalMetrics {
  src: string;
  tgt: string;
}

/** Pivot retrieval over all ordered pairs of distinct languages, and their macro average. */
export interface PivotRetrievalResult {
  pairs: PivotPairMetrics[];
  macro: RetrievalMetrics;
}

/** Checks `langs` against `textByLang` and the images; returns the list to use. */
export function checkLanguages(
  textByLang: Readonly<Record<string, RowMatrix>>,
  images: RowMatrix,
  langs: readonly string[],
  what: string,
): string[] {
  if (langs.length === 0) throw new KitError(`${what}: no languages given`);
  if (new Set(langs).size !== langs.length) {
    throw new KitError(`${what}: repeated language in [${langs.join(", ")}]`);
  }
  for (const l of langs) {
    const t = textByLang[l];
    if (t === undefined) {
      throw new KitError(
        `${what}: no caption embeddings for language "${l}" (have: ${
          Object.keys(textByLang).join(", ")
        })`,
      );
    }
    checkPaired(t, images, `${what} [${l}]`);
  }
  return [...langs];
}

/**
 * Pivot retrieval from precomputed similarity matrices: `simByLang[l]` is the `n × n` row-major
 * matrix of caption(l)·imageᵀ cosines. For each ordered pair (src, tgt), src ≠ tgt, in `langs`
 * order: j = top-1 image of src caption i (ties → lowest index); the query is image j over all
 * tgt captions (scores = column j of `simByLang[tgt]`); truth = tgt caption i; stable ranks.
 * `transposedByLang` may hold the transposes (image × caption) when the caller has them.
 */
export function pivotFromSimilarities(
  simByLang: ReadonlyMap<string, Float32Array>,
  n: number,
  langs: readonly string[],
  transposedByLang?: ReadonlyMap<string, Float32Array>,
): PivotRetrievalResult {
  if (langs.length < 2) {
    throw new KitError(`pivotRetrieval: needs at least 2 languages, got ${langs.length}`);
  }
  const top1 = new Map<string, Int32Array>();
  const imageRows = new Map<string, Float32Array>();
  for (const l of langs) {
    const S = simByLang.get(l);
    if (S === undefined || S.length !== n * n) {
      throw new KitError(`pivotRetrieval: similarity matrix of "${l}" missing or not ${n}×${n}`);
    }
    top1.set(l, argmaxRows(S, n, n));
    imageRows.set(l, transposedByLang?.get(l) ?? transposeData(S, n, n)); // image × caption(l)
  }
  const pairs: PivotPairMetrics[] = [];
  const ranks = new Int32Array(n);
  for (const src of langs) {
    const pick = top1.get(src)!;
    for (const tgt of langs) {
      if (tgt === src) continue;
      const St = imageRows.get(tgt)!;
      for (let i = 0; i < n; i++) ranks[i] = rankInRow(St, n, pick[i]!, i);
      pairs.push({ src, tgt, ...metricsFromRanks(ranks) });
    }
  }
  return { pairs, macro: macroAverage(pairs) };
}

/**
 * Paper D's pivot cross-lingual caption retrieval: for every ordered pair (src, tgt) of
 * distinct languages, each src caption's top-1 image (ties → lowest index) becomes the query
 * over all tgt captions, truth = the tgt caption with the same row index; R@1/5/10 and MRR per
 * pair (72 pairs for 9 languages) and their macro average. Rows are L2-normalised first.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "./row_matrix.ts";
 * import { pivotRetrieval } from "./pivot_retrieval.ts";
 * const I = matrixFromRows([[1, 0], [0, 1]]);
 * const r = await pivotRetrieval({ en: I, de: I }, I, ["en", "de"]);
 * assert(r.pairs.length === 2 && r.macro.r1 === 1);
 * ```
 */
export async function pivotRetrieval(
  textByLang: Readonly<Record<string, RowMatrix>>,
  images: RowMatrix,
  langs: readonly string[] = Object.keys(textByLang),
  options: SimilarityOptions = {},
): Promise<PivotRetrievalResult> {
  const ls = checkLanguages(textByLang, images, langs, "pivotRetrieval");
  if (ls.length < 2) {
    throw new KitError(`pivotRetrieval: needs at least 2 languages, got ${ls.length}`);
  }
  const sims = await dotProductsMany(
    ls.map((l) => l2NormalizeRows(textByLang[l]!)),
    l2NormalizeRows(images),
    options,
  );
  return pivotFromSimilarities(new Map(ls.map((l, i) => [l, sims[i]!])), images.rows, ls);
}
