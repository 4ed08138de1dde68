/** The three NLI classes; the index is the class id used by the kit's classifiers (MultiNLI order). */
export const NLI_LABELS = ["entailment", "neutral", "contradiction"] as const;
export type NliLabel = (typeof NLI_LABELS)[number];

/** One premise–hypothesis pair. */
export interface NliExample {
  premise: string;
  hypothesis: string;
  label: NliLabel;
  /** Language code as the source writes it (`en`, `quy`, ...). */
  language: string;
  /** The source's id (XNLI/MultiNLI `pairID`, AmericasNLI `id`), or the line number. */
  id: string;
  /** MultiNLI/XNLI genre where given. */
  genre?: string;
}

/**
 * Reads a label as written by XNLI, XTREME, MultiNLI or AmericasNLI (`contradictory` is
 * XTREME's spelling of contradiction); null for anything else (e.g. MultiNLI's `-`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNliLabel } from "./nli_example.ts";
 * assert(parseNliLabel("contradictory") === "contradiction");
 * assert(parseNliLabel("-") === null);
 * ```
 */
export function parseNliLabel(raw: string): NliLabel | null {
  const s = raw.trim().toLowerCase();
  if (s === "entailment" || s === "neutral" || s === "contradiction") return s;
  if (s === "contradictory") return "contradiction";
  return null;
}

/** The class id (0 entailment, 1 neutral, 2 contradiction) of a label. */
export function nliLabelId(label: NliLabel): number {
  return NLI_LABELS.indexOf(label);
}
