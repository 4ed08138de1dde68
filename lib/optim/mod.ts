/**
 * Optimisation pieces of paper D: Adam (coupled or decoupled weight decay), global
 * gradient-norm clipping, the warm-up + cosine schedule and the language-balanced sampler.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmupCosineLr } from "./mod.ts";
 * assert(warmupCosineLr(120, { baseLr: 1, warmupSteps: 120, totalSteps: 240, floor: 0.1 }) === 1);
 * ```
 */
export * from "./adam.ts";
export * from "./clip_grad_norm.ts";
export * from "./lr_schedule.ts";
export * from "./language_balanced_sampler.ts";
export * from "./prox_clip_adam.ts";
export * from "./device_adam.ts";
