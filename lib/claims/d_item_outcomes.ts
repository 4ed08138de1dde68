import { inDegrees } from "../diagnostics/hubness.ts";
import { cosineKnn } from "../diagnostics/knn.ts";
import { argmaxRows, rankInRow, rankOfTruth } from "../retrieval/rank.ts";
import { l2NormalizeRows, type RowMatrix, transposeData } from "../retrieval/row_matrix.ts";
import { dotProductsMany } from "../retrieval/similarity.ts";
import { KitError } from "../util/kit_error.ts";
import type { ItemOutcomes, ItemSeries } from "./item_outcomes.ts";

/** Per-item mean cosine with the other rows (rows normalised, norms floored at 1e-12). */
export function perItemMeanCosine(x: RowMatrix): Float64Array {
  const { rows: n, cols: d, data } = x;
  if (n < 2) throw new KitError(`perItemMeanCosine: need at least 2 rows, got ${n}`);
  const hat = new Float64Array(n * d), sum = new Float64Array(d), self = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += data[i * d + j]! * data[i * d + j]!;
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
    self[i] = ss * inv * inv;
    for (let j = 0; j < d; j++) {
      hat[i * d + j] = data[i * d + j]! * inv;
      sum[j]! += hat[i * d + j]!;
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += hat[i * d + j]! * sum[j]!;
    out[i] = (s - self[i]!) / (n - 1);
  }
  return out;
}

/**
 * Collects paper D's per-item outcomes fold by fold (pass `record` as `runImagePivotCv`'s
 * `onHoldout`), concatenated over the folds' holdout items, for the claims' bootstrap
 * (`items/D.json`). Per head, keyed `{ head, metric, lang }`:
 * - `t2i_r1` / `i2t_r1`: 1 when the item's caption (language `lang`) retrieves its image among
 *   the fold's images at rank 1 / when its image retrieves that caption among `lang`'s captions;
 * - `pivot_r1` (`lang` = `src>tgt`): 1 when pivoting the src caption through its top-1 image
 *   retrieves the item's tgt caption at rank 1 (D's pivot retrieval);
 * - `mean_cosine`: the item caption's mean cosine with the fold's other captions in `lang`
 *   (its mean over a fold's items is that fold's Table 6 mean cosine);
 * - `k_occurrence_share`: how often the item's caption is among the k = min(10, n − 1) cosine
 *   nearest neighbours of the fold's other captions in `lang`, divided by k (Table 6's hubness
 *   skewness and hub ratio are statistics of these within each fold: `reduce` in lib/claims).
 * Every value carries its fold as stratum.
 * Similarities, ranks and ties are those of lib/retrieval's fold evaluation.
 */
export class ImagePivotItemRecorder {
  readonly #series = new Map<
    string,
    { key: Record<string, string>; units: number[]; strata: number[]; values: number[] }
  >();
  readonly #seen = new Map<string, Set<number>>();

  constructor(readonly n: number) {}

  #push(
    key: Record<string, string>,
    fold: number,
    holdout: readonly number[],
    values: ArrayLike<number>,
  ): void {
    const id = JSON.stringify(key);
    let s = this.#series.get(id);
    if (!s) this.#series.set(id, s = { key, units: [], strata: [], values: [] });
    for (let i = 0; i < holdout.length; i++) {
      s.units.push(holdout[i]!);
      s.strata.push(fold);
      s.values.push(values[i]!);
    }
  }

  /** Records one head on one fold: `text[lang]` and `images` are the holdout rows, in `holdout` order. */
  record = async (
    fold: number,
    head: string,
    holdout: readonly number[],
    text: Readonly<Record<string, RowMatrix>>,
    images: RowMatrix,
  ): Promise<void> => {
    const langs = Object.keys(text);
    const n = holdout.length;
    const seen = this.#seen.get(head) ?? new Set<number>();
    for (const u of holdout) {
      if (!Number.isInteger(u) || u < 0 || u >= this.n) {
        throw new KitError(`ImagePivotItemRecorder: holdout item ${u} outside [0, ${this.n})`);
      }
      if (seen.has(u)) {
        throw new KitError(
          `ImagePivotItemRecorder: item ${u} is in two holdout folds of head ${head}`,
        );
      }
      seen.add(u);
    }
    this.#seen.set(head, seen);
    const V = l2NormalizeRows(images);
    const sims = await dotProductsMany(langs.map((l) => l2NormalizeRows(text[l]!)), V);
    const byLang = new Map(langs.map((l, i) => [l, sims[i]!]));
    const trans = new Map(langs.map((l) => [l, transposeData(byLang.get(l)!, n, n)]));
    const r1 = (ranks: Int32Array) => Uint8Array.from(ranks, (r) => (r === 0 ? 1 : 0));
    for (const l of langs) {
      const t2i = r1(rankOfTruth(byLang.get(l)!, n, n));
      this.#push({ head, metric: "t2i_r1", lang: l }, fold, holdout, t2i);
      const i2t = r1(rankOfTruth(trans.get(l)!, n, n));
      this.#push({ head, metric: "i2t_r1", lang: l }, fold, holdout, i2t);
      const cos = perItemMeanCosine(text[l]!);
      this.#push({ head, metric: "mean_cosine", lang: l }, fold, holdout, cos);
      if (n >= 2) {
        // Table 6's hubness graph: within-language cosine kNN, k = min(10, n − 1), self excluded.
        const k = Math.min(10, n - 1);
        const occ = inDegrees(cosineKnn(text[l]!, k));
        const share = Float64Array.from(occ, (c) => c / k);
        this.#push({ head, metric: "k_occurrence_share", lang: l }, fold, holdout, share);
      }
    }
    if (langs.length >= 2) {
      for (const src of langs) {
        const pick = argmaxRows(byLang.get(src)!, n, n);
        for (const tgt of langs) {
          if (tgt === src) continue;
          const St = trans.get(tgt)!;
          const hit = Uint8Array.from(
            { length: n },
            (_, i) => (rankInRow(St, n, pick[i]!, i) === 0 ? 1 : 0),
          );
          this.#push({ head, metric: "pivot_r1", lang: `${src}>${tgt}` }, fold, holdout, hit);
        }
      }
    }
  };

  /** The outcomes recorded so far (every head must have covered every item once). */
  outcomes(): ItemOutcomes {
    for (const [head, seen] of this.#seen) {
      if (seen.size !== this.n) {
        throw new KitError(
          `ImagePivotItemRecorder: head ${head} covered ${seen.size} of ${this.n} items; the folds' holdouts must cover every item`,
        );
      }
    }
    const series: ItemSeries[] = [...this.#series.values()].map((s) => ({
      key: s.key,
      space: "items",
      units: s.units,
      strata: s.strata,
      values: s.values,
    }));
    return {
      id: "D",
      description:
        "Paper D per holdout item, concatenated over the folds (stratum = fold): R@1 hits (t2i, i2t, pivot src>tgt), mean cosine with the fold's other captions, k-occurrence / k in the fold's within-language kNN graph",
      spaces: { items: { units: this.n, unit: "item" } },
      series,
    };
  }
}
