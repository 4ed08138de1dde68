import { KitError } from "../util/kit_error.ts";
import type { CellSource } from "./notebook_json.ts";

/** The line that opens a code cell in a percent-format source. */
export const CODE_CELL_MARKER = "// %%";
/** The line that opens a markdown cell in a percent-format source. */
export const MARKDOWN_CELL_MARKER = "// %% [markdown]";

/** A percent-format source that cannot be read as cells: the file, the 1-based line and why. */
export class PercentSourceError extends KitError {
  constructor(readonly path: string, readonly line: number, readonly reason: string) {
    super(`${path}:${line}: ${reason}`);
    this.name = "PercentSourceError";
  }
}

/**
 * The cells of a notebook written as a percent-format TypeScript module (the jupytext "percent"
 * format, as VS Code and Jupytext read it): a line `// %%` opens a code cell whose lines are the
 * code as written; a line `// %% [markdown]` opens a markdown cell whose lines are `// ` followed by
 * the Markdown (a bare `//` is an empty line). Everything before the first marker is the module's
 * preamble (a header comment, a `/// <reference>`), not part of the notebook. Blank lines at the
 * start and end of a cell separate cells in the source and are dropped; the lines in between are
 * kept exactly. A markdown line without its `// ` prefix, an empty cell or a marker with another
 * cell type is a {@link PercentSourceError} naming `path` and the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentNotebookCells } from "./percent_notebook.ts";
 *
 * const source = [
 *   "// the preamble is not a cell",
 *   "// %% [markdown]",
 *   "// # Title",
 *   "//",
 *   "// Prose.",
 *   "",
 *   "// %%",
 *   "const x = 1 + 1;",
 *   "console.log(x);",
 *   "",
 * ].join("\n");
 * assert.deepEqual(percentNotebookCells(source, "demo.ts"), [
 *   { md: "# Title\n\nProse." },
 *   { code: "const x = 1 + 1;\nconsole.log(x);" },
 * ]);
 * ```
 */
export function percentNotebookCells(text: string, path: string): CellSource[] {
  const cells: CellSource[] = [];
  // the open cell's lines with their 1-based line numbers; `null` text: a blank line in prose
  let open:
    | { kind: "md" | "code"; line: number; body: { text: string | null; line: number }[] }
    | null = null;
  const close = () => {
    if (!open) return;
    const kind = open.kind;
    const blank = (l: { text: string | null } | undefined) =>
      l !== undefined && (l.text === null || (kind === "code" && l.text.trim() === ""));
    const body = open.body;
    while (blank(body[0])) body.shift();
    while (blank(body[body.length - 1])) body.pop();
    if (body.length === 0) throw new PercentSourceError(path, open.line, "empty cell");
    const gap = body.find((l) => l.text === null);
    if (gap) {
      throw new PercentSourceError(
        path,
        gap.line,
        'a blank line inside a markdown cell: write "//" for an empty line of prose',
      );
    }
    const joined = body.map((l) => l.text).join("\n");
    cells.push(kind === "md" ? { md: joined } : { code: joined });
  };
  text.split("\n").forEach((line, i) => {
    const lineNo = i + 1;
    if (line.startsWith(CODE_CELL_MARKER)) {
      const rest = line.slice(CODE_CELL_MARKER.length).trim();
      if (rest !== "" && line !== MARKDOWN_CELL_MARKER) {
        throw new PercentSourceError(
          path,
          lineNo,
          `expected "${CODE_CELL_MARKER}" or "${MARKDOWN_CELL_MARKER}", got "${line}"`,
        );
      }
      close();
      open = { kind: rest === "" ? "code" : "md", line: lineNo, body: [] };
      return;
    }
    if (!open) return; // the preamble
    if (open.kind === "code") {
      open.body.push({ text: line, line: lineNo });
    } else if (line === "//") {
      open.body.push({ text: "", line: lineNo });
    } else if (line.trim() === "") {
      open.body.push({ text: null, line: lineNo });
    } else if (line.startsWith("// ")) {
      open.body.push({ text: line.slice(3), line: lineNo });
    } else {
      throw new PercentSourceError(
        path,
        lineNo,
        `a markdown cell's lines start with "// " (or are "//" for an empty line), got "${line}"`,
      );
    }
  });
  close();
  return cells;
}

/**
 * The percent-format source of `cells` — the inverse of {@link percentNotebookCells}: `preamble`
 * (lines before the first cell), then each cell as its marker and lines, cells separated by one
 * blank line. Markdown lines are written `// line` (`//` when empty).
 */
export function percentNotebookSource(cells: CellSource[], preamble = ""): string {
  const parts = cells.map((c) =>
    "md" in c
      ? [MARKDOWN_CELL_MARKER, ...c.md.split("\n").map((l) => (l === "" ? "//" : `// ${l}`))].join(
        "\n",
      )
      : `${CODE_CELL_MARKER}\n${c.code}`
  );
  return (preamble ? `${preamble.trimEnd()}\n\n` : "") + parts.join("\n\n") + "\n";
}
