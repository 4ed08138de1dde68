import { join } from "node:path";
import { escapeHtml } from "./markdown.ts";
import { cellArtifactIds, type Notebook, parseNotebook } from "./notebook_format.ts";
import type { ReportResult } from "./build_report.ts";

/**
 * What is wrong with how a run shows its artifacts, one line per artifact of the report's index
 * (empty when all is well): an artifact no notebook cell displays (its linked cell only writes it
 * or names it in a heading), or a report link that does not land on a section showing it (the
 * `#cell-N` section of the page lacks the artifact's `ID:` title, or its table / figure).
 * `notebooksDir` holds the executed notebooks the report was built from.
 */
export async function artifactDisplayProblems(
  report: ReportResult,
  notebooksDir: string,
): Promise<string[]> {
  const notebooks = new Map<string, Notebook>();
  const pages = new Map<string, string>();
  const problems: string[] = [];
  for (const a of report.artifacts) {
    if (!a.cell) {
      problems.push(`${a.id}: no notebook cell shows it`);
      continue;
    }
    const { notebook, cellIndex, anchor } = a.cell;
    if (!notebooks.has(notebook)) {
      const path = join(notebooksDir, notebook);
      notebooks.set(notebook, parseNotebook(await Deno.readTextFile(path), path));
    }
    const cell = notebooks.get(notebook)!.cells[cellIndex];
    if (!cell || !cellArtifactIds(cell).output.includes(a.id)) {
      problems.push(
        `${a.id}: ${notebook} cell ${cellIndex} (the report's link) does not display it ` +
          `(it only writes it or names it)`,
      );
      continue;
    }
    const pagePath = report.pages.find((p) => p.notebook === notebook)?.path;
    if (!pagePath) {
      problems.push(`${a.id}: the report has no page for ${notebook}`);
      continue;
    }
    if (!pages.has(pagePath)) pages.set(pagePath, await Deno.readTextFile(pagePath));
    const html = pages.get(pagePath)!;
    const start = html.indexOf(`id="${anchor}"`);
    const end = start < 0 ? -1 : html.indexOf("</section>", start);
    const section = start < 0 ? "" : html.slice(start, end < 0 ? undefined : end);
    const shows = a.kind === "figure"
      ? /class="plotly-figure"|<img /.test(section)
      : /<table/.test(section);
    if (!section.includes(`${escapeHtml(a.id)}:`) || !shows) {
      problems.push(
        `${a.id}: the report's link ${pagePath.split("/").pop()}#${anchor} does not land on ` +
          `a section showing its ${a.kind === "figure" ? "figure" : "table"}`,
      );
    }
  }
  return problems;
}
