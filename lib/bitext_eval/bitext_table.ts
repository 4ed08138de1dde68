import { K_SETUPS, type KSetupId } from "../encoders/encoder.ts";
import { publishedProvenance, publishedValues } from "../paper/mod.ts";
import {
  bootstrapInterval,
  type BootstrapOptions,
  macroMeanStatistic,
  type PairedBootstrapResult,
  pairedBootstrapTest,
  type WeightedStatistic,
} from "../stats/mod.ts";
import { KitError } from "../util/kit_error.ts";
import { cachedResult, type ResultCacheOptions } from "../eval_cache/result_cache.ts";
import { codeFingerprint } from "../eval_cache/code_fingerprint.ts";
import { valueFingerprint } from "../eval_cache/value_fingerprint.ts";
import type { BitextLanguageResult } from "./bitext_evaluation.ts";

/** K-T1's two scores: plain cosine nearest neighbour, and paper K's own xsim (k = 4). */
export type BitextScore = "cosine" | "xsim";
export const BITEXT_SCORES: readonly BitextScore[] = ["cosine", "xsim"];

/** K-T1's groups, in table order. */
export const K_T1_GROUPS = [
  "all",
  "in-xlmr",
  "not-in-xlmr",
  "quechua",
  "stamps",
  "in-domain:all",
  "in-domain:in-xlmr",
  "in-domain:not-in-xlmr",
  "in-domain:quechua",
] as const;

/** A K-T1 row (schema in the design notes; `paper_mean` added: K's published Table 1 number as a fraction). */
export interface KT1Row {
  [key: string]: string | number | null;
  setup: string;
  group: string;
  score: BitextScore;
  eng_to_x: number;
  x_to_eng: number;
  mean: number;
  mean_ci_low: number;
  mean_ci_high: number;
  n_languages: number;
  /** Whether this row's score is the one compared with the published value ("yes"/"no"). */
  compared: string;
  paper_mean: number | null;
  /** Where `paper_mean` comes from (`K Table 1`, or `K Table 1 (secondary source)`); null without one. */
  paper_source: string | null;
}

/** A K-T1-LANGS row (`benchmark` added: `flores` or `stamps`). */
export interface KT1LangRow {
  [key: string]: string | number | null;
  setup: string;
  benchmark: string;
  lang: string;
  score: BitextScore;
  eng_to_x: number;
  x_to_eng: number;
  mean: number;
  ci_low: number;
  ci_high: number;
  n: number;
}

const field = (s: BitextScore) => s;

/**
 * The score K's evaluation script used for a setup by default (their `distance` variable):
 * `cosine` in the image-tuned models' script (Alignment/text-image/flores-sts.py), `xsim` in
 * the untuned XLM-R one (Alignment/no-align) and in the text–text one (Alignment/text-text,
 * Eng-Pivot). K-T1 compares the published value with this score's row only.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedScore } from "./bitext_table.ts";
 * assert(publishedScore("eng-pivot") === "xsim" && publishedScore("multilingual") === "cosine");
 * ```
 */
export function publishedScore(setup: string): BitextScore {
  return setup === "xlmr" || setup === "eng-pivot" ? "xsim" : "cosine";
}

/** Per-sentence mean of both directions (0, 0.5 or 1) of one language and score. */
export function bothDirectionsCorrect(r: BitextLanguageResult, score: BitextScore): Float64Array {
  const c = r.correct[field(score)];
  return Float64Array.from({ length: r.n }, (_, i) => (c.aToB[i]! + c.bToA[i]!) / 2);
}

function groupResults(results: readonly BitextLanguageResult[], group: string) {
  const inGroup = results.filter((r) => r.groups.includes(group));
  const benches = new Set(inGroup.map((r) => r.benchmark));
  if (benches.size > 1) {
    throw new KitError(`bitext group "${group}" mixes benchmarks ${[...benches].join(", ")}`);
  }
  return inGroup;
}

