/**
 * Every remaining difference between the kit and the authors' code, as one typed list.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEVIATIONS } from "./mod.ts";
 * assert(DEVIATIONS.every((d) => d.reason.length > 0));
 * ```
 */
import type { Deviation } from "./deviation.ts";
import { D_DEVIATIONS } from "./d_deviations.ts";
import { K_DEVIATIONS } from "./k_deviations.ts";
import { K_REAL_SHAPE_DEVIATIONS } from "./k_real_shape_deviations.ts";

export * from "./deviation.ts";
export * from "./deviation_table.ts";
export { D_DEVIATIONS, K_DEVIATIONS, K_REAL_SHAPE_DEVIATIONS };

/** The one list: paper K's deviations (mini/paper training, then the real-shape trainer's), then paper D's. */
export const DEVIATIONS: readonly Deviation[] = [
  ...K_DEVIATIONS,
  ...K_REAL_SHAPE_DEVIATIONS,
  ...D_DEVIATIONS,
];
