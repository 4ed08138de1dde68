import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { cachedResult, type ResultCacheOptions } from "../eval_cache/result_cache.ts";
import { codeFingerprint } from "../eval_cache/code_fingerprint.ts";
import { numericEnvironment } from "../eval_cache/numeric_environment.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import type { PlotlyFigure } from "../artifacts/chromium_renderer.ts";
import { alignmentGains, rowCosines, topGainAnchors } from "./alignment_gain.ts";
import { type LocalUmapOptions, type LocalUmapResult, localUmapWithInit } from "./local_umap.ts";

/** Inputs of paper D's local UMAP figure (D-F1): all N items, fold-0 heads. */
export interface MicroCorrectionInput {
  /** English caption embeddings before alignment (N × d). */
  before: RowMatrix;
  /** The same captions after the linear head (N × d). */
  linear: RowMatrix;
  /** The same captions after the MLP head (N × d). */
  mlp: RowMatrix;
  /** Image embeddings, row i = the image of caption i (N × d). */
  images: RowMatrix;
  /** The English captions (hover text and panel titles), optional. */
  captions?: readonly string[];
  /** Number of anchors/panels (default 8). */
  anchors?: number;
  /**
   * Items per panel: the images nearest the anchor's image, the anchor's own included (D's
   * `--k_img 140`: `topk_idx` over all images, where the anchor has similarity 1); clamped to N.
   */
  neighbours?: number;
  /** Arrow length multiplier of the displacement before → after (default 10). */
  arrowScale?: number;
  /** UMAP settings (default n_neighbors 25, min_dist 0.1, seed 7). */
  umap?: LocalUmapOptions;
  /** Panels per row (default 4). */
  columns?: number;
}

type Point = [number, number];

/** One panel: the anchor, its local item set and their 2-D UMAP coordinates. */
export interface MicroCorrectionPanel {
  anchor: number;
  /** cos(t̃_MLP, v) − cos(t, v) of the anchor. */
  gain: number;
  /** The anchor first, then its nearest images' items (most similar first). */
  items: number[];
  images: Point[];
  before: Point[];
  linear: Point[];
  mlp: Point[];
  /** The UMAP initialisation used (umap-learn's spectral one unless the graph was disconnected). */
  init: LocalUmapResult["init"];
}

/** Static size that suits the 2 × 4 panel figure (pass to writeFigureArtifact). */
export const MICRO_CORRECTION_FIGURE_SIZE = { width: 1400, height: 760 } as const;

function checkInput(input: MicroCorrectionInput): void {
  const { before } = input;
  for (const name of ["linear", "mlp", "images"] as const) {
    const m = input[name];
    if (m.rows !== before.rows || m.cols !== before.cols) {
      throw new KitError(
        `microCorrectionFigure: ${name} is ${m.rows}×${m.cols}; expected ${before.rows}×${before.cols} like "before"`,
      );
    }
  }
  if (before.rows < 3) {
    throw new KitError(`microCorrectionFigure: ${before.rows} item(s); at least 3 needed`);
  }
  if (input.captions && input.captions.length !== before.rows) {
    throw new KitError(
      `microCorrectionFigure: ${input.captions.length} captions for ${before.rows} items`,
    );
  }
}

/** The `k` images most cosine-similar to image `anchor` (itself excluded; ties by index). */
export function nearestImages(images: RowMatrix, anchor: number, k: number): number[] {
  const { rows, cols, data } = images;
  const a = data.subarray(anchor * cols, (anchor + 1) * cols);
  const norm = (o: number) => {
    let s = 0;
    for (let c = 0; c < cols; c++) s += data[o + c]! * data[o + c]!;
    return Math.sqrt(s);
  };
  const na = norm(anchor * cols);
  const sim = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += a[c]! * data[r * cols + c]!;
    const den = na * norm(r * cols);
    sim[r] = den > 0 ? dot / den : 0;
  }
  const order = Array.from({ length: rows }, (_, r) => r).filter((r) => r !== anchor);
  order.sort((i, j) => sim[j]! - sim[i]! || i - j);
  return order.slice(0, Math.min(k, order.length));
}

