import { tf } from "../backend/tf.ts";
import type { Tensor2D } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import type { Head, HeadState } from "./head.ts";
import { normalizeRows } from "./normalize_rows.ts";

/**
 * The "before" baseline: no parameters, rows only re-normalised.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { createIdentityHead } from "./identity_head.ts";
 * const h = createIdentityHead(2);
 * assert(h.apply(tf.tensor2d([[0, 2]])).dataSync()[1] === 1);
 * ```
 */
export function createIdentityHead(dim: number): Head {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new KitError(`identity head: dim must be a positive integer, got ${dim}`);
  }
  return {
    kind: "identity",
    dim,
    apply(t: Tensor2D): Tensor2D {
      if (t.rank !== 2 || t.shape[1] !== dim) {
        throw new KitError(
          `identity head: expected n × ${dim} rows, got shape [${t.shape.join(", ")}]`,
        );
      }
      return normalizeRows(t);
    },
    parameters: [],
    variables: [],
    regularizers: { prox: () => tf.scalar(0), proxParams: [], ortho: null },
    getState: (): HeadState => ({}),
    setState: (_state: HeadState): void => {},
    dispose: (): void => {},
  };
}
