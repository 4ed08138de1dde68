import { KitError } from "../util/kit_error.ts";
import { citationProblem } from "./paper_citation.ts";

/**
 * The two papers the kit reproduces (README, "Sources"): K = Krasner et al., ACL 2025
 * (arXiv:2505.13628), D = Di Iorio 2026 (LaTeX source: mattiadri/crosslingual-contrastive@e2a8979).
 */
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
  /**
   * Where the number is printed, as a reader can follow it: the paper's table with its arXiv id
   * (K), or the authors' LaTeX file and line at a pinned commit (D); row, column and the printed
   * text (`citationProblem` says what is missing).
   */
  source: string;
  /**
   * true: the number was not checked against the paper itself; it comes from a third-party
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
  /** Where the values were read, as a reader can follow it (arXiv id, or a pinned file). */
  sourceFile: string;
  notes: string[];
  values: PublishedValue[];
}

const UNITS: readonly PublishedUnit[] = ["fraction", "percent", "raw"];

/**
 * Checks a parsed published-values file: every entry complete and well-typed, every source one
 * a reader can follow (`citationProblem`) naming the value's table, no key twice. Throws a
 * KitError naming the file, the entry index and the field.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePublishedFile } from "./published_value.ts";
 * const value = {
 *   paper: "K",
 *   table: "Table 1",
 *   row: "eng-only",
 *   column: "all",
 *   value: 18.3,
 *   decimals: 1,
 *   unit: "percent",
 *   source: "[K] Table 1, arXiv:2505.13628: Eng-Only, all languages, 18.3",
 * };
 * const file = { paper: "K", citation: "c", sourceFile: "arXiv:2505.13628", notes: [] };
 * assert.equal(validatePublishedFile({ ...file, values: [value] }, "k.json").values.length, 1);
 * const unfollowable = { ...value, source: "papers/000_8f92a1ef6a7f1a65.txt line 33" };
 * assert.throws(
 *   () => validatePublishedFile({ ...file, values: [unfollowable] }, "k.json"),
 *   /k\.json: values\[0\]\.source: "papers\/000_…" is a file outside the repository/,
 * );
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
  const fileProblem = citationProblem(o.sourceFile as string);
  if (fileProblem) fail(`"sourceFile": ${fileProblem}`);
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
    // every value names a source a reader can follow (the paper's table with its arXiv id, or
    // the authors' file at a pinned commit) and its table; a secondary-source value says so
    const source = v.source as string;
    if (v.secondarySource === true && !/secondary source/i.test(source)) {
      fail(`${at}.source: a secondary-source value must say "secondary source"`);
    }
    const problem = citationProblem(source);
    if (problem) fail(`${at}.source: ${problem}`);
    if (!source.includes(`[${o.paper}] ${v.table}`)) {
      fail(`${at}.source: expected the table it is printed in, "[${o.paper}] ${v.table}"`);
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
