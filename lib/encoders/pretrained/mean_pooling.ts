import { KitError } from "../../util/kit_error.ts";

/**
 * Mean pooling over real tokens (sentence-transformers' `pooling_mode_mean_tokens`): for each
 * sequence b, the average of `hidden[b, t, :]` over the positions t with `mask[b, t] != 0`,
 * i.e. `Σ_t h·m / max(Σ_t m, 1e-9)`. The mask is the tokenizer's attention mask (1 = real
 * token, 0 = padding) — never `input_ids != 0`, which is wrong for XLM-R (`<s>` is id 0, padding
 * is id 1). Accumulates in float64.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanPoolRealTokens } from "./mean_pooling.ts";
 * // one sequence, 3 positions (last one padding), width 2
 * const out = meanPoolRealTokens(new Float32Array([1, 2, 3, 4, 100, 100]), [1, 1, 0], 1, 3, 2);
 * assert(out[0] === 2 && out[1] === 3);
 * ```
 */
export function meanPoolRealTokens(
  hidden: ArrayLike<number>,
  mask: ArrayLike<number | bigint>,
  batch: number,
  seqLen: number,
  dim: number,
): Float32Array {
  if (hidden.length !== batch * seqLen * dim) {
    throw new KitError(
      `meanPoolRealTokens: hidden states hold ${hidden.length} values, expected ${batch}×${seqLen}×${dim}`,
    );
  }
  if (mask.length !== batch * seqLen) {
    throw new KitError(
      `meanPoolRealTokens: attention mask holds ${mask.length} values, expected ${batch}×${seqLen}`,
    );
  }
  const out = new Float32Array(batch * dim);
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seqLen; t++) {
      const m = Number(mask[b * seqLen + t]!);
      if (m === 0) continue;
      count += m;
      const o = (b * seqLen + t) * dim;
      for (let d = 0; d < dim; d++) acc[d]! += m * hidden[o + d]!;
    }
    const inv = 1 / Math.max(count, 1e-9);
    for (let d = 0; d < dim; d++) out[b * dim + d] = acc[d]! * inv;
  }
  return out;
}
