export * from "./provenance.ts";
export * from "./table_render.ts";
export * from "./table_artifact.ts";
export * from "./figure_artifact.ts";
export * from "./chromium_renderer.ts";
export * from "./display_table.ts";
