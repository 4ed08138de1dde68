/** A cell of a notebook being authored: markdown text or TypeScript code. */
export type CellSource = { md: string } | { code: string };

/**
 * Builds `.ipynb` JSON (nbformat 4.5) for the Deno kernel from a list of cells, in nbformat's own
 * layout (sorted keys, one-space indents). Used by tests (throwaway notebooks) and when authoring
 * the kit's notebooks.
 */
export function notebookJson(cells: CellSource[]): string {
  const toLines = (s: string) => s.split("\n").map((l, i, a) => (i < a.length - 1 ? `${l}\n` : l));
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "deno", display_name: "Deno (image-pivot kit)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/x.typescript" },
    },
    cells: cells.map((c, i) =>
      "md" in c
        ? { cell_type: "markdown", id: `cell-${i}`, metadata: {}, source: toLines(c.md) }
        : {
          cell_type: "code",
          id: `cell-${i}`,
          metadata: {},
          execution_count: null,
          outputs: [],
          source: toLines(c.code),
        }
    ),
  };
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

/**
 * A copy of `x` with every object's keys sorted: with one-space indents this is byte for byte
 * what Jupyter writes when it saves a notebook (nbformat's `json.dumps(sort_keys=True, indent=1)`),
 * so a notebook saved from the browser without changes stays the same file.
 */
function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x === null || typeof x !== "object") return x;
  const obj = x as Record<string, unknown>;
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortKeys(obj[k])]));
}
