import type { ColumnFormats, Row } from "../artifacts/table_render.ts";
import { TABLE6_ROWS } from "../diagnostics/diagnose_languages.ts";
import type { HeadKind } from "../heads/head.ts";
import { summarizeFolds } from "../retrieval/fold_summary.ts";
import type { RetrievalMetrics } from "../retrieval/rank.ts";
import type { HeadFoldResult, ImagePivotCvResult } from "./image_pivot_cv.ts";

/** One of paper D's tables, ready for `writeTableArtifact`. */
export interface ImagePivotTable {
  id: "D-T1" | "D-T2" | "D-T3" | "D-T4" | "D-T5" | "D-T6";
  title: string;
  caption: string;
  /** Rendered columns (the JSON rows carry more: every mean and std as a number). */
  columns: string[];
  rows: Row[];
  formats: ColumnFormats;
}

/** Published value lookup for the "paper" columns: (table, row, head) → "0.4735 ± 0.0077". */
export type PublishedLookup = (table: string, row: string, head: HeadKind) => string | null;

const HEAD_LABEL: Record<HeadKind, string> = { identity: "Before", linear: "Linear", mlp: "MLP" };
const METRICS: readonly { key: keyof RetrievalMetrics; label: string }[] = [
  { key: "r1", label: "R@1" },
  { key: "r5", label: "R@5" },
  { key: "r10", label: "R@10" },
  { key: "mrr", label: "MRR" },
];

function byHead(result: ImagePivotCvResult, head: HeadKind): HeadFoldResult[] {
  return result.results.filter((r) => r.head === head).sort((a, b) => a.fold - b.fold);
}

