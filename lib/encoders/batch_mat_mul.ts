import { tf } from "../backend/tf.ts";
import { nativeMatMulActive } from "../backend/native_matmul_kernel.ts";

/**
 * Batched `a · b` for rank-3 tensors (`[batch, m, k] · [batch, k, n]`, either side optionally
 * transposed in its last two axes) whose forward **and backward** passes multiply only
 * explicitly transposed copies — the batched sibling of `matMulFast` (TF.js's WASM kernel is
 * much slower with transpose flags, and the built-in BatchMatMul gradient uses them). With the
 * matmuls in OpenBLAS (`wasm+openblas`) flags are free: plain `tf.matMul` and its gradient.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { batchMatMulFast } from "./batch_mat_mul.ts";
 * const y = batchMatMulFast(tf.ones([2, 3, 4]) as tf.Tensor3D, tf.ones([2, 5, 4]) as tf.Tensor3D, false, true);
 * assert(y.shape.join() === "2,3,5");
 * ```
 */
export function batchMatMulFast(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeA = false,
  transposeB = false,
): tf.Tensor3D {
  // WebGPU's matmul reads transposed operands itself: no transpose dispatches (issue 24)
  if (nativeMatMulActive() || tf.getBackend() === "webgpu") {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xa = args[0] as tf.Tensor3D, yb = args[1] as tf.Tensor3D;
    const save = args[2] as tf.GradSaveFunc;
    save([xa, yb]);
    const lhs = transposeA ? t(xa) : xa;
    const rhs = transposeB ? t(yb) : yb;
    return {
      value: tf.matMul(lhs, rhs) as tf.Tensor3D,
      gradFunc: (dy, saved) => {
        const [sx, sy] = saved as [tf.Tensor3D, tf.Tensor3D];
        const g = dy as tf.Tensor3D;
        const opX = transposeA ? t(sx) : sx;
        const opY = transposeB ? t(sy) : sy;
        const dOpX = tf.matMul(g, t(opY));
        const dOpY = tf.matMul(t(opX), g);
        return [transposeA ? t(dOpX) : dOpX, transposeB ? t(dOpY) : dOpY];
      },
    };
  });
  return f(a, b) as tf.Tensor3D;
}
