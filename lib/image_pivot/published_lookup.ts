import { formatPublished } from "../paper/format_published.ts";
import { publishedValues } from "../paper/published_values.ts";
import type { PublishedLookup } from "./image_pivot_tables.ts";

/** Artifact id → the paper's table name. */
const D_TABLE_OF: Readonly<Record<string, string>> = {
  "D-T1": "Table 1",
  "D-T2": "Table 2",
  "D-T3": "Table 3",
  "D-T4": "Table 4",
  "D-T5": "Table 5",
  "D-T6": "Table 6",
};

/**
 * Paper D's published numbers (data/paper/d_published.json) as a lookup for
 * `imagePivotTables`: ("D-T1", "R@1", "identity") → "0.4735 ± 0.0077", null when the paper has no
 * such cell.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedLookupForD } from "./published_lookup.ts";
 * assert(publishedLookupForD()("D-T1", "R@1", "identity") === "0.4735 ± 0.0077");
 * ```
 */
export function publishedLookupForD(): PublishedLookup {
  return (table, row, head) => {
    const t = D_TABLE_OF[table];
    if (!t) return null;
    const hit = publishedValues({ paper: "D", table: t, row, column: head })[0];
    return hit ? formatPublished(hit) : null;
  };
}
