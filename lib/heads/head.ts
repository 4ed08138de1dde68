import type { Scalar, Tensor2D, Variable } from "../backend/tf.ts";

/** The text-side heads of paper D (plus the identity "before" baseline). */
export type HeadKind = "identity" | "linear" | "mlp";

/** One trainable parameter of a head: its state name and the TF.js variable holding it. */
export interface HeadParameter {
  readonly name: string;
  readonly variable: Variable;
}

/** A head's parameters as plain arrays by name (what checkpoints store). */
export type HeadState = Record<string, Float32Array>;

/**
 * D's regularisers as functions (evaluated only when their weight is non-zero). Each returns a
 * scalar that `tf.grads` can differentiate with respect to the head's variables.
 */
export interface HeadRegularizers {
  /** Proximity to identity: `Σ(ΔW²)/d²` (linear), mean of squares of all parameters (MLP), 0 (identity). */
  readonly prox: () => Scalar;
  /**
   * The parameters whose mean square is `prox` (`prox = Σ_{p∈proxParams} Σ p² / their total
   * size`), so a trainer can add its gradient `2p/size` without TF.js ops.
   */
  readonly proxParams: readonly string[];
  /** Soft orthogonality `Σ((WᵀW − I)²)/d²`, W = I + ΔW; null where D does not define it (MLP, identity). */
  readonly ortho: (() => Scalar) | null;
}

/**
 * A text-side projection head: maps `n × dim` caption embeddings to `n × dim` rows that are
 * re-normalised to unit length. Image embeddings are never touched.
 */
export interface Head {
  readonly kind: HeadKind;
  /** Embedding width d (input = output). */
  readonly dim: number;
  /**
   * Projects and L2-normalises the rows (`x / max(‖x‖, 1e-12)`, like `F.normalize`).
   * Differentiable with respect to the head's variables; the input rows are treated as frozen
   * embeddings (they receive a zero gradient).
   */
  apply(t: Tensor2D): Tensor2D;
  /** Trainable parameters, in a fixed order. */
  readonly parameters: readonly HeadParameter[];
  /** The trainable variables (same order as `parameters`). */
  readonly variables: readonly Variable[];
  readonly regularizers: HeadRegularizers;
  /** Copies of the parameter values by name. */
  getState(): HeadState;
  /** Overwrites the parameters; every name must be present with the right length. */
  setState(state: HeadState): void;
  /** Frees the variables. */
  dispose(): void;
}