const rowOf = (m: RowMatrix, i: number): number[] =>
  Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));

/**
 * Computes the panels of D-F1: the anchors with the largest gain cos(t̃_MLP, v) − cos(t, v); per
 * anchor min(140, N) items — the anchor and the 139 images nearest its image, as D's `do_umap.py`
 * takes the top 140 by similarity to the anchor's image — and the same items' captions before /
 * linear / MLP, laid out together by one seeded cosine UMAP per panel.
 */
export function microCorrectionPanels(input: MicroCorrectionInput): MicroCorrectionPanel[] {
  checkInput(input);
  const n = input.before.rows;
  const gains = alignmentGains(input.before, input.mlp, input.images);
  const anchors = topGainAnchors(gains, input.anchors ?? 8);
  const k = Math.min(input.neighbours ?? 140, n);
  if (!Number.isInteger(k) || k < 3) {
    throw new KitError(`microCorrectionPanels: neighbours must be an integer ≥ 3, got ${k}`);
  }
  return anchors.map((anchor) => {
    const items = [anchor, ...nearestImages(input.images, anchor, k - 1)];
    const m = items.length;
    const points = [
      ...items.map((i) => rowOf(input.images, i)),
      ...items.map((i) => rowOf(input.before, i)),
      ...items.map((i) => rowOf(input.linear, i)),
      ...items.map((i) => rowOf(input.mlp, i)),
    ];
    const layout = localUmapWithInit(points, input.umap);
    const xy = layout.embedding.map((p) => [p[0]!, p[1]!] as Point);
    return {
      anchor,
      gain: gains[anchor]!,
      items,
      images: xy.slice(0, m),
      before: xy.slice(m, 2 * m),
      linear: xy.slice(2 * m, 3 * m),
      mlp: xy.slice(3 * m, 4 * m),
      init: layout.init,
    };
  });
}

const COLORS = {
  before: "#1f77b4",
  linear: "#ff7f0e",
  mlp: "#2ca02c",
  image: "#222222",
  anchorImage: "#d4a017",
};
const SYMBOLS = { before: "circle", linear: "square", mlp: "triangle-up" } as const;
const LABELS = {
  before: "caption before",
  linear: "after linear head",
  mlp: "after MLP head",
} as const;

