import { KitError } from "../util/kit_error.ts";

/** A Jupyter output (nbformat 4), as the kit's runner saves them. */
export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** A Jupyter cell (nbformat 4). */
export interface NotebookCell {
  cell_type: string;
  id?: string;
  source: string | string[];
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
}

/** Joins nbformat's "multiline string" (a string or a list of lines). */
export function joinText(x: unknown): string {
  if (typeof x === "string") return x;
  if (Array.isArray(x)) return x.map((s) => String(s)).join("");
  return x === undefined || x === null ? "" : JSON.stringify(x);
}

/** Removes ANSI colour codes (the Deno kernel colours its text/plain results). */
export function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

/** Parses an executed notebook, with a KitError naming the file when it is not one. */
export function parseNotebook(text: string, path: string): Notebook {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KitError(`${path}: not valid JSON (${err instanceof Error ? err.message : err})`);
  }
  const nb = json as Partial<Notebook> | null;
  if (typeof nb !== "object" || nb === null || !Array.isArray(nb.cells)) {
    throw new KitError(`${path}: expected a Jupyter notebook (an object with a "cells" array)`);
  }
  nb.cells.forEach((c, i) => {
    if (typeof c !== "object" || c === null || typeof c.cell_type !== "string") {
      throw new KitError(`${path}: cells[${i}]: expected a cell with a "cell_type"`);
    }
  });
  return nb as Notebook;
}

/** The notebook's title: its first Markdown heading, else the file name. */
export function notebookTitle(nb: Notebook, fallback: string): string {
  for (const c of nb.cells) {
    if (c.cell_type !== "markdown") continue;
    const m = /^\s*#{1,6}\s+(.+?)\s*#*\s*$/m.exec(joinText(c.source));
    if (m) return m[1]!;
  }
  return fallback;
}

const ID = "[A-Z]+(?:-[A-Z0-9]+)*";

/**
 * Artifact ids a cell refers to, by strength: `output` (its outputs display the artifact: a
 * "### ID: …" Markdown heading, an "ID: …" text line, an `<h4>ID: …` title), `code` (its
 * source passes `id: "ID"`), `markdown` (a Markdown cell's heading names it).
 */
export function cellArtifactIds(
  cell: NotebookCell,
): { output: string[]; code: string[]; markdown: string[] } {
  const src = joinText(cell.source);
  const uniq = (xs: string[]) => [...new Set(xs)];
  if (cell.cell_type === "markdown") {
    return {
      output: [],
      code: [],
      markdown: uniq(
        [...src.matchAll(new RegExp(`^\\s*#{1,6}\\s+(${ID}):`, "gm"))].map((m) => m[1]!),
      ),
    };
  }
  const code = uniq(
    [...src.matchAll(new RegExp(`\\bid:\\s*["'\`](${ID})["'\`]`, "g"))].map((m) => m[1]!),
  );
  const output: string[] = [];
  for (const o of cell.outputs ?? []) {
    const d = o.data ?? {};
    const md = joinText(d["text/markdown"]);
    const plain = stripAnsi(joinText(d["text/plain"]));
    const html = joinText(d["text/html"]);
    for (const m of md.matchAll(new RegExp(`^#{1,6}\\s+(${ID}):`, "gm"))) output.push(m[1]!);
    for (const m of html.matchAll(new RegExp(`<h[1-6]>(${ID}):`, "g"))) output.push(m[1]!);
    if (d["application/vnd.plotly.v1+json"]) {
      const m = new RegExp(`^(${ID}):`).exec(plain);
      if (m) output.push(m[1]!);
    }
  }
  return { output: uniq(output), code, markdown: [] };
}
