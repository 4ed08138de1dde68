/** A cell of a notebook being authored: markdown text or TypeScript code. */
export type CellSource = { md: string } | { code: string };

/**
 * Builds `.ipynb` JSON (nbformat 4.5) for the Deno kernel from a list of cells. Used by tests
 * (throwaway notebooks) and when authoring the kit's notebooks.
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
  return JSON.stringify(nb, null, 1) + "\n";
}
