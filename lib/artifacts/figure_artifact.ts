import { join } from "node:path";
import { kitConfig } from "../config/kit_config.ts";
import { atomicWriteFile, atomicWriteJson } from "../util/atomic_write.ts";
import { collectProvenance, type Provenance } from "./provenance.ts";
import { checkArtifactId } from "./table_artifact.ts";
import { sha256File } from "../util/sha256.ts";
import {
  cachedFigureImages,
  chromiumPath,
  PLOTLY_FILE,
  plotlyBundlePath,
  type PlotlyFigure,
} from "./chromium_renderer.ts";

export interface FigureSpec {
  /** Artifact ID (README, "What you get"): `K-F1`, `D-F1`, `K-F2`, … */
  id: string;
  title: string;
  figure: PlotlyFigure;
  caption?: string;
  seeds?: Record<string, number>;
  inputs?: Record<string, string>;
  notes?: string[];
  /** Static image size in CSS pixels (PNG is rendered at 2×). */
  width?: number;
  height?: number;
  outDir?: string;
}

export interface FigureArtifact {
  kind: "figure";
  id: string;
  title: string;
  figure: PlotlyFigure;
  provenance: Provenance;
  files: string[];
  /** Why no PNG/SVG was written, when none was. */
  staticWarning: string | null;
}

/** Copies the plotly.js bundle beside the HTML artifacts once (atomically), so pages open offline. */
export async function ensurePlotlyBeside(dir: string): Promise<void> {
  const target = join(dir, PLOTLY_FILE);
  const src = plotlyBundlePath();
  try {
    if ((await sha256File(target)) === (await sha256File(src))) return;
  } catch { /* absent */ }
  await atomicWriteFile(target, await Deno.readFile(src));
}

/** A standalone HTML page using the plotly.js copy beside it: opens offline, no CDN. */
export function standaloneFigureHtml(
  id: string,
  title: string,
  fig: PlotlyFigure,
  provenance: Provenance,
  caption?: string,
): string {
  const esc = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;");
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(id)}: ${esc(title)}</title>
<script src="${PLOTLY_FILE}"></script>
<style>body{font-family:system-ui,sans-serif;margin:1.5em} .prov{color:#666;font-size:80%}</style>
</head><body>
<h2>${esc(id)}: ${esc(title)}</h2>
${caption ? `<p>${esc(caption)}</p>` : ""}
<div id="plot" style="width:100%;height:80vh"></div>
<p class="prov">${esc(provenance.signature)}</p>
<script>
const fig = ${JSON.stringify(fig).replaceAll("</", "<\\/")};
Plotly.newPlot("plot", fig.data, fig.layout || {}, {responsive: true});
</script>
</body></html>
`;
}

/**
 * Writes a figure artifact: `<id>.json` (plotly data + layout + provenance), a standalone
 * interactive `<id>.html`, and `<id>.png` / `<id>.svg` rendered in headless Chromium (skipped
 * with a warning where Chromium is missing). Returns an object that displays the interactive
 * plot (and the PNG) in Jupyter.
 */
export async function writeFigureArtifact(spec: FigureSpec): Promise<FigureArtifact> {
  checkArtifactId(spec.id);
  const dir = spec.outDir ?? kitConfig().artifactDir;
  const provenance = collectProvenance({ seeds: spec.seeds, inputs: spec.inputs });
  const base = join(dir, spec.id);
  // The plot's title starts with the artifact id (the figure's own title, when it has one, follows
  // it), so the figure says what it is wherever it is shown (cell, report, standalone page).
  const own = (spec.figure.layout as { title?: unknown } | undefined)?.title;
  const ownText = typeof own === "string" ? own : (own as { text?: unknown } | undefined)?.text;
  const titleText = typeof ownText === "string" && ownText !== ""
    ? (ownText.startsWith(`${spec.id}:`) ? ownText : `${spec.id}: ${ownText}`)
    : `${spec.id}: ${spec.title}`;
  const layout = {
    ...(spec.figure.layout ?? {}),
    title: { ...(typeof own === "object" && own !== null ? own : {}), text: titleText },
  };
  const figure: PlotlyFigure = { data: spec.figure.data, layout };
  await atomicWriteJson(`${base}.json`, {
    id: spec.id,
    kind: "figure",
    title: spec.title,
    caption: spec.caption ?? null,
    notes: spec.notes ?? [],
    figure,
    provenance,
  });
  await ensurePlotlyBeside(dir);
  await atomicWriteFile(
    `${base}.html`,
    standaloneFigureHtml(spec.id, spec.title, figure, provenance, spec.caption),
  );
  const files = [`${base}.json`, `${base}.html`];
  let staticWarning: string | null = null;
  let png: Uint8Array | null = null;
  if (!chromiumPath()) {
    staticWarning = "no PNG/SVG: Chromium not found (Debian: apt-get install -y chromium)";
  } else {
    try {
      const size = { width: spec.width ?? 900, height: spec.height ?? 560 };
      const img = await cachedFigureImages(figure, size);
      png = img.png;
      await atomicWriteFile(`${base}.png`, img.png);
      await atomicWriteFile(`${base}.svg`, img.svg);
      files.push(`${base}.png`, `${base}.svg`);
    } catch (err) {
      staticWarning = `no PNG/SVG: ${err instanceof Error ? err.message.split("\n")[0] : err}`;
    }
  }
  if (staticWarning) console.warn(`warning: ${spec.id}: ${staticWarning}`);
  return {
    kind: "figure",
    id: spec.id,
    title: spec.title,
    figure,
    provenance,
    files,
    staticWarning,
    [Symbol.for("Jupyter.display")]() {
      const bundle: Record<string, unknown> = {
        "application/vnd.plotly.v1+json": figure,
        "text/plain": `${spec.id}: ${spec.title} (${
          files.map((f) => f.split("/").pop()).join(", ")
        })`,
      };
      if (png) {
        let s = "";
        for (let i = 0; i < png.length; i += 0x8000) {
          s += String.fromCharCode(...png.subarray(i, i + 0x8000));
        }
        bundle["image/png"] = btoa(s);
      }
      return bundle;
    },
  } as FigureArtifact;
}
