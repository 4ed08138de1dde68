export * from "./embed_limit.ts";
export * from "./k_step_cap.ts";
export * from "./process_tree_rss.ts";
export * from "./rehearsal_standins.ts";
export * from "./rehearsal_table.ts";
export * from "./run_rehearsal.ts";
