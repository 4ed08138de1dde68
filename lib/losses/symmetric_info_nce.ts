import { tf } from "../backend/tf.ts";
import type { Scalar, Tensor2D } from "../backend/tf.ts";
import { matMulFast } from "../backend/matmul.ts";
import { nativeMatMulActive } from "../backend/native_matmul_kernel.ts";
import { KitError } from "../util/kit_error.ts";
import { assertMatrix } from "./cross_entropy.ts";
import { REPEATED_INFO_NCE, repeatedInfoNceKernelActive } from "./_repeated_info_nce_kernel.ts";

/**
 * Paper D's symmetric InfoNCE: `½ (CE(S) + CE(Sᵀ))` with `S = T·Vᵀ / τ` and the diagonal as
 * targets (row i of `textEmb` belongs with row i of `imageEmb`). Both inputs are used as given
 * (D's rows are already L2-normalised). Log-sum-exps are max-shifted, so large logits are safe.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { symmetricInfoNce } from "./symmetric_info_nce.ts";
 * const loss = symmetricInfoNce(tf.eye(3) as tf.Tensor2D, tf.eye(3) as tf.Tensor2D, 0.07);
 * assert(loss.dataSync()[0]! < 1e-5);
 * ```
 */
export function symmetricInfoNce(
  textEmb: Tensor2D,
  imageEmb: Tensor2D,
  temperature = 0.07,
): Scalar {
  assertMatrix(textEmb, "symmetricInfoNce text");
  assertMatrix(imageEmb, "symmetricInfoNce images", textEmb.shape[1]);
  if (imageEmb.shape[0] !== textEmb.shape[0]) {
    throw new KitError(
      `symmetricInfoNce: ${textEmb.shape[0]} text rows but ${
        imageEmb.shape[0]
      } image rows (pairs must line up)`,
    );
  }
  checkTemperature(temperature);
  const n = textEmb.shape[0];
  return tf.tidy(() => {
    const s = tf.mul(matMulFast(textEmb, imageEmb, false, true), 1 / temperature) as Tensor2D;
    const diag = tf.sum(tf.mul(s, tf.eye(n)));
    const rows = tf.sum(tf.logSumExp(s, 1));
    const cols = tf.sum(tf.logSumExp(s, 0));
    // ½(mean_i lse_row_i + mean_j lse_col_j) − mean_i S_ii
    return tf.div(tf.sub(tf.mul(tf.add(rows, cols), 0.5), diag), n) as Scalar;
  });
}

/**
 * `symmetricInfoNce(text, tile(uniqueImages, repeats), τ)` — the same value and gradient —
 * without materialising the repeated images: D's batches stack `repeats` language blocks of
 * B captions over the same B images, so `S` (R·B × R·B) is `S₀ = T·Uᵀ/τ` (R·B × B) tiled R times
 * across. Row log-sum-exps are those of `S₀` plus `ln R`; the R copies of a column share one
 * log-sum-exp; `S_ii = S₀[i, i mod B]`. Cost: one R·B×d×B matmul instead of R·B×d×R·B, and
 * the gradient is written out rather than differentiated op by op.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "../backend/tf.ts";
 * import { symmetricInfoNce, symmetricInfoNceRepeatedImages } from "./symmetric_info_nce.ts";
 * const t = tf.randomNormal([6, 4]) as tf.Tensor2D, u = tf.randomNormal([2, 4]) as tf.Tensor2D;
 * const a = symmetricInfoNceRepeatedImages(t, u, 3).dataSync()[0]!;
 * const b = symmetricInfoNce(t, tf.tile(u, [3, 1]) as tf.Tensor2D).dataSync()[0]!;
 * assert(Math.abs(a - b) < 1e-4);
 * ```
 */
