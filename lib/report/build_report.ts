import { basename, join, relative } from "node:path";
import { ensurePlotlyBeside } from "../artifacts/figure_artifact.ts";
import { PLOTLY_FILE } from "../artifacts/chromium_renderer.ts";
import { kitConfig } from "../config/kit_config.ts";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { escapeHtml, renderMarkdown } from "./markdown.ts";
import {
  cellArtifactIds,
  joinText,
  type Notebook,
  notebookTitle,
  parseNotebook,
} from "./notebook_format.ts";
import { PlotCounter, renderOutput } from "./render_output.ts";
import { pageHtml, PLOT_LOADER } from "./page_layout.ts";
import { type Deviation, DEVIATIONS } from "../deviations/mod.ts";

/** The papers' artifacts first (README, "What you get"), in this order; any other artifact follows alphabetically. */
export const REPORT_ARTIFACT_ORDER = [
  "K-T1",
  "K-T1-LANGS",
  "K-T2",
  "K-F1",
  "D-T1",
  "D-T2",
  "D-T3",
  "D-T4",
  "D-T5",
  "D-T6",
  "D-F1",
  "MT-T1",
  "K-F2",
  "DATA-T1",
  "DATA-F1",
  "CLAIMS",
  "PAPER-CHECK",
];

const ARTIFACT_EXTS = [".json", ".md", ".csv", ".tex", ".html", ".png", ".svg"];

/** An artifact found in the artifact folder, with where a notebook shows it. */
export interface ReportArtifact {
  id: string;
  kind: string;
  title: string;
  /** File names present in the artifact folder (`D-T1.json`, `D-T1.md`, …). */
  files: string[];
  /** The notebook page and cell anchor that show it, when one does. */
  cell: { notebook: string; page: string; anchor: string; cellIndex: number } | null;
}

export interface ReportOptions {
  /** The run's artifact folder (default `kitConfig().artifactDir`). */
  artifactDir?: string;
  /** Executed notebooks (default `<artifactDir>/notebooks`). */
  notebooksDir?: string;
  /** Output folder (default `<artifactDir>/report`). */
  outDir?: string;
}

export interface ReportResult {
  indexPath: string;
  pages: { notebook: string; path: string; title: string; failed: boolean }[];
  artifacts: ReportArtifact[];
}

async function listDir(dir: string, test: (name: string) => boolean): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && test(e.name)) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

async function findArtifacts(dir: string): Promise<Omit<ReportArtifact, "cell">[]> {
  const all = await listDir(dir, () => true);
  const ids = all.filter((n) => /^[A-Z]+(-[A-Z0-9]+)*\.json$/.test(n)).map((n) => n.slice(0, -5));
  const out: Omit<ReportArtifact, "cell">[] = [];
  for (const id of ids) {
    let kind = "artifact", title = "";
    try {
      const j = JSON.parse(await Deno.readTextFile(join(dir, `${id}.json`)));
      kind = typeof j.kind === "string" ? j.kind : kind;
      title = typeof j.title === "string" ? j.title : "";
    } catch {
      title = "(unreadable JSON)";
    }
    out.push({
      id,
      kind,
      title,
      files: ARTIFACT_EXTS.map((e) => `${id}${e}`).filter((f) => all.includes(f)),
    });
  }
  const rank = (id: string) => {
    const i = REPORT_ARTIFACT_ORDER.indexOf(id);
    return i < 0 ? REPORT_ARTIFACT_ORDER.length : i;
  };
  return out.sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
}

const pageName = (notebook: string) => `${notebook.replace(/\.ipynb$/, "")}.html`;

function fileLinks(files: string[], prefix: string): string {
  return files.map((f) =>
    `<a href="${escapeHtml(prefix + f)}">${escapeHtml(f.slice(f.lastIndexOf(".") + 1))}</a>`
  ).join(" ");
}

