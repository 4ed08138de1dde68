import { escapeHtml } from "../util/escape_html.ts";
import {
  type ColumnFormats,
  renderHtmlTable,
  renderMarkdownTable,
  type Row,
} from "./table_render.ts";

/** A small result table shown in a notebook (no files written): e.g. a "try it" experiment. */
export interface DisplayTable {
  title: string;
  columns: string[];
  rows: Row[];
  notes: string[];
  /** The table as GitHub-flavoured Markdown, title and notes included. */
  markdown: string;
}

/**
 * A table for a notebook cell's output, not an artifact: Jupyter shows it as HTML (or Markdown,
 * or plain text) when the cell ends with it or passes it to `Deno.jupyter.display`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { displayTable } from "./display_table.ts";
 * const t = displayTable("demo", ["a"], [{ a: 1.2345 }], { a: 2 });
 * assert(t.markdown.includes("1.23"));
 * ```
 */
export function displayTable(
  title: string,
  columns: string[],
  rows: Row[],
  formats: ColumnFormats = {},
  notes: string[] = [],
): DisplayTable {
  const md = renderMarkdownTable(columns, rows, formats);
  const markdown = [`**${title}**`, "", md, ...notes.map((n) => `- ${n}`)].join("\n");
  const notesHtml = notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  return {
    title,
    columns,
    rows,
    notes,
    markdown,
    [Symbol.for("Jupyter.display")]() {
      return {
        "text/markdown": markdown,
        "text/html": `<h4>${escapeHtml(title)}</h4>${renderHtmlTable(columns, rows, formats)}${
          notes.length > 0 ? `<ul>${notesHtml}</ul>` : ""
        }`,
        "text/plain": markdown,
      };
    },
  } as DisplayTable;
}
