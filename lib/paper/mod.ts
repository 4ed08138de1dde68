/**
 * The papers' published numbers as data (`data/paper/*_published.json`): typed look-ups, the
 * tolerance a regenerated number is held to, and the paper's own formatting.
 */
export * from "./published_value.ts";
export * from "./published_values.ts";
export * from "./tolerance.ts";
export * from "./format_published.ts";
export * from "./paper_citation.ts";