function renderNotebookBody(
  nb: Notebook,
  title: string,
  producedIn: Map<number, string[]>,
  artifacts: Map<string, Omit<ReportArtifact, "cell">>,
  artPrefix: string,
): {
  html: string;
  plots: number;
} {
  const plots = new PlotCounter();
  const parts: string[] = [];
  nb.cells.forEach((cell, i) => {
    const anchor = `cell-${i}`;
    const link = `<a class="anchor" href="#${anchor}" title="link to this cell">[${i}]</a>`;
    const src = joinText(cell.source);
    let inner: string;
    if (cell.cell_type === "markdown") {
      inner = renderMarkdown(src, { headingIds: false });
    } else if (cell.cell_type === "code") {
      const first = src.split("\n").find((l) => l.trim() !== "") ?? "";
      const count = cell.execution_count ?? " ";
      const outputs = (cell.outputs ?? []).map((o) => renderOutput(o, plots)).filter((h) =>
        h !== ""
      );
      const ids = producedIn.get(i) ?? [];
      const links = ids.map((id) => {
        const a = artifacts.get(id);
        return a
          ? `<div class="artifact-links">artifact <strong>${escapeHtml(id)}</strong>: ${
            fileLinks(a.files, artPrefix)
          }</div>`
          : "";
      }).join("");
      inner =
        `<details class="source"><summary>In [${escapeHtml(String(count))}]: ${
          escapeHtml(first.slice(0, 100))
        }</summary>` +
        `<pre><code class="language-typescript">${escapeHtml(src)}</code></pre></details>` +
        outputs.map((h) => `<div class="output">${h}</div>`).join("\n") + links;
    } else {
      inner = `<pre>${escapeHtml(src)}</pre>`;
    }
    parts.push(
      `<section class="cell ${
        escapeHtml(cell.cell_type)
      }" id="${anchor}">${link}\n${inner}\n</section>`,
    );
  });
  const startsWithTitle = nb.cells[0]?.cell_type === "markdown" &&
    /^\s*#\s/.test(joinText(nb.cells[0].source));
  const head = startsWithTitle ? "" : `<h1 class="page-title">${escapeHtml(title)}</h1>\n`;
  return { html: `${head}${parts.join("\n")}`, plots: plots.count };
}

/**
 * The index page's section listing every remaining difference from the authors' code
 * (lib/deviations): paper, topic, what their code does, what the kit does, why, profiles, and
 * the artifacts it can change (linked to their rows when this run wrote them).
 */
export function deviationsHtml(list: readonly Deviation[], present: ReadonlySet<string>): string {
  if (list.length === 0) return "";
  const link = (id: string) =>
    present.has(id)
      ? `<a href="#artifact-${escapeHtml(id)}">${escapeHtml(id)}</a>`
      : escapeHtml(id);
  const rows = list.map((d) =>
    `<tr id="deviation-${escapeHtml(d.id)}"><td>${d.paper}</td><td>${escapeHtml(d.topic)}</td>` +
    `<td>${escapeHtml(d.authors)}</td><td>${escapeHtml(d.kit)}</td><td>${
      escapeHtml(d.reason)
    }</td>` +
    `<td>${escapeHtml(d.profiles.join(", "))}</td><td>${d.affects.map(link).join(", ")}</td></tr>`
  );
  return [
    `<h2>Deviations from the authors' code</h2>`,
    `<p>Every remaining difference from the authors' code found by a line-by-line comparison ` +
    `(lib/deviations), with the tables and figures it can change.</p>`,
    `<table class="artifacts deviations"><thead><tr><th>paper</th><th>topic</th><th>authors' code</th>` +
    `<th>the kit</th><th>why</th><th>profiles</th><th>affects</th></tr></thead><tbody>\n${
      rows.join("\n")
    }\n</tbody></table>`,
  ].join("\n");
}