/**
 * The statistic "mean over the group's languages of the mean of both directions" as a function
 * of resampled units (sentences / stamps), for bootstrap intervals and paired tests.
 */
export function bitextGroupStatistic(
  results: readonly BitextLanguageResult[],
  group: string,
  score: BitextScore,
): { statistic: WeightedStatistic; units: number; languages: number } {
  const inGroup = groupResults(results, group);
  if (inGroup.length === 0) throw new KitError(`bitext group "${group}": no language in it`);
  return {
    statistic: macroMeanStatistic(
      inGroup.map((r) => ({ values: bothDirectionsCorrect(r, score), units: r.units })),
    ),
    units: inGroup[0]!.benchmarkUnits,
    languages: inGroup.length,
  };
}

/** K's published Table 1 bitext value ([K] Table 1, data/paper/k_published.json) (fraction) for a setup and group, or null. */
export function publishedBitext(setup: string, group: string): number | null {
  const v = publishedValues({ paper: "K", table: "Table 1", row: setup, column: group })[0];
  return v ? v.value / 100 : null;
}

/** Where the published bitext value of a setup and group comes from, flagged when secondary. */
export function publishedBitextSource(setup: string, group: string): string | null {
  const v = publishedValues({ paper: "K", table: "Table 1", row: setup, column: group })[0];
  return v ? publishedProvenance(v) : null;
}

/**
 * K-T1 rows of one setup: for each group with at least one language and each score, the mean
 * over languages of eng→x, x→eng and their mean, a percentile bootstrap interval of the mean
 * (units — sentences, stamps — resampled jointly across the group's languages; the retrieval
 * pool is held fixed), and the published value where K's Table 1 has one — only on the row of the
 * score K's script used for that setup ({@link publishedScore}; `compared` = "yes").
 */
export function bitextGroupRows(
  setup: KSetupId | string,
  results: readonly BitextLanguageResult[],
  opts: BootstrapOptions & { groups?: readonly string[] },
): KT1Row[] {
  const rows: KT1Row[] = [];
  for (const group of opts.groups ?? K_T1_GROUPS) {
    const inGroup = groupResults(results, group);
    if (inGroup.length === 0) continue;
    for (const score of BITEXT_SCORES) {
      const f = field(score);
      const ab = inGroup.reduce((s, r) => s + r.accuracy[f].aToB, 0) / inGroup.length;
      const ba = inGroup.reduce((s, r) => s + r.accuracy[f].bToA, 0) / inGroup.length;
      const { statistic, units } = bitextGroupStatistic(results, group, score);
      const ci = bootstrapInterval(statistic, units, opts);
      rows.push({
        setup,
        group,
        score,
        eng_to_x: ab,
        x_to_eng: ba,
        mean: (ab + ba) / 2,
        mean_ci_low: ci.low,
        mean_ci_high: ci.high,
        n_languages: inGroup.length,
        compared: (K_SETUPS as readonly string[]).includes(setup) && score === publishedScore(setup)
          ? "yes"
          : "no",
        paper_mean: score === publishedScore(setup) ? publishedBitext(setup, group) : null,
        paper_source: score === publishedScore(setup) ? publishedBitextSource(setup, group) : null,
      });
    }
  }
  return rows;
}

/** K-T1-LANGS rows of one setup: per language and score, with a bootstrap interval of the mean. */
export function bitextLanguageRows(
  setup: KSetupId | string,
  results: readonly BitextLanguageResult[],
  opts: BootstrapOptions,
): KT1LangRow[] {
  const rows: KT1LangRow[] = [];
  for (const r of results) {
    for (const score of BITEXT_SCORES) {
      const a = r.accuracy[field(score)];
      const stat = macroMeanStatistic([{
        values: bothDirectionsCorrect(r, score),
        units: r.units,
      }]);
      const ci = bootstrapInterval(stat, r.benchmarkUnits, opts);
      rows.push({
        setup,
        benchmark: r.benchmark,
        lang: r.lang,
        score,
        eng_to_x: a.aToB,
        x_to_eng: a.bToA,
        mean: a.mean,
        ci_low: ci.low,
        ci_high: ci.high,
        n: r.n,
      });
    }
  }
  return rows;
}

