import { tf } from "./tf.ts";
import type { Tensor2D } from "./tf.ts";
import { nativeMatMulActive } from "./native_matmul_kernel.ts";

/**
 * `a · b` (optionally with either side transposed) whose forward **and backward** passes use
 * only untransposed matmuls on explicitly transposed copies. TF.js's WASM kernel is 6–20×
 * slower with transpose flags, and the built-in MatMul gradient uses them; this custom gradient
 * (dA = dY·Bᵀ, dB = Aᵀ·dY, each with an explicit transpose) avoids that path. Same values as
 * `tf.matMul` on every backend. When the matmuls run in OpenBLAS (`wasm+openblas`), where
 * transpose flags cost nothing, it is plain `tf.matMul` with its built-in gradient.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "./tf.ts";
 * import { matMulFast } from "./matmul.ts";
 * const y = matMulFast(tf.ones([2, 3]), tf.ones([4, 3]), false, true); // 2×4
 * assert(y.shape[1] === 4);
 * ```
 */
export function matMulFast(
  a: Tensor2D,
  b: Tensor2D,
  transposeA = false,
  transposeB = false,
): Tensor2D {
  // WebGPU's matmul reads transposed operands itself: no transpose dispatches (issue 24)
  if (nativeMatMulActive() || tf.getBackend() === "webgpu") {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xa = args[0] as Tensor2D, yb = args[1] as Tensor2D;
    const save = args[2] as tf.GradSaveFunc;
    save([xa, yb]);
    const lhs = transposeA ? xa.transpose() : xa;
    const rhs = transposeB ? yb.transpose() : yb;
    const value = tf.matMul(lhs, rhs) as Tensor2D;
    return {
      value,
      gradFunc: (dy, saved) => {
        const [sx, sy] = saved as [Tensor2D, Tensor2D];
        const g = dy as Tensor2D;
        // Y = op(X)·op(Yb). dop(X) = dY·op(Yb)ᵀ ; dop(Yb) = op(X)ᵀ·dY.
        const opX = transposeA ? sx.transpose() : sx;
        const opY = transposeB ? sy.transpose() : sy;
        const dOpX = tf.matMul(g, opY.transpose());
        const dOpY = tf.matMul(opX.transpose(), g);
        return [
          transposeA ? dOpX.transpose() : dOpX,
          transposeB ? dOpY.transpose() : dOpY,
        ];
      },
    };
  });
  return f(a, b) as Tensor2D;
}