/**
 * Builds one static HTML site of a run: `<outDir>/index.html` linking every artifact (README's "What you get"
 * order) to the notebook cell that shows it and to its files, and one page per executed
 * notebook (`<artifactDir>/notebooks/*.ipynb`) with Markdown rendered, outputs by MIME type,
 * interactive plotly figures (drawn with the `plotly.min.js` beside the artifacts, so the site
 * opens offline) and an anchor per cell (`#cell-<index>`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { buildReport } from "./build_report.ts";
 * import { PROJECT_ROOT } from "../util/paths.ts";
 * // the committed mini run's site, written to a temp folder (default: `<artifactDir>/report`)
 * const outDir = await Deno.makeTempDir();
 * const artifactDir = join(PROJECT_ROOT, "figures", "mini");
 * const { indexPath, pages, artifacts } = await buildReport({ artifactDir, outDir });
 * assert.equal(indexPath, join(outDir, "index.html"));
 * assert(artifacts.some((a) => a.id === "CLAIMS"));
 * assert(pages.length > 0 && pages.every((p) => !p.failed));
 * assert.match(await Deno.readTextFile(indexPath), /CLAIMS/);
 * await Deno.remove(outDir, { recursive: true });
 * ```
 */
export async function buildReport(opts: ReportOptions = {}): Promise<ReportResult> {
  const artifactDir = opts.artifactDir ?? kitConfig().artifactDir;
  const notebooksDir = opts.notebooksDir ?? join(artifactDir, "notebooks");
  const outDir = opts.outDir ?? join(artifactDir, "report");
  const names = await listDir(notebooksDir, (n) => n.endsWith(".ipynb"));
  const found = await findArtifacts(artifactDir);
  if (names.length === 0 && found.length === 0) {
    throw new KitError(
      `buildReport: no executed notebooks in ${notebooksDir} and no artifacts in ${artifactDir}`,
      [
        "run ./kit task reproduce first",
      ],
    );
  }
  const byId = new Map(found.map((a) => [a.id, a]));
  const notebooks: { name: string; nb: Notebook; title: string; failed: boolean }[] = [];
  for (const name of names) {
    const path = join(notebooksDir, name);
    const nb = parseNotebook(await Deno.readTextFile(path), path);
    const failed = nb.cells.some((c) => (c.outputs ?? []).some((o) => o.output_type === "error"));
    notebooks.push({ name, nb, title: notebookTitle(nb, name.replace(/\.ipynb$/, "")), failed });
  }

  // Which cell shows each artifact: its output > a code cell writing it > a Markdown heading.
  const cellOf = new Map<string, { rank: number; notebook: string; cellIndex: number }>();
  for (const { name, nb } of notebooks) {
    nb.cells.forEach((cell, i) => {
      const ids = cellArtifactIds(cell);
      for (const [rank, list] of [[0, ids.output], [1, ids.code], [2, ids.markdown]] as const) {
        for (const id of list) {
          const prev = cellOf.get(id);
          if (!prev || rank < prev.rank) cellOf.set(id, { rank, notebook: name, cellIndex: i });
        }
      }
    });
  }
  const artifacts: ReportArtifact[] = found.map((a) => {
    const c = cellOf.get(a.id);
    return {
      ...a,
      cell: c
        ? {
          notebook: c.notebook,
          page: pageName(c.notebook),
          anchor: `cell-${c.cellIndex}`,
          cellIndex: c.cellIndex,
        }
        : null,
    };
  });

  const nav = (current: string | null) => [
    { href: "index.html", label: "Index", current: current === null },
    ...notebooks.map((n) => ({
      href: pageName(n.name),
      label: n.name.replace(/\.ipynb$/, ""),
      current: current === n.name,
    })),
  ];
  const plotlyRel = relative(outDir, join(artifactDir, PLOTLY_FILE)).replaceAll("\\", "/");
  const artifactRel = relative(outDir, artifactDir).replaceAll("\\", "/");
  const artPrefix = artifactRel === "" ? "" : `${artifactRel}/`;
  let anyPlots = false;
  const pages: ReportResult["pages"] = [];
  for (const n of notebooks) {
    const produced = new Map<number, string[]>();
    for (const a of artifacts) {
      if (a.cell?.notebook === n.name && n.nb.cells[a.cell.cellIndex]?.cell_type === "code") {
        produced.set(a.cell.cellIndex, [...(produced.get(a.cell.cellIndex) ?? []), a.id]);
      }
    }
    const body = renderNotebookBody(n.nb, n.title, produced, byId, artPrefix);
    anyPlots ||= body.plots > 0;
    const html = pageHtml({
      title: `${n.title} — reproduction report`,
      nav: nav(n.name),
      body: body.html,
      scripts: body.plots > 0 ? [plotlyRel] : [],
      inlineScript: body.plots > 0 ? PLOT_LOADER : undefined,
    });
    const path = join(outDir, pageName(n.name));
    await atomicWriteFile(path, html);
    pages.push({ notebook: n.name, path, title: n.title, failed: n.failed });
  }
  if (anyPlots) await ensurePlotlyBeside(artifactDir);

  let profile = "";
  try {
    const any = found[0]
      ? JSON.parse(await Deno.readTextFile(join(artifactDir, `${found[0].id}.json`)))
      : null;
    profile = typeof any?.provenance?.signature === "string" ? any.provenance.signature : "";
  } catch { /* shown without */ }
  const rows = artifacts.map((a) => {
    const where = a.cell
      ? `<a href="${escapeHtml(`${a.cell.page}#${a.cell.anchor}`)}">${
        escapeHtml(a.cell.notebook.replace(/\.ipynb$/, ""))
      }, cell ${a.cell.cellIndex}</a>`
      : "–";
    return `<tr id="artifact-${escapeHtml(a.id)}"><td><strong>${
      escapeHtml(a.id)
    }</strong></td><td>${escapeHtml(a.kind)}</td>` +
      `<td>${escapeHtml(a.title)}</td><td>${where}</td><td>${
        fileLinks(a.files, artPrefix)
      }</td></tr>`;
  });
  const nbRows = pages.map((p) =>
    `<li><a href="${escapeHtml(basename(p.path))}">${
      escapeHtml(p.notebook.replace(/\.ipynb$/, ""))
    }</a> — ${escapeHtml(p.title)} ` +
    (p.failed
      ? `<span class="status-failed">(stopped with an error)</span>`
      : `<span class="status-ok">✓</span>`) +
    `</li>`
  );
  const index = pageHtml({
    title: "Reproduction report",
    nav: nav(null),
    body: [
      `<h1>Reproduction report</h1>`,
      `<p>Papers K (Krasner et al., 2025) and D (Di Iorio, 2026): every table and figure this run regenerated, ` +
      `the notebook cell that shows it, and its files. The pages open offline.</p>`,
      profile ? `<p class="prov">${escapeHtml(profile)}</p>` : "",
      `<h2>Tables and figures</h2>`,
      artifacts.length === 0
        ? "<p>No artifacts were written.</p>"
        : `<table class="artifacts"><thead><tr><th>id</th><th>kind</th><th>title</th>` +
          `<th>notebook cell</th><th>files</th></tr></thead><tbody>\n${
            rows.join("\n")
          }\n</tbody></table>`,
      deviationsHtml(DEVIATIONS, new Set(artifacts.map((a) => a.id))),
      `<h2>Notebooks</h2>`,
      nbRows.length === 0
        ? "<p>No executed notebooks.</p>"
        : `<ol class="notebooks">\n${nbRows.join("\n")}\n</ol>`,
    ].join("\n"),
  });
  const indexPath = join(outDir, "index.html");
  await atomicWriteFile(indexPath, index);
  return { indexPath, pages, artifacts };
}
