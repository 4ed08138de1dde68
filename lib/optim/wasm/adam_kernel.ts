import { ADAM_KERNEL_WASM_BASE64 } from "./adam_kernel_wasm.ts";

/** The exported function of adam_kernel.wat (byte offsets into the memory; n even). */
export type AdamKernelFn = (
  p: number,
  g: number,
  m: number,
  v: number,
  n: number,
  useProx: number,
  c: number,
  scale: number,
  decay: number,
  wd: number,
  oneMinusB1: number,
  b2: number,
  oneMinusB2: number,
  stepSize: number,
  bc2Sqrt: number,
  eps: number,
) => void;

let compiled: WebAssembly.Module | null | undefined;

/**
 * A fresh instance of the Adam kernel (WebAssembly SIMD, float64x2) on its own memory of at
 * least `bytes` bytes, or null where WebAssembly SIMD is unavailable (the caller then runs the
 * same arithmetic in JavaScript). The memory never grows, so views into it stay valid.
 */
export function instantiateAdamKernel(
  bytes: number,
): { memory: WebAssembly.Memory; adam: AdamKernelFn } | null {
  if (compiled === undefined) {
    try {
      const bin = Uint8Array.from(atob(ADAM_KERNEL_WASM_BASE64), (ch) => ch.charCodeAt(0));
      compiled = new WebAssembly.Module(bin);
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  return { memory, adam: instance.exports.adam as unknown as AdamKernelFn };
}
