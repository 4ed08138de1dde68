import { tf } from "../backend/tf.ts";
import type { Tensor, Tensor1D, Tensor2D } from "../backend/tf.ts";
import { BIAS_GELU, fusedHeadKernelsActive, GELU_GRAD } from "./_fused_head_kernels.ts";
import { gelu } from "./gelu.ts";

/**
 * `GELU(z + b)` (exact erf GELU, `b` broadcast over the rows), the MLP head's hidden layer. On
 * the WASM backend one fused WebAssembly SIMD pass computes the activation and stores its
 * derivative `Φ(x) + x·φ(x)`, so the backward pass is one multiply (with the bias gradient's
 * column sums in the same pass); elsewhere it is `gelu(tf.add(z, b))` in composite ops. The two
 * agree to float32 rounding (the kernel's erf is accurate to a few float32 ulps).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { biasGelu } from "./bias_gelu.ts";
 * const y = biasGelu(tf.tensor2d([[0.5, 0, 0, 0]]), tf.tensor1d([0.5, 0, 0, 0])).dataSync()[0]!;
 * assert(Math.abs(y - 0.8413447) < 1e-5);
 * ```
 */
export function biasGelu(z: Tensor2D, b: Tensor1D): Tensor2D {
  if (z.rank !== 2 || b.rank !== 1 || b.shape[0] !== z.shape[1]) {
    throw new Error(`biasGelu: expected n × k and k, got [${z.shape}] and [${b.shape}]`);
  }
  if (z.dtype !== "float32" || b.dtype !== "float32" || !fusedHeadKernelsActive(z.shape[1])) {
    return gelu(tf.add(z, b) as Tensor2D);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const zi = args[0] as Tensor2D, bi = args[1] as Tensor1D;
    const save = args[2] as tf.GradSaveFunc;
    const [h, dg] = tf.engine().runKernel(BIAS_GELU, { z: zi, b: bi }) as Tensor[];
    save([dg!]);
    return {
      value: h as Tensor2D,
      gradFunc: (dy, saved) => {
        const [sdg] = saved as [Tensor];
        return tf.engine().runKernel(GELU_GRAD, { dy: dy as Tensor, dg: sdg }) as Tensor[];
      },
    };
  });
  return f(z, b) as Tensor2D;
}
