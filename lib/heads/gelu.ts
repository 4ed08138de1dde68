import { tf } from "../backend/tf.ts";
import type { Tensor } from "../backend/tf.ts";
import { fusedGelu, webGpuFusedOpsActive } from "../backend/webgpu_fused_ops.ts";

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU `x·Φ(x) = ½x(1 + erf(x/√2))` (torch's default `nn.GELU()`, not the tanh
 * approximation), with the gradient written out: `Φ(x) + x·φ(x)`, `φ(x) = e^{−x²/2}/√(2π)`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { gelu } from "./gelu.ts";
 * const y = gelu(tf.tensor1d([1])).dataSync()[0]!;
 * assert(Math.abs(y - 0.8413447) < 1e-5);
 * ```
 */
export function gelu<T extends Tensor>(x: T): T {
  // WebGPU: one fused kernel each way (issue 24); other backends: the ops below
  if (webGpuFusedOpsActive()) return fusedGelu(x);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(input, INV_SQRT2)), 1), 0.5);
    save([input, cdf]);
    return {
      value: tf.mul(input, cdf),
      gradFunc: (dy, saved) => {
        const [sx, sc] = saved as [Tensor, Tensor];
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), INV_SQRT_2PI);
        return [tf.mul(dy, tf.add(sc, tf.mul(sx, pdf)))];
      },
    };
  });
  return f(x) as T;
}
