import type { PairedBootstrapResult } from "./paired_bootstrap.ts";

/** One named comparison for {@link pairedResultsMarkdown}. */
export interface NamedPairedResult {
  comparison: string;
  result: PairedBootstrapResult;
}

/** Percentage points with one decimal, never "-0.0". */
const pts = (x: number) => (Math.abs(100 * x) < 0.05 ? 0 : 100 * x).toFixed(1);

/**
 * A Markdown table of paired bootstrap comparisons: A, B, difference A − B in points, its
 * percentile interval and the two-sided p-value.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedResultsMarkdown } from "./paired_results_table.ts";
 * const r = { a: 0.6, b: 0.5, difference: 0.1, low: 0.05, high: 0.15, level: 0.95, pValue: 0.002, resamples: 1000, used: 1000, seed: 1 };
 * assert(pairedResultsMarkdown([{ comparison: "x", result: r }]).includes("+10.0"));
 * ```
 */
export function pairedResultsMarkdown(rows: readonly NamedPairedResult[]): string {
  const head =
    "| comparison | A | B | A − B (points) | 95% CI | p |\n|---|---:|---:|---:|---|---:|";
  const body = rows.map(({ comparison, result: r }) =>
    `| ${comparison} | ${pts(r.a)}% | ${pts(r.b)}% | ${r.difference >= 0 ? "+" : ""}${
      pts(r.difference)
    } | [${pts(r.low)}, ${pts(r.high)}] | ${r.pValue < 0.001 ? "< 0.001" : r.pValue.toFixed(3)} |`
  );
  const r0 = rows[0]?.result;
  const foot = r0
    ? `\n\nPaired percentile bootstrap over the same resampled units (${r0.resamples} resamples, seed ${r0.seed}); p = share of null-shifted resampled differences at least as large as the observed one (two-sided).`
    : "";
  return [head, ...body].join("\n") + foot;
}
