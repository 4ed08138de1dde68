/** One published number beside the kit's. */
export interface PaperComparisonRow {
  /** What is compared (setup and group / language). */
  item: string;
  /** Published value (fraction). */
  paper: number;
  /** This run's value (fraction) and its bootstrap interval. */
  kit: number;
  low: number;
  high: number;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * A Markdown table: the published value (paper K, its models and data) beside this run's, with
 * the run's profile in the header, so nobody mistakes a mini number for a reproduction of the
 * paper's.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { paperComparisonMarkdown } from "./paper_comparison.ts";
 * const md = paperComparisonMarkdown([{ item: "Eng-Only, all", paper: 0.183, kit: 0.2, low: 0.1, high: 0.3 }], "mini");
 * assert(md.includes("18.3%") && md.includes("kit (mini)"));
 * ```
 */
export function paperComparisonMarkdown(
  rows: readonly PaperComparisonRow[],
  profile: string,
): string {
  const head = `| | paper K (published) | kit (${profile}) | 95% CI (kit) |\n|---|---:|---:|---|`;
  return [
    head,
    ...rows.map((r) =>
      `| ${r.item} | ${pct(r.paper)} | ${pct(r.kit)} | [${pct(r.low)}, ${pct(r.high)}] |`
    ),
  ].join("\n");
}