export function symmetricInfoNceRepeatedImages(
  textEmb: Tensor2D,
  uniqueImages: Tensor2D,
  repeats: number,
  temperature = 0.07,
  opts: RepeatedImagesOptions = {},
): Scalar {
  assertMatrix(textEmb, "symmetricInfoNceRepeatedImages text");
  assertMatrix(uniqueImages, "symmetricInfoNceRepeatedImages images", textEmb.shape[1]);
  const b = uniqueImages.shape[0];
  const n = textEmb.shape[0];
  if (!Number.isInteger(repeats) || repeats < 1 || n !== repeats * b) {
    throw new KitError(
      `symmetricInfoNceRepeatedImages: ${n} text rows must be repeats (${repeats}) × ${b} images`,
    );
  }
  checkTemperature(temperature);
  const mask = new Float32Array(n * b);
  for (let i = 0; i < n; i++) mask[i * b + (i % b)] = 1;
  const invTau = 1 / temperature;
  const frozen = opts.frozenImages ?? false;
  // Value and gradient written out (the autodiff of two log-sum-exps costs more than the matmuls
  // on WASM). With P = row-softmax(S₀), Q = column-softmax(S₀), M the target mask:
  // L = ½·mean_i lse_row_i + ½·ln R + ½·mean_k lse_col_k − mean_i S₀[i, i mod B]
  // dL/dS₀ = P/(2n) + Q/(2B) − M/n ;  dT = dS₀·U/τ ;  dU = dS₀ᵀ·T/τ.
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as Tensor2D, u = args[1] as Tensor2D;
    const save = args[2] as tf.GradSaveFunc;
    const native = nativeMatMulActive(); // OpenBLAS: transpose flags are free
    const product = native ? tf.matMul(t, u, false, true) : tf.matMul(t, u.transpose());
    if (repeatedInfoNceKernelActive()) {
      // one pass for the log-sum-exps, the loss and dL/d(T·Uᵀ) (saved: backward is a multiply)
      const [loss, g] = tf.engine().runKernel(REPEATED_INFO_NCE, { s: product }, {
        invTau,
      }) as Tensor2D[];
      save([t, u, g!]);
      return {
        value: loss as unknown as Scalar,
        gradFunc: (dy, saved) => {
          const [st, su, sg] = saved as Tensor2D[];
          return backwardMatMuls(tf.mul(sg!, dy) as Tensor2D, st!, su!, native);
        },
      };
    }
    const s0 = tf.mul(product, invTau) as Tensor2D;
    const m = tf.tensor2d(mask, [n, b]);
    const lseRow = tf.logSumExp(s0, 1, true); // n × 1
    const lseCol = tf.logSumExp(s0, 0, true); // 1 × b
    const value = tf.sub(
      tf.mul(tf.add(tf.div(tf.sum(lseRow), n), tf.div(tf.sum(lseCol), b)), 0.5),
      tf.div(tf.sum(tf.mul(s0, m)), n),
    );
    save([t, u, s0, lseRow, lseCol, m]);
    return {
      value: tf.add(value, 0.5 * Math.log(repeats)) as Scalar,
      gradFunc: (dy, saved) => {
        const [st, su, ss, lr, lc, sm] = saved as Tensor2D[];
        const p = tf.exp(tf.sub(ss!, lr!));
        const q = tf.exp(tf.sub(ss!, lc!));
        const ds = tf.mul(
          tf.sub(tf.add(tf.mul(p, 1 / (2 * n)), tf.mul(q, 1 / (2 * b))), tf.mul(sm!, 1 / n)),
          tf.mul(dy, invTau),
        ) as Tensor2D;
        return backwardMatMuls(ds, st!, su!, native);
      },
    };
  });
  return tf.tidy(() => f(textEmb, uniqueImages) as Scalar);

  /** dT = dS·U and dU = dSᵀ·T (zeros for frozen images), dS = dL/d(T·Uᵀ). */
  function backwardMatMuls(ds: Tensor2D, st: Tensor2D, su: Tensor2D, native: boolean) {
    const dT = tf.matMul(ds, su);
    const dU = frozen
      ? tf.zerosLike(su)
      : native
      ? tf.matMul(ds, st, true, false)
      : tf.matMul(ds.transpose(), st);
    return [dT, dU];
  }
}

/** Options of `symmetricInfoNceRepeatedImages`. */
export interface RepeatedImagesOptions {
  /**
   * The images are constants (paper D: only the text head trains): their gradient is returned
   * as zeros instead of computed, which saves a transpose of the text batch and a matmul.
   */
  frozenImages?: boolean;
}

function checkTemperature(t: number): void {
  if (!(t > 0) || !Number.isFinite(t)) {
    throw new KitError(`InfoNCE temperature must be a positive number, got ${t}`);
  }
}
