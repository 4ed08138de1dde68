/**
 * Training of paper D's text-side heads: configuration (D's defaults), one reusable training
 * step, the epoch loop with holdout selection, and safetensors checkpoints with exact resume.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAPER_D_TRAIN_CONFIG } from "./mod.ts";
 * assert(PAPER_D_TRAIN_CONFIG.epochs * PAPER_D_TRAIN_CONFIG.stepsPerEpoch === 240);
 * ```
 */
export * from "./train_config.ts";
export * from "./head_step.ts";
export * from "./train_checkpoint.ts";
export * from "./train_head.ts";
