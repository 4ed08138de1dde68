import { tf } from "../backend/tf.ts";
import type { Tensor2D } from "../backend/tf.ts";
import { nativeMatMulActive } from "../backend/native_matmul_kernel.ts";

/**
 * `x · w` where only `w` is trained: the gradient is `dW = xᵀ·dY` (explicit transpose, no
 * transpose flags, like `matMulFast`) and `x` gets zeros. `matMulFast` would also compute
 * `dY·wᵀ` for `x` — a full-size matmul thrown away when `x` is a frozen embedding batch.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { frozenInputMatMul } from "./frozen_input_matmul.ts";
 * const w = tf.variable(tf.eye(2));
 * const g = tf.grad((v) => tf.sum(frozenInputMatMul(tf.ones([3, 2]), v as tf.Tensor2D)))(w);
 * assert(g.dataSync()[0] === 3);
 * ```
 */
export function frozenInputMatMul(x: Tensor2D, w: Tensor2D): Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xa = args[0] as Tensor2D, wb = args[1] as Tensor2D;
    const save = args[2] as tf.GradSaveFunc;
    save([xa]);
    return {
      value: tf.matMul(xa, wb) as Tensor2D,
      gradFunc: (dy, saved) => {
        const [sx] = saved as [Tensor2D];
        // OpenBLAS takes the transpose flag for free; WASM's kernel wants an explicit copy
        const dW = nativeMatMulActive()
          ? tf.matMul(sx, dy as Tensor2D, true, false)
          : tf.matMul(sx.transpose(), dy as Tensor2D);
        return [tf.zerosLike(sx), dW];
      },
    };
  });
  return f(x, w) as Tensor2D;
}
