import { tf } from "./tf.ts";

/** TF.js-WASM's backend method that views a tensor's data in the WASM heap (no copy). */
interface HeapViewBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Copies a float32 tensor's values into `out` (length = `t.size`). On the WASM backend it reads
 * straight from the heap into the caller's buffer, so a training loop allocates no fresh
 * ArrayBuffer per step (TF.js's `data()` slices one every call, and V8 is slow to hand out the
 * first few dozen large ones); elsewhere it awaits `data()` (WebGPU cannot read synchronously).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tf } from "./tf.ts";
 * import { readFloat32Into } from "./read_into.ts";
 * const out = new Float32Array(2);
 * await readFloat32Into(tf.tensor1d([1, 2]), out);
 * assert(out[1] === 2);
 * ```
 */
export async function readFloat32Into(t: tf.Tensor, out: Float32Array): Promise<Float32Array> {
  if (t.size !== out.length || t.dtype !== "float32") {
    throw new Error(`readFloat32Into: ${t.dtype} tensor of ${t.size} values into ${out.length}`);
  }
  if (tf.getBackend() === "wasm") {
    const view = (tf.backend() as unknown as HeapViewBackend).typedArrayFromHeap(t);
    out.set(view as Float32Array);
  } else {
    out.set((await t.data()) as Float32Array);
  }
  return out;
}
