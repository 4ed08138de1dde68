/**
 * The kit's library, its whole public surface in one module: every topic's barrel
 * (`lib/<topic>/mod.ts`). The notebooks import from those topic barrels (a cell loads only what it
 * uses); this module is for scripts that want everything, and `deno check lib/mod.ts` (the `check`
 * task) type-checks every public module through it. Files named `_*.ts` are internal to their
 * folder (test switches, kernel registrations) and no barrel re-exports them.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { kitConfig } from "./mod.ts";
 * assert(["mini", "paper"].includes(kitConfig({}).profile));
 * ```
 */
export * from "./util/mod.ts";
export * from "./config/mod.ts";
export * from "./backend/mod.ts";
export * from "./data/mod.ts";
export * from "./artifacts/mod.ts";
export * from "./runner/mod.ts";
export * from "./cv/mod.ts";
export * from "./retrieval/mod.ts";
export * from "./losses/mod.ts";
export * from "./heads/mod.ts";
export * from "./optim/mod.ts";
export * from "./train/mod.ts";
export * from "./io/mod.ts";
export * from "./sources/mod.ts";
export * from "./images/mod.ts";
export * from "./dataset_build/mod.ts";
export * as diagnostics from "./diagnostics/mod.ts";
export * from "./paper/mod.ts";
export * from "./claims/mod.ts";
export * from "./image_pivot/mod.ts";
export * from "./micro_corrections/mod.ts";
export * from "./bench/mod.ts";
export * from "./mt_metrics/mod.ts";
export * as translation from "./translation/mod.ts";
export * from "./report/mod.ts";
export * from "./stats/mod.ts";
export * from "./bitext_eval/mod.ts";
export * from "./xnli/mod.ts";
export * from "./embedding_plots/mod.ts";
export * from "./encoders/mod.ts";
export * from "./models/mod.ts";
export * from "./deviations/mod.ts";
export * as plan from "./plan/mod.ts";
