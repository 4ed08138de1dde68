import type { KSetupId } from "../encoders/encoder.ts";
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
import type { NliLanguageResult } from "./nli_evaluation.ts";

/** A K-T2 row (schema in the design notes; `paper_accuracy` added: K's published Table 2 value, a fraction). */
export interface KT2Row {
  [key: string]: string | number | null;
  setup: string;
  dataset: "xnli" | "americasnli";
  lang: string;
  accuracy: number;
  ci_low: number;
  ci_high: number;
  n: number;
  paper_accuracy: number | null;
  /** Where `paper_accuracy` comes from (`K Table 2`, or `K Table 2 (secondary source)`). */
  paper_source: string | null;
}

/** Where the published XNLI accuracy of a setup and column comes from, flagged when secondary. */
export function publishedXnliSource(setup: string, lang: string): string | null {
  const v = publishedValues({ paper: "K", table: "Table 2", row: setup, column: lang })[0];
  return v ? publishedProvenance(v) : null;
}

/** K's published XNLI accuracy ([K] Table 2, data/paper/k_published.json) (fraction) of a setup and column (`avg`, `en`), or null. */
export function publishedXnli(setup: string, lang: string): number | null {
  const v = publishedValues({ paper: "K", table: "Table 2", row: setup, column: lang })[0];
  return v ? v.value / 100 : null;
}

/**
 * The statistic of a dataset's language (or, for `lang = "avg"`, the mean over its languages) as
 * a function of resampled units: XNLI's test pairs are parallel, so one resample draws the same
 * pairs in every language; AmericasNLI's languages are pooled.
 */
export function nliStatistic(
  results: readonly NliLanguageResult[],
  dataset: "xnli" | "americasnli",
  lang: string,
): { statistic: WeightedStatistic; units: number; languages: number } {
  const rs = results.filter((r) => r.dataset === dataset && (lang === "avg" || r.lang === lang));
  if (rs.length === 0) throw new KitError(`${dataset}: no results for language "${lang}"`);
  return {
    statistic: macroMeanStatistic(rs.map((r) => ({ values: r.correct, units: r.units }))),
    units: rs[0]!.datasetUnits,
    languages: rs.length,
  };
}

/**
 * K-T2 rows of one setup: per dataset, every language, then `avg` (mean over the dataset's
 * languages), each with a percentile bootstrap interval over test pairs and K's published Table 2 value.
 */
export function nliRows(
  setup: KSetupId,
  results: readonly NliLanguageResult[],
  opts: BootstrapOptions,
): KT2Row[] {
  const rows: KT2Row[] = [];
  for (const dataset of ["xnli", "americasnli"] as const) {
    const rs = results.filter((r) => r.dataset === dataset);
    if (rs.length === 0) continue;
    for (const lang of [...rs.map((r) => r.lang), "avg"]) {
      const { statistic, units } = nliStatistic(results, dataset, lang);
      const ci = bootstrapInterval(statistic, units, opts);
      const sel = lang === "avg" ? rs : rs.filter((r) => r.lang === lang);
      rows.push({
        setup,
        dataset,
        lang,
        accuracy: sel.reduce((s, r) => s + r.accuracy, 0) / sel.length,
        ci_low: ci.low,
        ci_high: ci.high,
        n: sel.reduce((s, r) => s + r.n, 0),
        paper_accuracy: dataset === "xnli" ? publishedXnli(setup, lang) : null,
        paper_source: dataset === "xnli" ? publishedXnliSource(setup, lang) : null,
      });
    }
  }
  return rows;
}

/** Paired bootstrap comparison of two setups on one dataset language (or `avg`). */
export function compareNliSetups(
  a: readonly NliLanguageResult[],
  b: readonly NliLanguageResult[],
  dataset: "xnli" | "americasnli",
  lang: string,
  opts: BootstrapOptions,
): PairedBootstrapResult {
  const sa = nliStatistic(a, dataset, lang), sb = nliStatistic(b, dataset, lang);
  if (sa.units !== sb.units || sa.languages !== sb.languages) {
    throw new KitError(`compareNliSetups: ${dataset} ${lang} differs between the setups`);
  }
  return pairedBootstrapTest(sa.statistic, sb.statistic, sa.units, opts);
}

/**
 * A compact Markdown view of K-T2: one row per dataset language (`avg` last), one column per
 * setup, accuracy in percent.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { nliMatrixMarkdown } from "./xnli_table.ts";
 * const md = nliMatrixMarkdown([{ setup: "xlmr", dataset: "xnli", lang: "en", accuracy: 0.5, ci_low: 0.4, ci_high: 0.6, n: 9, paper_accuracy: null, paper_source: null }]);
 * assert(md.includes("| xnli en | 50.0 |"));
 * ```
 */
export function nliMatrixMarkdown(
  rows: readonly KT2Row[],
  labels: Readonly<Record<string, string>> = {},
): string {
  const setups = [...new Set(rows.map((r) => r.setup))];
  const keys = [...new Set(rows.map((r) => `${r.dataset} ${r.lang}`))];
  const cell = (s: string, k: string) => {
    const r = rows.find((x) => x.setup === s && `${x.dataset} ${x.lang}` === k);
    return r ? (100 * r.accuracy).toFixed(1) : "–";
  };
  return [
    `| accuracy (%) | ${setups.map((s) => labels[s] ?? s).join(" | ")} |`,
    `|---|${setups.map(() => "---:").join("|")}|`,
    ...keys.map((k) =>
      `| ${k.endsWith(" avg") ? `**${k}**` : k} | ${setups.map((s) => cell(s, k)).join(" | ")} |`
    ),
  ].join("\n");
}
