import type { Deviation } from "./deviation.ts";

/** Remaining differences from paper K's code (nkrasner/cl-clip-align). */
export const K_DEVIATIONS: readonly Deviation[] = [];
