import { KitError } from "../util/kit_error.ts";

/** The two papers the kit reproduces (README, "Sources"): K = Krasner et al. 2025 (arXiv:2505.13628), D = Di Iorio 2026. */
export type PaperId = "K" | "D";

/**
 * How a published number is expressed: `fraction` in [0, 1] (D's retrieval metrics), `percent`
 * (K's accuracies), or `raw` for quantities that are neither (effective rank, component counts,
 * entropy in nats, skewness, cosine and correlation means).
 */
export type PublishedUnit = "fraction" | "percent" | "raw";

/** One number printed in a paper's table, with where it was read. */
export interface PublishedValue {
  paper: PaperId;
  /** "Table 1" … as the paper names it. */
  table: string;
  /** The kit's key for the row: a metric ("R@1"), language, setup id or diagnostic key. */
  row: string;
  /** The kit's key for the column: a head ("identity"), a D-T2 column, a K language group … */
  column: string;
  value: number;
  /** The published std (over folds), when the paper gives one. */
  std?: number;
  /** Digits after the point as printed (so 0.660 prints as 0.660). */
  decimals: number;
  unit: PublishedUnit;
  /** The row and column as the paper labels them. */
  rowLabel?: string;
  columnLabel?: string;
  /** Where the number was read: file, line, table, row, column, and the printed text. */
  source: string;
  /**
   * true: the number is not in the source documents (`papers/`); it comes from a third-party
   * listing of the paper. Shown flagged "secondary source" wherever the kit shows it.
   */
  secondarySource?: boolean;
}

/**
 * How a published value's provenance is shown next to it: its table (`K Table 1`), or
 * `K Table 1 (secondary source)` for a number that is not in the source documents.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishedProvenance } from "./published_value.ts";
 * const value = { paper: "K" as const, table: "Table 2", secondarySource: true };
 * assert.equal(publishedProvenance(value), "K Table 2 (secondary source)");
 * ```
 */
export function publishedProvenance(
  v: Pick<PublishedValue, "paper" | "table" | "secondarySource">,
): string {
  return `${v.paper} ${v.table}${v.secondarySource ? " (secondary source)" : ""}`;
}

/** A published-values file: `data/paper/<paper>_published.json`. */
export interface PublishedFile {
  paper: PaperId;
  citation: string;
  sourceFile: string;
  notes: string[];
  values: PublishedValue[];
}

const UNITS: readonly PublishedUnit[] = ["fraction", "percent", "raw"];

/**
 * Checks a parsed published-values file: every entry complete and well-typed, no key twice.
 * Throws a KitError naming the file, the entry index and the field.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePublishedFile } from "./published_value.ts";
 * const f = validatePublishedFile({ paper: "K", citation: "c", sourceFile: "s", notes: [], values: [] }, "x.json");
 * assert(f.values.length === 0);
 * ```
 */
export function validatePublishedFile(json: unknown, file: string): PublishedFile {
  const fail = (what: string): never => {
    throw new KitError(`${file}: ${what}`);
  };
  if (typeof json !== "object" || json === null) fail("expected a JSON object");
  const o = json as Record<string, unknown>;
  if (o.paper !== "K" && o.paper !== "D") {
    fail(`"paper": expected "K" or "D", got ${JSON.stringify(o.paper)}`);
  }
  for (const k of ["citation", "sourceFile"]) {
    if (typeof o[k] !== "string" || o[k] === "") fail(`"${k}": expected a non-empty string`);
  }
  if (!Array.isArray(o.notes) || !o.notes.every((n) => typeof n === "string")) {
    fail(`"notes": expected strings`);
  }
  if (!Array.isArray(o.values)) fail(`"values": expected an array`);
  const seen = new Set<string>();
  const values = (o.values as unknown[]).map((raw, i) => {
    const at = `values[${i}]`;
    if (typeof raw !== "object" || raw === null) fail(`${at}: expected an object`);
    const v = raw as Record<string, unknown>;
    if (v.paper !== o.paper) {
      fail(`${at}.paper: expected "${o.paper}", got ${JSON.stringify(v.paper)}`);
    }
    for (const k of ["table", "row", "column", "source"]) {
      if (typeof v[k] !== "string" || (v[k] as string).trim() === "") {
        fail(`${at}.${k}: expected a non-empty string`);
      }
    }
    if (!/^Table \d+$/.test(v.table as string)) {
      fail(`${at}.table: expected "Table N", got ${JSON.stringify(v.table)}`);
    }
    if (typeof v.value !== "number" || !Number.isFinite(v.value)) {
      fail(`${at}.value: expected a finite number`);
    }
    if (v.std !== undefined && (typeof v.std !== "number" || !(v.std >= 0))) {
      fail(`${at}.std: expected a number ≥ 0`);
    }
    if (!Number.isInteger(v.decimals) || (v.decimals as number) < 0) {
      fail(`${at}.decimals: expected an integer ≥ 0`);
    }
    if (!UNITS.includes(v.unit as PublishedUnit)) {
      fail(`${at}.unit: expected one of ${UNITS.join(", ")}`);
    }
    if (v.secondarySource !== undefined && v.secondarySource !== true) {
      fail(`${at}.secondarySource: expected true or absent`);
    }
    // every value names its source: a document of papers/ (file and line), or it is flagged as
    // a secondary source and says so
    if (v.secondarySource === true) {
      if (!/secondary source/i.test(v.source as string)) {
        fail(`${at}.source: a secondary-source value must say "secondary source"`);
      }
    } else if (!/papers\/\d{3}_[0-9a-f]+\.txt/.test(v.source as string)) {
      fail(
        `${at}.source: expected a document of papers/ (e.g. "papers/000_….txt line N"), or "secondarySource": true`,
      );
    }
    for (const k of ["rowLabel", "columnLabel"]) {
      if (v[k] !== undefined && typeof v[k] !== "string") fail(`${at}.${k}: expected a string`);
    }
    const key = `${v.table}/${v.row}/${v.column}`;
    if (seen.has(key)) fail(`${at}: ${key} appears twice`);
    seen.add(key);
    return v as unknown as PublishedValue;
  });
  return { ...(o as unknown as PublishedFile), values };
}