const esc = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Paper D's Figure 1 (D-F1) as a plotly figure: one panel per anchor (2 × 4 for 8), images as
 * black ×, the local captions before / linear / MLP as circles / squares / triangles, the anchor's
 * captions enlarged, its image a gold star, and arrows from the anchor before to its linear and
 * MLP positions with the displacement scaled ×`arrowScale` (10).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { microCorrectionFigure } from "./micro_correction_figure.ts";
 * import { l2NormalizeRows, matrixFromRows } from "../retrieval/row_matrix.ts";
 * import { SeededRandom } from "../util/seeded_random.ts";
 * // 20 toy items: captions near their images, the heads moving them part of the way
 * const rng = new SeededRandom(3);
 * const images = Array.from({ length: 20 }, () => Array.from({ length: 6 }, () => rng.normal()));
 * const before = images.map((v) => v.map((x) => x + rng.normal()));
 * const towards = (a: number) =>
 *   before.map((t, i) => t.map((x, j) => x + a * (images[i]![j]! - x)));
 * const m = (rows: number[][]) => l2NormalizeRows(matrixFromRows(rows));
 * const fig = microCorrectionFigure({
 *   before: m(before),
 *   linear: m(towards(0.1)),
 *   mlp: m(towards(0.3)),
 *   images: m(images),
 *   anchors: 2,
 *   neighbours: 12,
 *   umap: { nNeighbors: 5, nEpochs: 30, seed: 7 },
 * });
 * // in a notebook: await writeFigureArtifact({ id: "D-F1", title: "Local micro-corrections",
 * //   figure: fig, ...MICRO_CORRECTION_FIGURE_SIZE });
 * assert.equal(fig.data.length, 2 * 9); // a panel: images, 3 caption sets, 4 anchor marks, arrows
 * const arrows = (fig.layout!.annotations as { showarrow?: boolean }[]).filter((a) => a.showarrow);
 * assert.equal(arrows.length, 2 * 2); // anchor → linear and anchor → MLP in each panel
 * ```
 */
export function microCorrectionFigure(input: MicroCorrectionInput): PlotlyFigure {
  const panels = microCorrectionPanels(input);
  const scale = input.arrowScale ?? 10;
  const cols = Math.max(1, Math.min(input.columns ?? 4, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    showlegend: true,
    legend: { orientation: "h", x: 0, y: -0.04, yanchor: "top" },
    margin: { l: 20, r: 20, t: 70, b: 40 },
    plot_bgcolor: "#ffffff",
    // Tall enough for the panels where a page gives the plot no height of its own.
    height: 340 * rows + 80,
  };
  const text = (i: number) =>
    `item ${i}${input.captions ? `: ${esc(clip(input.captions[i]!, 80))}` : ""}`;
  const cosBefore = rowCosines(input.before, input.images);
  const gapX = 0.02, gapY = 0.06;
  panels.forEach((p, pi) => {
    const s = pi === 0 ? "" : String(pi + 1);
    const xa = `x${s}`, ya = `y${s}`;
    const c = pi % cols, r = Math.floor(pi / cols);
    layout[`xaxis${s}`] = {
      domain: [c / cols + gapX, (c + 1) / cols - gapX],
      anchor: ya,
      showticklabels: false,
      zeroline: false,
      showgrid: false,
      linecolor: "#ccc",
      mirror: true,
      showline: true,
    };
    layout[`yaxis${s}`] = {
      domain: [1 - (r + 1) / rows + gapY, 1 - r / rows - gapY / 2],
      anchor: xa,
      showticklabels: false,
      zeroline: false,
      showgrid: false,
      linecolor: "#ccc",
      mirror: true,
      showline: true,
    };
    const first = pi === 0;
    const pts = (ps: Point[]) => ({ x: ps.map((q) => q[0]), y: ps.map((q) => q[1]) });
    data.push({
      type: "scatter",
      mode: "markers",
      name: "images",
      legendgroup: "images",
      showlegend: first,
      xaxis: xa,
      yaxis: ya,
      ...pts(p.images),
      text: p.items.map((i) => `image ${i}`),
      hoverinfo: "text",
      marker: {
        symbol: "x-thin",
        size: 6,
        color: COLORS.image,
        line: { width: 1, color: COLORS.image },
      },
    });
    for (const kind of ["before", "linear", "mlp"] as const) {
      data.push({
        type: "scatter",
        mode: "markers",
        name: LABELS[kind],
        legendgroup: kind,
        showlegend: first,
        xaxis: xa,
        yaxis: ya,
        ...pts(p[kind]),
        text: p.items.map(text),
        hoverinfo: "text",
        marker: { symbol: SYMBOLS[kind], size: 5, color: COLORS[kind], opacity: 0.35 },
      });
    }
    // The anchor: its image (gold star) and its captions before / linear / MLP, enlarged.
    data.push({
      type: "scatter",
      mode: "markers",
      name: "anchor's image",
      legendgroup: "anchor-image",
      showlegend: first,
      xaxis: xa,
      yaxis: ya,
      x: [p.images[0]![0]],
      y: [p.images[0]![1]],
      text: [`anchor image ${p.anchor}`],
      hoverinfo: "text",
      marker: {
        symbol: "star",
        size: 16,
        color: COLORS.anchorImage,
        line: { width: 1, color: "#7a5c00" },
      },
    });
    const heads: Point[] = [];
    for (const kind of ["before", "linear", "mlp"] as const) {
      const q = p[kind][0]!;
      data.push({
        type: "scatter",
        mode: "markers",
        name: `anchor ${LABELS[kind]}`,
        legendgroup: `anchor-${kind}`,
        showlegend: first,
        xaxis: xa,
        yaxis: ya,
        x: [q[0]],
        y: [q[1]],
        text: [`anchor ${LABELS[kind]}: ${text(p.anchor)}`],
        hoverinfo: "text",
        marker: {
          symbol: SYMBOLS[kind],
          size: 13,
          color: COLORS[kind],
          line: { width: 1.5, color: "#000" },
        },
      });
      if (kind === "before") continue;
      const b = p.before[0]!;
      const head: Point = [b[0] + scale * (q[0] - b[0]), b[1] + scale * (q[1] - b[1])];
      heads.push(head);
      annotations.push({
        x: head[0],
        y: head[1],
        ax: b[0],
        ay: b[1],
        xref: xa,
        yref: ya,
        axref: xa,
        ayref: ya,
        showarrow: true,
        arrowhead: 2,
        arrowsize: 1.2,
        arrowwidth: 2,
        arrowcolor: COLORS[kind],
        text: "",
      });
    }
    // Invisible points at the arrow heads, so that autorange keeps the arrows in view.
    data.push({
      type: "scatter",
      mode: "markers",
      showlegend: false,
      hoverinfo: "skip",
      xaxis: xa,
      yaxis: ya,
      x: heads.map((h) => h[0]),
      y: heads.map((h) => h[1]),
      marker: { size: 1, opacity: 0 },
    });
    const dom = layout[`xaxis${s}`] as { domain: number[] };
    const ydom = layout[`yaxis${s}`] as { domain: number[] };
    const title =
      `#${pi + 1} item ${p.anchor}: gain ${p.gain >= 0 ? "+" : ""}${p.gain.toFixed(3)} ` +
      `(cos ${cosBefore[p.anchor]!.toFixed(3)} → ${(cosBefore[p.anchor]! + p.gain).toFixed(3)})` +
      (input.captions ? `<br><i>${esc(clip(input.captions[p.anchor]!, 48))}</i>` : "");
    annotations.push({
      text: title,
      xref: "paper",
      yref: "paper",
      x: (dom.domain[0]! + dom.domain[1]!) / 2,
      y: ydom.domain[1]!,
      xanchor: "center",
      yanchor: "bottom",
      showarrow: false,
      font: { size: 11 },
    });
  });
  layout.annotations = annotations;
  return { data, layout };
}

/**
 * {@link microCorrectionFigure}, kept on disk (lib/eval_cache, `.cache/results/d-f1/`) keyed by
 * the bytes of every input matrix, the captions, the options, the code and the numeric
 * environment: a rerun on the same embeddings and heads skips the 8 local UMAP layouts.
 */
export async function cachedMicroCorrectionFigure(
  input: MicroCorrectionInput,
  cache: ResultCacheOptions = {},
): Promise<PlotlyFigure> {
  const hash = (m: RowMatrix) => ({
    rows: m.rows,
    cols: m.cols,
    data: sha256Hex(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength)),
  });
  const { before, linear, mlp, images, captions, ...options } = input;
  const key = {
    what: "microCorrectionFigure",
    before: hash(before),
    linear: hash(linear),
    mlp: hash(mlp),
    images: hash(images),
    captions: captions ? sha256Hex(JSON.stringify(captions)) : null,
    options,
    code: await codeFingerprint(["lib/micro_corrections/micro_correction_figure.ts"]),
    numeric: numericEnvironment(),
  };
  return await cachedResult(
    "d-f1",
    key,
    () => Promise.resolve(microCorrectionFigure(input)),
    cache,
  );
}
