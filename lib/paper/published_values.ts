import kJson from "../../data/paper/k_published.json" with { type: "json" };
import dJson from "../../data/paper/d_published.json" with { type: "json" };
import { KitError } from "../util/kit_error.ts";
import {
  type PaperId,
  type PublishedFile,
  type PublishedValue,
  validatePublishedFile,
} from "./published_value.ts";

/** Paths (relative to the project root) of the published-values files. */
export const PUBLISHED_FILES: Readonly<Record<PaperId, string>> = {
  K: "data/paper/k_published.json",
  D: "data/paper/d_published.json",
};

let cache: Record<PaperId, PublishedFile> | null = null;

/** Both papers' published-values files, validated once. */
export function publishedFiles(): Record<PaperId, PublishedFile> {
  cache ??= {
    K: validatePublishedFile(kJson, PUBLISHED_FILES.K),
    D: validatePublishedFile(dJson, PUBLISHED_FILES.D),
  };
  return cache;
}

/** Which published values to list; every given field must match. */
export interface PublishedFilter {
  paper?: PaperId;
  table?: string;
  row?: string;
  column?: string;
}

/**
 * The published numbers matching `filter` (all of them when empty), in file order (K first).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedValues } from "./published_values.ts";
 * assert(publishedValues({ paper: "D", table: "Table 1" }).length === 12);
 * ```
 */
export function publishedValues(filter: PublishedFilter = {}): PublishedValue[] {
  const files = publishedFiles();
  return [...files.K.values, ...files.D.values].filter((v) =>
    (filter.paper === undefined || v.paper === filter.paper) &&
    (filter.table === undefined || v.table === filter.table) &&
    (filter.row === undefined || v.row === filter.row) &&
    (filter.column === undefined || v.column === filter.column)
  );
}

/**
 * The one published number at (paper, table, row, column); throws a KitError naming the key
 * (and the rows/columns that table has) when there is none.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedValue } from "./published_values.ts";
 * assert(publishedValue("D", "Table 1", "R@1", "identity").value === 0.4735);
 * ```
 */
export function publishedValue(
  paper: PaperId,
  table: string,
  row: string,
  column: string,
): PublishedValue {
  const hit = publishedValues({ paper, table, row, column });
  if (hit[0]) return hit[0];
  const inTable = publishedValues({ paper, table });
  const uniq = (xs: string[]) => [...new Set(xs)].join(", ");
  throw new KitError(
    `no published value for paper ${paper}, ${table}, row "${row}", column "${column}" (${
      PUBLISHED_FILES[paper]
    })`,
    inTable.length === 0
      ? [`paper ${paper} has tables: ${uniq(publishedValues({ paper }).map((v) => v.table))}`]
      : [
        `${table} rows: ${uniq(inTable.map((v) => v.row))}`,
        `${table} columns: ${uniq(inTable.map((v) => v.column))}`,
      ],
  );
}
