import { inDegrees } from "../diagnostics/hubness.ts";
import { cosineKnn } from "../diagnostics/knn.ts";
import { argmaxRows, rankInRow, rankOfTruth } from "../retrieval/rank.ts";
import { l2NormalizeRows, type RowMatrix, transposeData } from "../retrieval/row_matrix.ts";
import { dotProductsMany } from "../retrieval/similarity.ts";
import type { HoldoutLangIdRows } from "../image_pivot/image_pivot_cv.ts";
import { KitError } from "../util/kit_error.ts";
import type { ItemOutcomes, ItemSeries, ReplicateSeries } from "./item_outcomes.ts";
import {
  type FoldSet,
  type SetStatisticReplicates,
  setStatisticReplicates,
} from "./set_statistic_replicates.ts";
import {
  cachedResult,
  codeFingerprint,
  numericEnvironment,
  type ResultCacheOptions,
  valueFingerprint,
} from "../eval_cache/mod.ts";

/** Which heads get set-statistic replicates, how many resamples and with which seed. */
export interface SetStatisticOptions {
  heads: readonly string[];
  resamples: number;
  seed: number;
}

/**
 * The default: the heads D5a/D5b compare (identity, linear); 400 of the claims' 1000 resamples
 * (the first 400 of the same draws, seed 2025) — each resample recomputes a 64×64 (mini) or
 * 512×512 (paper) eigenproblem per language and fold, ≈ 18 ms per resample and head at mini size.
 */
