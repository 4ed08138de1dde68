import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import { fusedDropout, webGpuFusedOpsActive } from "../backend/webgpu_fused_ops.ts";

/** Dropout probabilities of a tower in training mode (Hugging Face's config names). */
export interface DropoutRates {
  /** `hidden_dropout_prob`: embeddings output and each sub-layer output before its residual add. */
  hidden: number;
  /** `attention_probs_dropout_prob`: the attention probabilities. */
  attention: number;
}

/**
 * Seeded dropout for one forward pass in training mode (Hugging Face's `nn.Dropout` sites; at
 * evaluation no `Dropout` is passed and nothing is dropped). Each call draws a fresh mask from
 * `seed` and a running site counter, so a forward pass with the same seed drops the same units
 * (resumable training replays the identical trajectory) and two sites never share a mask.
 * Surviving units are scaled by `1 / (1 − rate)`, as `torch.nn.Dropout`.
 */
export class Dropout {
  readonly rates: DropoutRates;
  readonly seed: number;
  #site = 0;

  constructor(rates: DropoutRates, seed: number) {
    for (const [k, r] of Object.entries(rates)) {
      if (!(r >= 0 && r < 1)) throw new KitError(`dropout ${k} rate ${r}: expected 0 ≤ rate < 1`);
    }
    if (!Number.isInteger(seed)) throw new KitError(`dropout seed ${seed}: expected an integer`);
    this.rates = rates;
    this.seed = seed;
  }

  /** Applies dropout of `rate` to `x` (identity when the rate is 0; no site is consumed). */
  apply<T extends tf.Tensor>(x: T, which: keyof DropoutRates): T {
    const rate = this.rates[which];
    if (rate === 0) return x;
    const site = this.#site++;
    // WebGPU: the mask drawn on the device from (seed, site, index), nothing uploaded (issue 24)
    if (webGpuFusedOpsActive()) return fusedDropout(x, rate, `${this.seed}:${site}`);
    return tf.dropout(x, rate, undefined, `${this.seed}:${site}`) as T;
  }
}
