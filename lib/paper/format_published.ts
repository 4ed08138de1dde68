import type { PublishedValue } from "./published_value.ts";

/**
 * A published number as the paper prints it: `0.4735 ± 0.0077`, `0.660 ± 0.004`, `+0.0256`
 * (deltas keep their sign), `55.7%`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPublished } from "./format_published.ts";
 * const v = { paper: "D", table: "Table 1", row: "R@1", column: "identity", value: 0.4735, std: 0.0077,
 *   decimals: 4, unit: "fraction", source: "s" } as const;
 * assert(formatPublished(v) === "0.4735 ± 0.0077");
 * ```
 */
export function formatPublished(v: PublishedValue): string {
  const sign = /delta/.test(v.column) && v.value > 0 ? "+" : "";
  const num = `${sign}${v.value.toFixed(v.decimals)}${v.unit === "percent" ? "%" : ""}`;
  return v.std === undefined ? num : `${num} ± ${v.std.toFixed(v.decimals)}`;
}
