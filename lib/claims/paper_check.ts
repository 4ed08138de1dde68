import { KitError } from "../util/kit_error.ts";
import type { PublishedValue } from "../paper/published_value.ts";
import { publishedValues } from "../paper/published_values.ts";
import { publishedProvenance } from "../paper/published_value.ts";
import { publishedTolerance } from "../paper/tolerance.ts";
import type { ArtifactStore } from "./artifact_store.ts";

/** One row of the PAPER-CHECK artifact: a published number beside the regenerated one. */
export interface PaperCheckRow {
  [key: string]: string | number | boolean | null;
  paper: string;
  table: string;
  row: string;
  column: string;
  published: number;
  /** The published std, or null where the paper gives none. */
  std: number | null;
  /** `K Table 1`, or `K Table 1 (secondary source)` for a number not in the source documents. */
  source: string;
  /** The std or the stated default (lib/paper `publishedTolerance`). */
  tolerance: number;
  /** In the published unit (K: percent; the K artifacts' fractions are multiplied by 100). */
  regenerated: number | null;
  diff: number | null;
  within: boolean | null;
}

/** Where a published number's regenerated counterpart lives in the artifacts. */
export function regeneratedLocation(
  v: PublishedValue,
): { artifact: string; where: Record<string, string>; field: string; scale: number } {
  if (v.paper === "K" && v.table === "Table 1") {
    return {
      artifact: "K-T1",
      where: { setup: v.row, group: v.column, score: "cosine" },
      field: "mean",
      scale: 100,
    };
  }
  if (v.paper === "K" && v.table === "Table 2") {
    return {
      artifact: "K-T2",
      where: { setup: v.row, dataset: "xnli", lang: v.column },
      field: "accuracy",
      scale: 100,
    };
  }
  if (v.paper === "D") {
    const n = v.table.replace("Table ", "");
    if (["1", "3", "5"].includes(n)) {
      return { artifact: `D-T${n}`, where: { metric: v.row }, field: `${v.column}_mean`, scale: 1 };
    }
    if (["2", "4"].includes(n)) {
      return { artifact: `D-T${n}`, where: { lang: v.row }, field: v.column, scale: 1 };
    }
    if (n === "6") {
      return {
        artifact: "D-T6",
        where: { diagnostic: v.row },
        field: `${v.column}_mean`,
        scale: 1,
      };
    }
  }
  throw new KitError(
    `no artifact known for paper ${v.paper} ${v.table} (lib/claims/paper_check.ts)`,
  );
}

/** The artifacts the paper check reads. */
export const PAPER_CHECK_ARTIFACTS = [
  "K-T1",
  "K-T2",
  "D-T1",
  "D-T2",
  "D-T3",
  "D-T4",
  "D-T5",
  "D-T6",
];

/**
 * Every published number (lib/paper) against the regenerated one: `within` is |diff| ≤ the
 * published std (or the stated default tolerance); `regenerated` is null where this run has no
 * such artifact or row. An invalid artifact throws a KitError.
 */
export function paperCheckRows(store: ArtifactStore): PaperCheckRow[] {
  return publishedValues().map((v) => {
    const loc = regeneratedLocation(v);
    const tol = publishedTolerance(v);
    const base = {
      paper: v.paper,
      table: v.table,
      row: v.row,
      column: v.column,
      published: v.value,
      std: v.std ?? null,
      source: publishedProvenance(v),
      tolerance: tol,
    };
    const t = store.get(loc.artifact);
    const hits = t
      ? t.rows.filter((r) => Object.entries(loc.where).every(([k, x]) => r[k] === x))
      : [];
    if (!t || hits.length === 0 || hits[0]![loc.field] === null) {
      return { ...base, regenerated: null, diff: null, within: null };
    }
    if (hits.length > 1) {
      throw new KitError(
        `${t.path}: ${hits.length} rows with ${JSON.stringify(loc.where)}; expected one`,
      );
    }
    const x = hits[0]![loc.field];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new KitError(
        `${t.path}: row ${JSON.stringify(loc.where)}: "${loc.field}" expected a number, got ${
          JSON.stringify(x)
        }`,
      );
    }
    const regenerated = x * loc.scale;
    const diff = regenerated - v.value;
    return { ...base, regenerated, diff, within: Math.abs(diff) <= tol + 1e-12 };
  });
}