/**
 * Paired bootstrap comparison of two setups' group means (same sentences, same resamples):
 * difference A − B, its interval and a two-sided p-value.
 */
export function compareBitextSetups(
  a: readonly BitextLanguageResult[],
  b: readonly BitextLanguageResult[],
  group: string,
  score: BitextScore,
  opts: BootstrapOptions,
): PairedBootstrapResult {
  const sa = bitextGroupStatistic(a, group, score), sb = bitextGroupStatistic(b, group, score);
  if (sa.units !== sb.units || sa.languages !== sb.languages) {
    throw new KitError(
      `compareBitextSetups: group "${group}" differs between the setups (${sa.languages} vs ${sb.languages} languages)`,
    );
  }
  return pairedBootstrapTest(sa.statistic, sb.statistic, sa.units, opts);
}

/**
 * A compact Markdown view of K-T1-LANGS: one row per language of `benchmark`, one column per
 * setup, cells = the mean of both directions (percent) for `score`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitextLanguageMatrixMarkdown } from "./bitext_table.ts";
 * const md = bitextLanguageMatrixMarkdown([{ setup: "xlmr", benchmark: "flores", lang: "quy_Latn", score: "cosine",
 *   eng_to_x: 0.1, x_to_eng: 0.3, mean: 0.2, ci_low: 0.1, ci_high: 0.3, n: 204 }], "flores", "cosine");
 * assert(md.includes("| quy_Latn | 20.0 |"));
 * ```
 */
export function bitextLanguageMatrixMarkdown(
  rows: readonly KT1LangRow[],
  benchmark: string,
  score: BitextScore,
  labels: Readonly<Record<string, string>> = {},
): string {
  const sel = rows.filter((r) => r.benchmark === benchmark && r.score === score);
  const setups = [...new Set(sel.map((r) => r.setup))];
  const langs = [...new Set(sel.map((r) => r.lang))];
  const cell = (s: string, l: string) => {
    const r = sel.find((x) => x.setup === s && x.lang === l);
    return r ? (100 * r.mean).toFixed(1) : "–";
  };
  return [
    `| ${benchmark} (${score}, %) | ${setups.map((s) => labels[s] ?? s).join(" | ")} |`,
    `|---|${setups.map(() => "---:").join("|")}|`,
    ...langs.map((l) => `| ${l} | ${setups.map((s) => cell(s, l)).join(" | ")} |`),
  ].join("\n");
}

/**
 * K-T1's rows for several setups at once — `bitextGroupRows` then `bitextLanguageRows` of each
 * setup, in `setups` order — kept on disk (lib/eval_cache, `.cache/results/bitext-rows/`) keyed by
 * every per-sentence outcome of `results`, the bootstrap options and the code: the thousands of
 * bootstrap intervals are drawn once per set of results. (Plain JavaScript float64 arithmetic:
 * no backend in the key.)
 */
export async function cachedBitextRows(
  setups: readonly string[],
  results: Readonly<Record<string, readonly BitextLanguageResult[]>>,
  opts: BootstrapOptions & { groups?: readonly string[] },
  cache: ResultCacheOptions = {},
): Promise<{ groupRows: KT1Row[]; langRows: KT1LangRow[] }> {
  const compute = () =>
    Promise.resolve({
      groupRows: setups.flatMap((s) => bitextGroupRows(s, results[s]!, opts)),
      langRows: setups.flatMap((s) => bitextLanguageRows(s, results[s]!, opts)),
    });
  const key = {
    what: "bitextRows",
    setups: [...setups],
    results: valueFingerprint(setups.map((s) => results[s]!)),
    options: { ...opts },
    code: await codeFingerprint(["lib/bitext_eval/bitext_table.ts"]),
    v8: Deno.version.v8,
  };
  return await cachedResult("bitext-rows", key, compute, cache);
}
