/**
 * Text-side projection heads of paper D: identity (baseline), residual linear and residual MLP,
 * each re-normalising its output rows, with D's regularisers and name → Float32Array state.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHead } from "./mod.ts";
 * const h = createHead("mlp", 8, { hidden: 4, seed: 7 });
 * assert(Object.keys(h.getState()).join() === "w1,b1,w2,b2");
 * h.dispose();
 * ```
 */
export * from "./head.ts";
export * from "./head_state.ts";
export * from "./normalize_rows.ts";
export * from "./frozen_input_matmul.ts";
export * from "./gelu.ts";
export * from "./bias_gelu.ts";
export * from "./residual_normalize.ts";
export * from "./identity_head.ts";
export * from "./linear_residual_head.ts";
export * from "./mlp_residual_head.ts";
export * from "./create_head.ts";
export * from "./project_rows.ts";