export const SET_STATISTIC_DEFAULTS: SetStatisticOptions = {
  heads: ["identity", "linear"],
  resamples: 400,
  seed: 2025,
};

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
 *   skewness and hub ratio are statistics of these within each fold: `reduce` in lib/claims);
 * - `lang_id`: 1 when the fold's lang-ID probe names `lang` for the item's caption, 0 when it
 *   names another language — only for the (item, language) rows in the probe's test split (the
 *   other items of the fold have no value in that series: no outcome). Every head of a fold has
 *   the same test rows, so the heads' series are paired; the share of ones among all of a fold's
 *   values (all languages pooled) is that fold's Table 6 lang-ID accuracy (`reduce:
 *   "pooledPerStratum"`).
 * Every value carries its fold as stratum.
 * Set statistics with no per-item outcome (D-T6's effective rank and Gram correlation) come as
 * `replicates` keyed `{ head, metric: "effective_rank" | "gram_correlation" }` for the heads in
 * `setStatistics`: each of the claims' bootstrap resamples (seed, first `resamples`) recomputed on
 * every fold's drawn holdout rows with their multiplicities, averaged over folds
 * (`setStatisticReplicates`), one draw shared by all heads.
 * Similarities, ranks and ties are those of lib/retrieval's fold evaluation.
 */
export class ImagePivotItemRecorder {
  readonly #series = new Map<
    string,
    { key: Record<string, string>; units: number[]; strata: number[]; values: number[] }
  >();
  readonly #seen = new Map<string, Set<number>>();

  readonly #folds = new Map<string, FoldSet[]>();

  constructor(
    readonly n: number,
    readonly setStatistics: SetStatisticOptions | null = SET_STATISTIC_DEFAULTS,
  ) {}

  /** Appends one value per unit (`units[i]` ↦ `values[i]`), all in stratum `fold`. */
  #push(
    key: Record<string, string>,
    fold: number,
    units: readonly number[],
    values: ArrayLike<number>,
  ): void {
    const id = JSON.stringify(key);
    let s = this.#series.get(id);
    if (!s) this.#series.set(id, s = { key, units: [], strata: [], values: [] });
    for (let i = 0; i < units.length; i++) {
      s.units.push(units[i]!);
      s.strata.push(fold);
      s.values.push(values[i]!);
    }
  }

  /**
   * Records one head on one fold: `text[lang]` and `images` are the holdout rows, in `holdout`
   * order; `langId` the fold's lang-ID probe test rows on them (none: no `lang_id` series).
   */
  record = async (
    fold: number,
    head: string,
    holdout: readonly number[],
    text: Readonly<Record<string, RowMatrix>>,
    images: RowMatrix,
    langId?: HoldoutLangIdRows | null,
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
    if (this.setStatistics?.heads.includes(head)) {
      const folds = this.#folds.get(head) ?? [];
      folds.push({ units: [...holdout], byLang: { ...text } });
      this.#folds.set(head, folds);
    }
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
    if (langId) this.#recordLangId(fold, head, holdout, langs, langId);
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

  #recordLangId(
    fold: number,
    head: string,
    holdout: readonly number[],
    langs: readonly string[],
    langId: HoldoutLangIdRows,
  ): void {
    const { languages, test } = langId;
    for (const l of languages) {
      if (!langs.includes(l)) {
        throw new KitError(
          `ImagePivotItemRecorder: lang-ID probe language "${l}" has no holdout captions (fold ${fold}, head ${head})`,
        );
      }
    }
    const units = languages.map((): number[] => []);
    const values = languages.map((): number[] => []);
    for (let i = 0; i < test.correct.length; i++) {
      const li = test.language[i]!, r = test.row[i]!;
      if (li < 0 || li >= languages.length || r < 0 || r >= holdout.length) {
        throw new KitError(
          `ImagePivotItemRecorder: lang-ID test row ${i} (language ${li}, row ${r}) is outside the ${languages.length} languages × ${holdout.length} holdout rows (fold ${fold}, head ${head})`,
        );
      }
      units[li]!.push(holdout[r]!);
      values[li]!.push(test.correct[i]!);
    }
    languages.forEach((lang, li) => {
      if (units[li]!.length > 0) {
        this.#push({ head, metric: "lang_id", lang }, fold, units[li]!, values[li]!);
      }
    });
  }

  /**
   * The outcomes recorded so far (every head must have covered every item once). The set-statistic
   * replicates are computed here (≈ 15 s at mini size, minutes at paper size); see
   * {@link cachedOutcomes} to keep them on disk.
   */
  outcomes(): ItemOutcomes {
    return this.#assemble((_head, folds, opts) => setStatisticReplicates(folds, this.n, opts));
  }

  /**
   * {@link outcomes}, with each head's set-statistic replicates kept on disk (lib/eval_cache,
   * `.cache/results/d-set-replicates/`), keyed by the fold rows' bytes, the options, the code and
   * the numeric environment: a rerun on the same holdout rows reads them instead of recomputing.
   */
  async cachedOutcomes(cache: ResultCacheOptions = {}): Promise<ItemOutcomes> {
    const opts = this.setStatistics;
    const computed = new Map<string, SetStatisticReplicates>();
    this.#checkCovered();
    if (opts) {
      const code = await codeFingerprint(["lib/claims/set_statistic_replicates.ts"]);
      for (const [head, folds] of this.#folds) {
        const key = {
          what: "setStatisticReplicates",
          n: this.n,
          folds: valueFingerprint(folds),
          resamples: opts.resamples,
          seed: opts.seed,
          code,
          numeric: numericEnvironment(),
        };
        computed.set(
          head,
          await cachedResult(
            "d-set-replicates",
            key,
            () => Promise.resolve(setStatisticReplicates(folds, this.n, opts)),
            cache,
          ),
        );
      }
    }
    return this.#assemble((head) => computed.get(head)!);
  }

  #checkCovered(): void {
    for (const [head, seen] of this.#seen) {
      if (seen.size !== this.n) {
        throw new KitError(
          `ImagePivotItemRecorder: head ${head} covered ${seen.size} of ${this.n} items; the folds' holdouts must cover every item`,
        );
      }
    }
  }

  #assemble(
    replicatesOf: (
      head: string,
      folds: readonly FoldSet[],
      opts: SetStatisticOptions,
    ) => SetStatisticReplicates,
  ): ItemOutcomes {
    this.#checkCovered();
    const series: ItemSeries[] = [...this.#series.values()].map((s) => ({
      key: s.key,
      space: "items",
      units: s.units,
      strata: s.strata,
      values: s.values,
    }));
    const replicates: ReplicateSeries[] = [];
    const opts = this.setStatistics;
    if (opts) {
      for (const [head, folds] of this.#folds) {
        const r = replicatesOf(head, folds, opts);
        const put = (metric: string, v: Float64Array) =>
          replicates.push({
            key: { head, metric },
            space: "items",
            seed: opts.seed,
            values: Array.from(v, (x) => (Number.isNaN(x) ? null : x)),
          });
        put("effective_rank", r.effectiveRank);
        put("gram_correlation", r.gramCorrelation);
      }
    }
    return {
      id: "D",
      description:
        "Paper D per holdout item, concatenated over the folds (stratum = fold): R@1 hits (t2i, i2t, pivot src>tgt), mean cosine with the fold's other captions, k-occurrence / k in the fold's within-language kNN graph, lang-ID probe hits (only the items in the fold's probe test split); replicates: D-T6's effective rank and Gram correlation recomputed on the claims' bootstrap resamples",
      spaces: { items: { units: this.n, unit: "item" } },
      series,
      ...(replicates.length ? { replicates } : {}),
    };
  }
}
