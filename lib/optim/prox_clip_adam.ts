import { KitError } from "../util/kit_error.ts";
import type { Adam } from "./adam.ts";

/** What `proxClipAdamStep` did. */
export interface ProxClipAdamResult {
  /** `Σ θ²` over the prox parameters (the prox loss is `λ · proxSquares / count`). */
  proxSquares: number;
  /** Global L2 norm of the gradients after adding the prox gradient, before clipping. */
  gradNorm: number;
  /** The clipping factor applied (1 when not clipped or clipping is off). */
  scale: number;
}

/** The fused update's settings. */
export interface ProxClipAdamOptions {
  /** Names of the parameters in the prox term `λ · mean(θ²)` (their values, together). */
  proxParams: readonly string[];
  /** λ of the prox term (0: none). */
  lambdaProx: number;
  /** Global gradient-norm clipping threshold (≤ 0: no clipping, the norm is still reported). */
  maxGradNorm: number;
  /** Learning rate of this step. */
  lr: number;
  /**
   * Called between the norm pass and the update with the prox squares (e.g. to reject a
   * non-finite loss before the parameters change); throwing leaves parameters and moments as
   * they were.
   */
  beforeUpdate?: (r: ProxClipAdamResult) => void;
}

/**
 * One optimizer step of paper D in two passes over Float32Arrays and no allocation: the prox
 * gradient `2λθ/n` (n = number of prox values), global-norm clipping as
 * `torch.nn.utils.clip_grad_norm_` and Adam (`adam.stepPrepared`). Pass 1 reads θ and g and sums
 * `Σθ²` (prox) and `Σ(g + 2λθ/n)²` (norm); pass 2 is the Adam update with the prox gradient and
 * the clipping factor applied on the fly. Bit for bit the same as the unfused sequence (add the
 * prox gradient into g, `clipGradNorm`, `adam.step`), which writes g twice more and reads it three
 * times more. `grads` are left as they were.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam } from "./adam.ts";
 * import { proxClipAdamStep } from "./prox_clip_adam.ts";
 * const p = { w: new Float32Array([1]) }, g = { w: new Float32Array([3]) };
 * const r = proxClipAdamStep(new Adam({ w: 1 }), p, g, {
 *   proxParams: ["w"], lambdaProx: 0.5, maxGradNorm: 1, lr: 0.1,
 * });
 * assert(r.gradNorm === 4 && r.proxSquares === 1 && Math.abs(p.w[0]! - 0.9) < 1e-6);
 * ```
 */
export function proxClipAdamStep(
  adam: Adam,
  params: Record<string, Float32Array>,
  grads: Record<string, Float32Array>,
  opts: ProxClipAdamOptions,
): ProxClipAdamResult {
  let proxCount = 0;
  for (const name of opts.proxParams) {
    const p = params[name];
    if (!p) throw new KitError(`proxClipAdamStep: prox parameter "${name}" is not a parameter`);
    proxCount += p.length;
  }
  const coefs: Record<string, number> = {};
  const coef = opts.lambdaProx > 0 && proxCount > 0 ? 2 * opts.lambdaProx / proxCount : 0;
  if (coef !== 0) { for (const name of opts.proxParams) coefs[name] = coef; }
  const fround = Math.fround;
  let proxSquares = 0, sq = 0;
  // Pass 1, in the order of `grads` (as clipGradNorm sums): squares of θ and of g + cθ.
  for (const name of Object.keys(grads)) {
    const g = grads[name]!;
    const c = coefs[name] ?? 0;
    if (c !== 0) {
      const p = params[name];
      if (!p || p.length !== g.length) {
        throw new KitError(`proxClipAdamStep: "${name}" has no parameter of ${g.length} values`);
      }
      for (let i = 0; i < g.length; i++) {
        const x = p[i]!;
        proxSquares += x * x;
        const gi = fround(g[i]! + c * x);
        sq += gi * gi;
      }
    } else {
      for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
    }
  }
  const gradNorm = Math.sqrt(sq);
  let scale = 1;
  if (opts.maxGradNorm > 0) {
    const clip = opts.maxGradNorm / (gradNorm + 1e-6);
    if (clip < 1) scale = fround(clip);
  }
  const result = { proxSquares, gradNorm, scale };
  opts.beforeUpdate?.(result);
  adam.stepPrepared(params, grads, opts.lr, coefs, scale);
  return result;
}
