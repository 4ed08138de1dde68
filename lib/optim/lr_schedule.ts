import { KitError } from "../util/kit_error.ts";

/** Linear warm-up then cosine decay to `floor · baseLr` (paper D's schedule). */
export interface WarmupCosineSchedule {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final fraction of `baseLr` the cosine decays to (D: 0.1). */
  floor: number;
}

/**
 * Learning rate at 0-based `step`, the formula of D's code:
 * - warm-up, `step < W`: `lr = base · (step + 1) / W` — so step 0 already uses base/W and step
 *   W−1 uses the full base rate;
 * - then `p = (step − W) / (T − W)`, `lr = base · (floor + (1 − floor) · ½(1 + cos πp))` — step
 *   W uses base again, and the last step T−1 uses `p = (T−1−W)/(T−W)`, i.e. slightly *above*
 *   `floor · base` (the floor itself would be reached at step T, which is never taken).
 * With D's numbers (base 1e-3, W 120, T 240, floor 0.1): step 0 → 8.333e-6, step 119 → 1e-3,
 * step 120 → 1e-3, step 239 → 1.00154e-4.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmupCosineLr } from "./lr_schedule.ts";
 * const s = { baseLr: 1e-3, warmupSteps: 120, totalSteps: 240, floor: 0.1 };
 * assert(Math.abs(warmupCosineLr(0, s) - 1e-3 / 120) < 1e-15);
 * ```
 */
export function warmupCosineLr(step: number, s: WarmupCosineSchedule): number {
  if (!Number.isInteger(step) || step < 0) {
    throw new KitError(`learning-rate schedule: step must be a non-negative integer, got ${step}`);
  }
  if (step < s.warmupSteps) return s.baseLr * (step + 1) / Math.max(1, s.warmupSteps);
  const p = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.baseLr * (s.floor + (1 - s.floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
