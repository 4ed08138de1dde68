/**
 * Paper D end to end on fixed embeddings: the embedding folder reader, the 5-fold
 * cross-validation of the identity / linear / MLP text heads with retrieval and diagnostics, and
 * Tables 1–6 as artifact rows. Used by `deno task align` and notebook 05.
 */
export * from "./embedding_dir.ts";
export * from "./image_pivot_cv.ts";
export * from "./image_pivot_tables.ts";
export * from "./published_lookup.ts";
export * from "./dataset_embeddings.ts";
export * from "./profile_embeddings.ts";
export * from "./head_try_it.ts";
