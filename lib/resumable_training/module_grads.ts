import { tf } from "../backend/tf.ts";
import type { ParameterSet, ParameterState } from "../encoders/parameter_set.ts";
import type { ModuleGrads } from "./resumable_trainer.ts";

/** What `moduleGrads` returns. */
export interface GradsOutcome {
  loss: number;
  /** Gradients of every module parameter the loss depends on (others are absent). */
  grads: ModuleGrads;
  /** Gradients of the extra `inputs` (e.g. summed token embeddings), in order. */
  inputGrads: Float32Array[];
}

/**
 * The value of `f` and its gradients with respect to the parameters of `modules` and to extra
 * input tensors (wrapped in temporary variables: token embeddings gathered in JavaScript get
 * their gradient here, to be scattered back to the tables). Reads with `await data()`, so it
 * works on WebGPU too. Every tensor it creates is disposed; `inputs` are disposed as well.
 */
export async function moduleGrads(
  modules: Record<string, ParameterSet>,
  inputs: tf.Tensor[],
  f: (inputs: tf.Tensor[]) => tf.Scalar,
): Promise<GradsOutcome> {
  const inputVars = inputs.map((t) => tf.variable(t, true));
  tf.dispose(inputs);
  const owners: [string, string, tf.Variable][] = [];
  for (const [m, ps] of Object.entries(modules)) {
    for (const n of ps.deviceNames) owners.push([m, n, ps.tensor(n) as tf.Variable]);
  }
  try {
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => f(inputVars)),
      [...owners.map((o) => o[2]), ...inputVars],
    );
    const loss = (await value.data())[0]!;
    const out: ModuleGrads = {};
    for (const [m, n, v] of owners) {
      const g = grads[v.name];
      if (!g) continue;
      (out[m] ??= {} as ParameterState)[n] = (await g.data()) as Float32Array;
    }
    const inputGrads: Float32Array[] = [];
    for (const v of inputVars) {
      const g = grads[v.name];
      inputGrads.push(g ? (await g.data()) as Float32Array : new Float32Array(v.size));
    }
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: out, inputGrads };
  } finally {
    tf.dispose(inputVars);
  }
}
