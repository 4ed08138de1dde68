import { KitError } from "../util/kit_error.ts";
import type { XlmRobertaConfig } from "./encoder_config.ts";

/** WebAssembly's 32-bit heap: TF.js-WASM cannot grow past it. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;
/** Kept free below the limit for the allocator's fragmentation and the JS-side copies. */
const HEAP_MARGIN_BYTES = 384 * 2 ** 20;

/**
 * Heap bytes one encoder layer's intermediates take during `XlmRobertaEncoder.embed` (which
 * frees each layer's before the next), float32: ≈ 53 vectors of the width a token (q/k/v and
 * their bias adds and head transposes, the attention output, residuals, two LayerNorms' five
 * temporaries each, the feed-forward's 4×-wide rows before, inside and after the erf GELU) and
 * four `heads × length` attention rows a token (scores, scaled, masked, softmax). Measured on
 * XLM-R-large under the old single tidy: 1.32 GB for 24 layers of 8 × 41 tokens, i.e. 41
 * vectors a token-layer once kernels shared buffers; 53 is the conservative count.
 */
export function xlmrLayerActivationBytes(
  c: Pick<XlmRobertaConfig, "hidden_size" | "num_attention_heads">,
  batch: number,
  length: number,
): number {
  const tokens = batch * length;
  return 4 * tokens * (53 * c.hidden_size + 4 * c.num_attention_heads * length);
}

/**
 * The most texts of `length` tokens one WASM forward pass may hold, given `inUseBytes` already
 * allocated on the heap (weights, other tensors): at least 1, at most `requested`. A single
 * text that does not fit is a KitError naming the sizes and what to do.
 */
export function wasmBatchLimit(
  c: Pick<XlmRobertaConfig, "hidden_size" | "num_attention_heads">,
  requested: number,
  length: number,
  inUseBytes: number,
  limitBytes = WASM_HEAP_LIMIT_BYTES,
): number {
  const margin = Math.min(HEAP_MARGIN_BYTES, limitBytes / 8);
  const free = limitBytes - margin - inUseBytes;
  const one = xlmrLayerActivationBytes(c, 1, length);
  if (one > free) {
    throw new KitError(
      `XLM-R (hidden ${c.hidden_size}): one text of ${length} tokens needs ${
        (one / 2 ** 20).toFixed(0)
      } MiB of WASM heap for a layer's activations; ${
        (Math.max(0, free) / 2 ** 20).toFixed(0)
      } MiB are left of WASM's ${(limitBytes / 2 ** 30).toFixed(2)} GiB heap after ${
        (inUseBytes / 2 ** 30).toFixed(2)
      } GiB in use`,
      [
        "use --backend cpu (no heap limit) or webgpu, or a shorter maxLength",
      ],
    );
  }
  return Math.max(1, Math.min(requested, Math.floor(free / one)));
}
