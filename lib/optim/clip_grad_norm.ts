/** What `clipGradNorm` did. */
export interface ClipResult {
  /** The global L2 norm of all gradients before clipping. */
  totalNorm: number;
  /** The factor the gradients were multiplied by (1 when not clipped). */
  scale: number;
}

/**
 * Global gradient-norm clipping, in place, as `torch.nn.utils.clip_grad_norm_`: the L2 norm
 * over all gradients together; when `maxNorm / (norm + 1e-6) < 1` every gradient is multiplied
 * by that factor (rounded to float32).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipGradNorm } from "./clip_grad_norm.ts";
 * const g = { a: new Float32Array([3]), b: new Float32Array([4]) };
 * const r = clipGradNorm(g, 1);
 * assert(r.totalNorm === 5 && Math.abs(g.b[0]! - 0.8) < 1e-6);
 * ```
 */
export function clipGradNorm(grads: Record<string, Float32Array>, maxNorm: number): ClipResult {
  let sq = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const totalNorm = Math.sqrt(sq);
  const coef = maxNorm / (totalNorm + 1e-6);
  if (!(coef < 1)) return { totalNorm, scale: 1 };
  const s = Math.fround(coef);
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] = g[i]! * s;
  return { totalNorm, scale: s };
}
