import { tf } from "../backend/tf.ts";
import type { Scalar, Tensor2D } from "../backend/tf.ts";
import { matMulFast } from "../backend/matmul.ts";
import { KitError } from "../util/kit_error.ts";
import type { Head, HeadParameter, HeadState } from "./head.ts";
import { readHeadState, writeHeadState } from "./head_state.ts";
import { frozenInputMatMul } from "./frozen_input_matmul.ts";
import { normalizeRows } from "./normalize_rows.ts";

/**
 * Paper D's residual linear head `t̃ = normalize(t·W)`, `W = I + ΔW`, ΔW = 0 at init (so the
 * untrained head is the identity baseline). Computed as `t + t·ΔW`, which is `t·(I + ΔW)`
 * without building `I + ΔW` each step. State: `{ dW: d×d row-major }` (`W − I`, the same
 * layout as D's `DeltaW`).
 *
 * Regularisers: prox = `Σ ΔW² / d²`; ortho = `Σ (WᵀW − I)² / d²`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { createLinearResidualHead } from "./linear_residual_head.ts";
 * const h = createLinearResidualHead(2);
 * assert(Math.abs(h.apply(tf.tensor2d([[3, 4]])).dataSync()[0]! - 0.6) < 1e-6);
 * h.dispose();
 * ```
 */
export function createLinearResidualHead(dim: number): Head {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new KitError(`linear head: dim must be a positive integer, got ${dim}`);
  }
  const dW = tf.tidy(() => tf.variable(tf.zeros([dim, dim]), true));
  const parameters: HeadParameter[] = [{ name: "dW", variable: dW }];
  const d2 = dim * dim;
  const prox = (): Scalar => tf.tidy(() => tf.div(tf.sum(tf.square(dW)), d2) as Scalar);
  const ortho = (): Scalar =>
    tf.tidy(() => {
      const w = tf.add(dW, tf.eye(dim)) as Tensor2D;
      const gram = matMulFast(w, w, true, false);
      return tf.div(tf.sum(tf.square(tf.sub(gram, tf.eye(dim)))), d2) as Scalar;
    });
  return {
    kind: "linear",
    dim,
    apply(t: Tensor2D): Tensor2D {
      if (t.rank !== 2 || t.shape[1] !== dim) {
        throw new KitError(
          `linear head: expected n × ${dim} rows, got shape [${t.shape.join(", ")}]`,
        );
      }
      return tf.tidy(() =>
        normalizeRows(tf.add(t, frozenInputMatMul(t, dW as Tensor2D)) as Tensor2D)
      );
    },
    parameters,
    variables: [dW],
    regularizers: { prox, proxParams: ["dW"], ortho },
    getState: (): HeadState => readHeadState(parameters),
    setState: (state: HeadState): void => writeHeadState(parameters, state, "linear head"),
    dispose: (): void => dW.dispose(),
  };
}
