import { tf } from "../backend/tf.ts";
import type { Tensor, Tensor1D, Tensor2D } from "../backend/tf.ts";
import {
  fusedHeadKernelsActive,
  NORMALIZE_GRAD,
  RESIDUAL_NORMALIZE,
} from "./_fused_head_kernels.ts";
import { normalizeRows } from "./normalize_rows.ts";

/**
 * `normalizeRows(t + (m + b))` (`b` broadcast over the rows): the residual heads' output. On the
 * WASM backend one fused WebAssembly SIMD kernel does the sums, the row norms and the division
 * (and one the backward pass `(g − z·⟨z, g⟩)/‖y‖` with the bias gradient's column sums);
 * elsewhere it is the composite ops. Gradients flow to `t`, `m` and `b`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { residualNormalize } from "./residual_normalize.ts";
 * const z = residualNormalize(tf.tensor2d([[1, 0, 0, 0]]), tf.tensor2d([[2, 4, 0, 0]]), tf.zeros([4]));
 * assert(Math.abs(z.dataSync()[0]! - 0.6) < 1e-6);
 * ```
 */
export function residualNormalize(t: Tensor2D, m: Tensor2D, b: Tensor1D): Tensor2D {
  if (
    t.rank !== 2 || m.rank !== 2 || t.shape[0] !== m.shape[0] || t.shape[1] !== m.shape[1] ||
    b.rank !== 1 || b.shape[0] !== t.shape[1]
  ) {
    throw new Error(
      `residualNormalize: expected n × k, n × k and k, got [${t.shape}], [${m.shape}], [${b.shape}]`,
    );
  }
  if (
    t.dtype !== "float32" || m.dtype !== "float32" || b.dtype !== "float32" ||
    !fusedHeadKernelsActive(t.shape[1])
  ) {
    return normalizeRows(tf.add(t, tf.add(m, b)) as Tensor2D);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const ti = args[0] as Tensor2D, mi = args[1] as Tensor2D, bi = args[2] as Tensor1D;
    const save = args[3] as tf.GradSaveFunc;
    const [z, nrm] = tf.engine().runKernel(RESIDUAL_NORMALIZE, { t: ti, m: mi, b: bi }) as Tensor[];
    save([z!, nrm!]);
    return {
      value: z as Tensor2D,
      gradFunc: (dy, saved) => {
        const [sz, sn] = saved as [Tensor, Tensor];
        const [g, db] = tf.engine().runKernel(NORMALIZE_GRAD, {
          g: dy as Tensor,
          z: sz,
          nrm: sn,
        }) as Tensor[];
        // t and m get the same gradient (a second handle on it, no copy)
        return [g!.clone(), g!, db!];
      },
    };
  });
  return f(t, m, b) as Tensor2D;
}
