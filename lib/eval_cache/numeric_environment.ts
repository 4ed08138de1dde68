import { tf } from "../backend/tf.ts";
import { activeBackend } from "../backend/select_backend.ts";
import { KitError } from "../util/kit_error.ts";

/**
 * What decides the floating-point results of the same code on the same inputs: the active
 * TF.js backend (`wasm+openblas`, `webgpu`, …) with its device, the native BLAS tag (version,
 * CPU kernel and thread count, e.g. `openblas-0.3.21-Haswell-2t`), TF.js's version and the
 * JavaScript engine's (V8: `Math.exp` and friends). Part of every result-cache key: a result
 * computed with another kernel is never reused. A KitError when no backend was initialised
 * (`initBackend` first), since the cache key would not say which kernels ran.
 */
export function numericEnvironment(): Record<string, string> {
  const backend = activeBackend();
  if (!backend) {
    throw new KitError("result cache: no backend initialised (call initBackend() first)");
  }
  return {
    backend: backend.name,
    device: backend.device,
    blas: backend.blas?.tag ?? "none",
    tfjsBackend: tf.getBackend(),
    tfjs: tf.version_core,
    v8: Deno.version.v8,
  };
}
