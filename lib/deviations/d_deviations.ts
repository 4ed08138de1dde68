import type { Deviation } from "./deviation.ts";

/** Remaining differences from paper D's code (mattiadri/crosslingual-contrastive). */
export const D_DEVIATIONS: readonly Deviation[] = [];
