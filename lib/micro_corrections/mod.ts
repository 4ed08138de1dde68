/** Paper D's local UMAP figure of alignment micro-corrections (D-F1). */
export * from "./alignment_gain.ts";
export * from "./local_umap.ts";
export * from "./micro_correction_figure.ts";
export * from "./spectral_init.ts";
