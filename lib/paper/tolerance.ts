import type { PublishedUnit, PublishedValue } from "./published_value.ts";

/**
 * The tolerance used where a paper publishes no std: D's per-language Tables 2 and 4 (fractions)
 * get ±0.01 (about 1.5× the std D reports for its macro averages); K's percentages (one training
 * run, no std) get ±2.0 points; a raw quantity gets ±5 % of its value.
 */
export const DEFAULT_TOLERANCE: Readonly<Record<PublishedUnit, string>> = {
  fraction: "±0.01 (absolute)",
  percent: "±2.0 percentage points",
  raw: "±5% of the published value",
};

/**
 * How far a regenerated number may lie from a published one and still count as reproduced: the
 * published std (one std over folds) when the paper gives one, otherwise the stated default
 * (`DEFAULT_TOLERANCE`). In the published value's unit.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedTolerance } from "./tolerance.ts";
 * const v = { paper: "D", table: "Table 2", row: "en", column: "r1_mlp", value: 0.6275, decimals: 4,
 *   unit: "fraction", source: "s" } as const;
 * assert(publishedTolerance(v) === 0.01);
 * ```
 */
export function publishedTolerance(v: PublishedValue): number {
  if (v.std !== undefined) return v.std;
  switch (v.unit) {
    case "fraction":
      return 0.01;
    case "percent":
      return 2.0;
    case "raw":
      return 0.05 * Math.abs(v.value);
  }
}

/** Where the tolerance of `v` comes from, in words ("published std" or the default). */
export function toleranceSource(v: PublishedValue): string {
  return v.std !== undefined ? "published std" : `default ${DEFAULT_TOLERANCE[v.unit]}`;
}
