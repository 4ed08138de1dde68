import { tf } from "../backend/tf.ts";
import type { Tensor2D } from "../backend/tf.ts";

/**
 * Row-wise L2 normalisation `x / max(‖x‖, 1e-12)` (torch `F.normalize(x, dim=-1)`) with a
 * hand-written gradient `(g − z·⟨z, g⟩) / max(‖x‖, ε)` (for rows above ε), which saves the
 * WASM backend half a dozen full-size ops per step compared with differentiating the
 * composed ops.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { normalizeRows } from "./normalize_rows.ts";
 * const z = normalizeRows(tf.tensor2d([[3, 4]]));
 * assert(Math.abs(z.dataSync()[0]! - 0.6) < 1e-6);
 * ```
 */
export function normalizeRows(x: Tensor2D): Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const norm = tf.maximum(tf.sqrt(tf.sum(tf.square(input), 1, true)), 1e-12);
    const z = tf.div(input, norm) as Tensor2D;
    save([z, norm]);
    return {
      value: z,
      gradFunc: (dy, saved) => {
        const [sz, sn] = saved as [Tensor2D, tf.Tensor];
        const g = dy as Tensor2D;
        const proj = tf.sum(tf.mul(sz, g), 1, true);
        return [tf.div(tf.sub(g, tf.mul(sz, proj)), sn)];
      },
    };
  });
  return f(x) as Tensor2D;
}
