import { tf } from "../backend/tf.ts";
import type { Scalar, Tensor1D, Tensor2D } from "../backend/tf.ts";
import { matMulFast } from "../backend/matmul.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import type { Head, HeadParameter, HeadState } from "./head.ts";
import { readHeadState, writeHeadState } from "./head_state.ts";
import { frozenInputMatMul } from "./frozen_input_matmul.ts";
import { biasGelu } from "./bias_gelu.ts";
import { residualNormalize } from "./residual_normalize.ts";

/** Options of the residual MLP head. */
export interface MlpHeadOptions {
  /** Hidden width (D's best config: 512). */
  hidden?: number;
  /** Seed of the first layer's initialisation (D: 7). */
  seed?: number;
}

/**
 * Paper D's residual MLP head `t̃ = normalize(t + GELU(t·W1 + b1)·W2 + b2)`, exact (erf) GELU.
 * W1 and b1 are drawn like torch's `nn.Linear` default (kaiming-uniform with a = √5, i.e.
 * U(−1/√d, 1/√d) for both, fan_in = d) from `seed`; W2 = 0 and b2 = 0, so the untrained head
 * is the identity baseline. State: `w1` (d×h, = torch `fc1.weight`ᵀ), `b1` (h), `w2` (h×d,
 * = `fc2.weight`ᵀ), `b2` (d).
 *
 * Regularisers: prox = mean of the squares of all parameters (D's code); no ortho.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { createMlpResidualHead } from "./mlp_residual_head.ts";
 * const h = createMlpResidualHead(2, { hidden: 3, seed: 7 });
 * assert(Math.abs(h.apply(tf.tensor2d([[3, 4]])).dataSync()[1]! - 0.8) < 1e-6);
 * h.dispose();
 * ```
 */
export function createMlpResidualHead(dim: number, opts: MlpHeadOptions = {}): Head {
  const hidden = opts.hidden ?? 512;
  const seed = opts.seed ?? 7;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new KitError(`MLP head: dim must be a positive integer, got ${dim}`);
  }
  if (!Number.isInteger(hidden) || hidden < 1) {
    throw new KitError(`MLP head: hidden must be a positive integer, got ${hidden}`);
  }
  const rng = new SeededRandom(seed);
  const bound = 1 / Math.sqrt(dim);
  const uniform = (n: number) =>
    Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * bound);
  const w1 = tf.tidy(() => tf.variable(tf.tensor2d(uniform(dim * hidden), [dim, hidden]), true));
  const b1 = tf.tidy(() => tf.variable(tf.tensor1d(uniform(hidden)), true));
  const w2 = tf.tidy(() => tf.variable(tf.zeros([hidden, dim]), true));
  const b2 = tf.tidy(() => tf.variable(tf.zeros([dim]), true));
  const parameters: HeadParameter[] = [
    { name: "w1", variable: w1 },
    { name: "b1", variable: b1 },
    { name: "w2", variable: w2 },
    { name: "b2", variable: b2 },
  ];
  const count = parameters.reduce((a, p) => a + p.variable.size, 0);
  const prox = (): Scalar =>
    tf.tidy(() =>
      tf.div(tf.addN(parameters.map((p) => tf.sum(tf.square(p.variable)))), count) as Scalar
    );
  return {
    kind: "mlp",
    dim,
    apply(t: Tensor2D): Tensor2D {
      if (t.rank !== 2 || t.shape[1] !== dim) {
        throw new KitError(`MLP head: expected n × ${dim} rows, got shape [${t.shape.join(", ")}]`);
      }
      return tf.tidy(() => {
        const h = biasGelu(frozenInputMatMul(t, w1 as Tensor2D), b1 as Tensor1D);
        return residualNormalize(t, matMulFast(h, w2 as Tensor2D), b2 as Tensor1D);
      });
    },
    parameters,
    variables: [w1, b1, w2, b2],
    regularizers: { prox, proxParams: ["w1", "b1", "w2", "b2"], ortho: null },
    getState: (): HeadState => readHeadState(parameters),
    setState: (state: HeadState): void => writeHeadState(parameters, state, "MLP head"),
    dispose: (): void => {
      for (const p of parameters) p.variable.dispose();
    },
  };
}