function pm(mean: number, std: number, digits: number): string {
  return Number.isNaN(std)
    ? mean.toFixed(digits)
    : `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

function macroTable(
  result: ImagePivotCvResult,
  id: "D-T1" | "D-T3" | "D-T5",
  title: string,
  caption: string,
  pick: (r: HeadFoldResult) => RetrievalMetrics | null,
  published: PublishedLookup | null,
): ImagePivotTable {
  const columns = ["metric", ...result.heads.map((h) => HEAD_LABEL[h])];
  if (published) columns.push(...result.heads.map((h) => `paper ${HEAD_LABEL[h]}`));
  const rows = METRICS.map(({ key, label }) => {
    const row: Row = { metric: label };
    for (const h of result.heads) {
      const values = byHead(result, h).map(pick).filter((m): m is RetrievalMetrics => m !== null)
        .map((m) => m[key]);
      const s = summarizeFolds(values);
      row[`${h}_mean`] = s.mean;
      row[`${h}_std`] = Number.isNaN(s.std) ? null : s.std;
      row[HEAD_LABEL[h]] = pm(s.mean, s.std, 4);
      if (published) row[`paper ${HEAD_LABEL[h]}`] = published(id, label, h) ?? "–";
    }
    return row;
  });
  return { id, title, caption, columns, rows, formats: {} };
}

function perLanguageTable(
  result: ImagePivotCvResult,
  id: "D-T2" | "D-T4",
  title: string,
  caption: string,
  pick: (r: HeadFoldResult, lang: string) => RetrievalMetrics,
): ImagePivotTable {
  const trained = result.heads.filter((h) => h !== "identity");
  const columns = ["lang"];
  for (const m of ["r1", "mrr"] as const) {
    columns.push(...result.heads.map((h) => `${m}_${h}`), ...trained.map((h) => `${m}_delta_${h}`));
  }
  const rows = result.langs.map((lang) => {
    const row: Row = { lang };
    for (const m of ["r1", "mrr"] as const) {
      const mean: Partial<Record<HeadKind, number>> = {};
      for (const h of result.heads) {
        mean[h] = summarizeFolds(byHead(result, h).map((r) => pick(r, lang)[m])).mean;
        row[`${m}_${h}`] = mean[h]!;
      }
      for (const h of trained) row[`${m}_delta_${h}`] = mean[h]! - mean.identity!;
    }
    return row;
  });
  const formats = Object.fromEntries(columns.slice(1).map((c) => [c, 4]));
  return { id, title, caption, columns, rows, formats };
}

/**
 * Paper D's Tables 1–6 from a cross-validation run, in the paper's layouts: macro tables with
 * one row per metric and `mean ± std` (sample std over folds) per head; per-language tables
 * with fold means and deltas w.r.t. the identity head; Table 6 with one row per diagnostic.
 * Every JSON row also holds the numbers (`identity_mean`, `linear_std`, `r1_mlp`, …).
 * `published` adds "paper …" columns beside the macro tables.
 */
export function imagePivotTables(
  result: ImagePivotCvResult,
  published: PublishedLookup | null = null,
): ImagePivotTable[] {
  const k = result.folds.length;
  const cv =
    `${k}-fold CV over ${result.n} items (seed ${result.seed}), ${result.langs.length} languages`;
  const tables: ImagePivotTable[] = [
    macroTable(
      result,
      "D-T1",
      "Multilingual text-to-image retrieval on holdout folds (macro over languages)",
      `Mean ± std over folds, macro-averaged across languages (${cv}).`,
      (r) => r.evaluation.t2iMacro,
      published,
    ),
    perLanguageTable(
      result,
      "D-T2",
      "Per-language text-to-image retrieval on holdout folds",
      `R@1 and MRR per language (mean over folds); deltas w.r.t. the identity head (${cv}).`,
      (r, l) => r.evaluation.t2i[l]!,
    ),
    macroTable(
      result,
      "D-T3",
      "Multilingual image-to-text retrieval on holdout folds (macro over languages)",
      `Mean ± std over folds; queries = images, candidates = that language's captions (${cv}).`,
      (r) => r.evaluation.i2tMacro,
      published,
    ),
    perLanguageTable(
      result,
      "D-T4",
      "Per-language image-to-text retrieval on holdout folds",
      `R@1 and MRR per language (mean over folds); deltas w.r.t. the identity head (${cv}).`,
      (r, l) => r.evaluation.i2t[l]!,
    ),
  ];
  if (result.langs.length > 1) {
    tables.push(macroTable(
      result,
      "D-T5",
      "Cross-lingual caption retrieval via image pivot (macro over ordered language pairs)",
      `Mean ± std over folds; ${
        result.langs.length * (result.langs.length - 1)
      } ordered pairs (${cv}).`,
      (r) => r.evaluation.pivot?.macro ?? null,
      published,
    ));
  }
  if (result.results.every((r) => r.diagnostics !== null)) {
    const columns = ["label", ...result.heads.map((h) => HEAD_LABEL[h])];
    if (published) columns.push(...result.heads.map((h) => `paper ${HEAD_LABEL[h]}`));
    const rows = TABLE6_ROWS.map(({ key, label }) => {
      const row: Row = { diagnostic: key, label };
      const digits = key === "effectiveRank" || key === "pca90" ? 2 : key === "poz" ? 4 : 3;
      for (const h of result.heads) {
        const values = byHead(result, h).map((r) => r.diagnostics![key]);
        if (values.some((v) => Number.isNaN(v))) {
          // The lang-ID probe was switched off (`--no-probe`).
          row[`${h}_mean`] = null;
          row[`${h}_std`] = null;
          row[HEAD_LABEL[h]] = "not run";
          if (published) row[`paper ${HEAD_LABEL[h]}`] = published("D-T6", key, h) ?? "–";
          continue;
        }
        const s = summarizeFolds(values);
        row[`${h}_mean`] = s.mean;
        row[`${h}_std`] = Number.isNaN(s.std) ? null : s.std;
        row[HEAD_LABEL[h]] = pm(s.mean, s.std, digits);
        if (published) row[`paper ${HEAD_LABEL[h]}`] = published("D-T6", key, h) ?? "–";
      }
      return row;
    });
    tables.push({
      id: "D-T6",
      title: "Representation diagnostics on holdout folds (macro over languages)",
      caption: `Mean ± std over folds; per language then macro-averaged; pairwise ones over the ${
        result.langs.length * (result.langs.length - 1) / 2
      } language pairs (${cv}).`,
      columns,
      rows,
      formats: {},
    });
  }
  return tables;
}
