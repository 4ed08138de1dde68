/**
 * A qualitative claim of a paper, decided on this run's numbers (lib/claims' `ClaimRow` is one):
 * the verdict comes from the interval of the difference the claim rests on.
 */
export interface ClaimCheck {
  id: string;
  claim: string;
  /** The numbers the verdict rests on, in words (the difference with its interval). */
  values: string;
  verdict: "holds" | "does not hold" | "inconclusive" | "not measurable";
  /** Rule, threshold, significance. */
  note: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A fraction as a percentage with one decimal (`0.557` → `55.7%`). */
export function formatPercent(x: number): string {
  return pct(x);
}

/**
 * Markdown lines "**holds** — claim (values; note)" for a notebook.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimChecksMarkdown } from "./claim_check.ts";
 * const md = claimChecksMarkdown([{ id: "K1a", claim: "A < B", values: "1% vs 2%", verdict: "holds", note: "" }]);
 * assert(md.includes("**holds**"));
 * ```
 */
export function claimChecksMarkdown(checks: readonly ClaimCheck[]): string {
  return checks.map((c) =>
    `- ${c.id} **${c.verdict}** — ${c.claim}: ${c.values}${c.note ? ` (${c.note})` : ""}`
  ).join("\n");
}
