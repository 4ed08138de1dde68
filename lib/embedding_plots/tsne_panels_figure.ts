import type { PlotlyFigure } from "../artifacts/chromium_renderer.ts";
import { KitError } from "../util/kit_error.ts";

/** One panel: a title, 2-D coordinates (`n × 2` row-major) and each point's language. */
export interface EmbeddingPanel {
  title: string;
  xy: Float64Array;
  languages: readonly string[];
  /** Optional hover text per point (e.g. the sentence). */
  text?: readonly string[];
}

/** A colour-blind-friendly palette (Okabe–Ito, then Tableau), assigned to languages in order. */
export const LANGUAGE_PALETTE: readonly string[] = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#D55E00",
  "#56B4E9",
  "#F0E442",
  "#000000",
  "#8c564b",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/**
 * Plotly subplots, one panel per entry (side by side, `columns` per row), points coloured by
 * language with one shared legend (a language keeps its colour in every panel), axes without
 * ticks (t-SNE coordinates have no units).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddingPanelsFigure } from "./tsne_panels_figure.ts";
 * const f = embeddingPanelsFigure([{ title: "A", xy: new Float64Array([0, 0, 1, 1]), languages: ["en", "es"] }]);
 * assert(f.data.length === 2);
 * ```
 */
export function embeddingPanelsFigure(
  panels: readonly EmbeddingPanel[],
  opts: {
    columns?: number;
    languageOrder?: readonly string[];
    title?: string;
    markerSize?: number;
  } = {},
): PlotlyFigure {
  if (panels.length === 0) throw new KitError("embeddingPanelsFigure: no panels");
  const columns = Math.min(opts.columns ?? panels.length, panels.length);
  const rows = Math.ceil(panels.length / columns);
  const langs = opts.languageOrder ?? [...new Set(panels.flatMap((p) => p.languages))];
  const color = (l: string) =>
    LANGUAGE_PALETTE[Math.max(0, langs.indexOf(l)) % LANGUAGE_PALETTE.length]!;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    showlegend: true,
    legend: { title: { text: "language" }, itemsizing: "constant" },
    margin: { l: 20, r: 20, t: 90, b: 20 },
    annotations: [] as Record<string, unknown>[],
  };
  const gap = 0.03;
  panels.forEach((p, k) => {
    if (p.xy.length !== 2 * p.languages.length) {
      throw new KitError(
        `embeddingPanelsFigure: panel "${p.title}" has ${
          p.xy.length / 2
        } points but ${p.languages.length} languages`,
      );
    }
    const r = Math.floor(k / columns), c = k % columns;
    const suffix = k === 0 ? "" : String(k + 1);
    const x0 = c / columns + (c > 0 ? gap : 0),
      x1 = (c + 1) / columns - (c + 1 < columns ? gap : 0);
    const y1 = 1 - r / rows - (r > 0 ? gap : 0), y0 = 1 - (r + 1) / rows + (r + 1 < rows ? gap : 0);
    const axis = {
      showticklabels: false,
      zeroline: false,
      showgrid: false,
      showline: true,
      mirror: true,
      linecolor: "#bbb",
    };
    layout[`xaxis${suffix}`] = { ...axis, domain: [x0, x1], anchor: `y${suffix}` };
    layout[`yaxis${suffix}`] = { ...axis, domain: [y0, y1], anchor: `x${suffix}` };
    (layout.annotations as Record<string, unknown>[]).push({
      text: `<b>${p.title}</b>`,
      x: (x0 + x1) / 2,
      y: y1,
      xref: "paper",
      yref: "paper",
      xanchor: "center",
      yanchor: "bottom",
      showarrow: false,
    });
    for (const lang of langs) {
      const idx = p.languages.flatMap((l, i) => (l === lang ? [i] : []));
      if (idx.length === 0) continue;
      data.push({
        type: "scattergl",
        mode: "markers",
        name: lang,
        legendgroup: lang,
        showlegend: k === 0,
        x: idx.map((i) => p.xy[2 * i]),
        y: idx.map((i) => p.xy[2 * i + 1]),
        ...(p.text ? { text: idx.map((i) => p.text![i]), hoverinfo: "text+name" } : {}),
        marker: { color: color(lang), size: opts.markerSize ?? 4, opacity: 0.8 },
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
      });
    }
  });
  if (opts.title) layout.title = { text: opts.title };
  return { data, layout };
}
