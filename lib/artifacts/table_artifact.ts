import { join } from "node:path";
import { kitConfig } from "../config/kit_config.ts";
import { KitError } from "../util/kit_error.ts";
import { atomicWriteFile, atomicWriteJson } from "../util/atomic_write.ts";
import { collectProvenance, type Provenance } from "./provenance.ts";
import { tableCsv } from "./csv_writer.ts";
import {
  type ColumnFormats,
  renderHtmlTable,
  renderLatexTable,
  renderMarkdownTable,
  type Row,
} from "./table_render.ts";

/** What a notebook or CLI passes to write a table. */
export interface TableSpec {
  /** Artifact ID (README, "What you get"): `K-T1`, `D-T3`, `DATA-T1`, `MT-T1`, `CLAIMS`, … */
  id: string;
  title: string;
  /** Rows as objects. */
  rows: Row[];
  /** Column order (default: the first row's keys). */
  columns?: string[];
  /** Digits per numeric column in the rendered forms (the JSON keeps full precision). */
  formats?: ColumnFormats;
  caption?: string;
  seeds?: Record<string, number>;
  /** Extra input checksums (e.g. a built dataset's manifest sha256). */
  inputs?: Record<string, string>;
  /** Free-form notes printed under the table (e.g. how this profile differs from the paper). */
  notes?: string[];
  /** Output folder (default `kitConfig().artifactDir`). */
  outDir?: string;
  /**
   * Which rows the notebook cell shows (the files always hold every row): the first N, or those
   * a predicate keeps; default all. The display then says how many rows the files hold.
   */
  displayRows?: number | ((row: Row) => boolean);
}

/** A written table: its data, where it went, and a rich display for Jupyter. */
export interface TableArtifact {
  kind: "table";
  id: string;
  title: string;
  columns: string[];
  rows: Row[];
  provenance: Provenance;
  files: string[];
  markdown: string;
}

const ID_PATTERN = /^[A-Z]+(-[A-Z0-9]+)*$/;

export function checkArtifactId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new KitError(
      `artifact id "${id}": expected upper-case words joined by '-', e.g. D-T3, DATA-T1, CLAIMS`,
    );
  }
}

/**
 * Writes a table artifact to `<dir>/<id>.json` (data + provenance) and renders it to `.md`, `.tex`
 * and `.csv`, each atomically. Returns an object that displays itself as a table in Jupyter.
 */
export async function writeTableArtifact(spec: TableSpec): Promise<TableArtifact> {
  checkArtifactId(spec.id);
  const rows = spec.rows;
  const columns = spec.columns ?? Object.keys(rows[0] ?? {});
  for (const [i, r] of rows.entries()) {
    for (const c of columns) {
      if (!(c in r)) throw new KitError(`table ${spec.id} row ${i}: missing column "${c}"`);
    }
  }
  const dir = spec.outDir ?? kitConfig().artifactDir;
  const provenance = collectProvenance({ seeds: spec.seeds, inputs: spec.inputs });
  const formats = spec.formats ?? {};
  const notes = spec.notes ?? [];
  const md = [
    `### ${spec.id}: ${spec.title}`,
    "",
    ...(spec.caption ? [spec.caption, ""] : []),
    renderMarkdownTable(columns, rows, formats),
    ...notes.map((n) => `> ${n}\n`),
    `<sub>${provenance.signature}</sub>`,
    "",
  ].join("\n");
  const csv = tableCsv(columns, rows);
  const base = join(dir, spec.id);
  const json = {
    id: spec.id,
    kind: "table",
    title: spec.title,
    caption: spec.caption ?? null,
    notes,
    columns,
    formats,
    rows,
    provenance,
  };
  await atomicWriteJson(`${base}.json`, json);
  await atomicWriteFile(`${base}.md`, md);
  await atomicWriteFile(
    `${base}.tex`,
    renderLatexTable(spec.id, spec.title, columns, rows, formats),
  );
  await atomicWriteFile(`${base}.csv`, csv);
  const shown = spec.displayRows === undefined
    ? rows
    : typeof spec.displayRows === "number"
    ? rows.slice(0, spec.displayRows)
    : rows.filter(spec.displayRows);
  const more = shown.length < rows.length
    ? `${shown.length} of ${rows.length} rows shown; every row is in ${spec.id}.csv / ${spec.id}.md.`
    : null;
  const html = renderHtmlTable(columns, shown, formats);
  const displayMd = more === null ? md : [
    `### ${spec.id}: ${spec.title}`,
    "",
    ...(spec.caption ? [spec.caption, ""] : []),
    renderMarkdownTable(columns, shown, formats),
    `> ${more}\n`,
    ...notes.map((n) => `> ${n}\n`),
    `<sub>${provenance.signature}</sub>`,
    "",
  ].join("\n");
  return {
    kind: "table",
    id: spec.id,
    title: spec.title,
    columns,
    rows,
    provenance,
    files: [".json", ".md", ".tex", ".csv"].map((e) => `${base}${e}`),
    markdown: md,
    [Symbol.for("Jupyter.display")]() {
      return {
        "text/markdown": displayMd,
        "text/html": `<h4>${spec.id}: ${spec.title}</h4>${html}${
          more === null ? "" : `<p>${more}</p>`
        }<p><sub>${provenance.signature}</sub></p>`,
        "text/plain": displayMd,
      };
    },
  } as TableArtifact;
}
