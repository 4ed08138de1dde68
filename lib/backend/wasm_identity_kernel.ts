import { tf } from "./tf.ts";

/** The part of TF.js-WASM's backend object the kernel uses (not in its public typings). */
interface RefCountingBackend {
  incRef(dataId: object): void;
}

let installed = false;

/**
 * Replaces TF.js-WASM's Identity kernel, which copies its input into fresh heap memory, with
 * one that shares the input's buffer and counts a reference (as the WASM backend's own Reshape
 * and the cpu backend's Identity do). TF.js clones every tensor it saves for the backward pass
 * (`tf.customGrad`'s `save`, the inputs of MatMul, …) through Identity, so a training step
 * otherwise copies a dozen activations it never changes; tensors are immutable on this backend
 * (a variable's `assign` swaps its buffer), so sharing is safe. String tensors keep the
 * original kernel. Idempotent; call after `@tensorflow/tfjs-backend-wasm` was imported.
 */
export function installSharedIdentity(): void {
  if (installed) return;
  const config = tf.getKernel("Identity", "wasm");
  if (!config) throw new Error("TF.js-WASM's Identity kernel is not registered");
  installed = true;
  const copying = config.kernelFunc;
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      if (x.dtype === "string") return copying(args);
      (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
