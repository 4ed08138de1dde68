import { KitError } from "../util/kit_error.ts";
import type { Head, HeadKind } from "./head.ts";
import { createIdentityHead } from "./identity_head.ts";
import { createLinearResidualHead } from "./linear_residual_head.ts";
import { createMlpResidualHead } from "./mlp_residual_head.ts";

/** Options for `createHead`. */
export interface CreateHeadOptions {
  /** MLP hidden width (default 512). */
  hidden?: number;
  /** MLP initialisation seed (default 7). */
  seed?: number;
}

/**
 * A head by kind: `identity`, `linear` (residual, ΔW = 0) or `mlp` (residual, hidden 512).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHead } from "./create_head.ts";
 * const h = createHead("linear", 4);
 * assert(h.variables.length === 1);
 * h.dispose();
 * ```
 */
export function createHead(kind: HeadKind, dim: number, opts: CreateHeadOptions = {}): Head {
  switch (kind) {
    case "identity":
      return createIdentityHead(dim);
    case "linear":
      return createLinearResidualHead(dim);
    case "mlp":
      return createMlpResidualHead(dim, opts);
    default:
      throw new KitError(
        `unknown head kind ${JSON.stringify(kind)}; expected identity, linear or mlp`,
      );
  }
}
