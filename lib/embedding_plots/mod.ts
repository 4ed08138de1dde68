/**
 * Embedding figures: seeded 2-D t-SNE layouts, multi-panel scatter figures coloured by language
 * (paper K's Fig. 1, K-F1), and a number for what the panels show (same-language neighbour share).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddingPanelsFigure } from "./mod.ts";
 * assert(embeddingPanelsFigure([{ title: "x", xy: new Float64Array(2), languages: ["en"] }]).data.length === 1);
 * ```
 */
export * from "./tsne_layout.ts";
export * from "./language_mixing.ts";
export * from "./tsne_panels_figure.ts";
export * from "./parallel_subsample.ts";
