import { tf } from "./tf.ts";
import { KitError } from "../util/kit_error.ts";
import { type BackendPreference, kitConfig } from "../config/kit_config.ts";
import {
  loadOpenBlas,
  nativeBlas,
  type OpenBlasInfo,
  openBlasUnavailableReason,
  setNativeBlasEnabled,
} from "./openblas.ts";
import { installNativeMatMul } from "./native_matmul_kernel.ts";
import { installSharedIdentity } from "./wasm_identity_kernel.ts";

/** What was chosen, and why, recorded in every artifact's provenance. */
export interface BackendInfo {
  /**
   * The backend now active: the TF.js backend's name (`webgpu`, `tensorflow`, `wasm`, `cpu`), or
   * `wasm+openblas` when TF.js-WASM runs its matmuls in native OpenBLAS.
   */
  name: string;
  /** What was asked for. */
  requested: BackendPreference;
  /** Adapter / device description where known (WebGPU adapter info, "Mesa lavapipe" …). */
  device: string;
  /** Backends tried before this one and why each was not used. */
  skipped: string[];
  /** The native BLAS in use for matmuls and the Float64 geometry (library, fixed thread count). */
  blas: OpenBlasInfo | null;
}

let active: BackendInfo | null = null;

/** Vulkan/WebGPU drivers that run on the CPU: correct but slower than WASM for the kit's work. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe/i;

async function tryWebGpu(allowSoftware: boolean): Promise<string | null> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) throw new Error("navigator.gpu is not available in this runtime");
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error("no WebGPU adapter (no GPU, or no Vulkan driver installed)");
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].join(" ");
  if (
    !allowSoftware &&
    ((adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ||
      SOFTWARE_ADAPTER.test(name))
  ) {
    throw new Error(
      `the WebGPU adapter is a CPU emulation (${name.trim()}); pass --backend webgpu to use it anyway`,
    );
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  const desc = [info?.vendor, info?.architecture, info?.device, info?.description]
    .filter((s) => s && s.length > 0).join(" ");
  return desc || "webgpu adapter";
}

async function tryNodeGpu(): Promise<string | null> {
  // Optional: only where the user has installed @tensorflow/tfjs-node-gpu themselves.
  const spec = "@tensorflow/tfjs-node-gpu";
  await import(spec);
  if (!(await tf.setBackend("tensorflow"))) throw new Error("tf.setBackend('tensorflow') failed");
  await tf.ready();
  return "libtensorflow (CUDA)";
}

async function startWasm(): Promise<void> {
  await import("@tensorflow/tfjs-backend-wasm");
  installNativeMatMul();
  installSharedIdentity();
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
}

async function tryWasmOpenBlas(): Promise<string | null> {
  const blas = loadOpenBlas();
  if (!blas) throw new Error(openBlasUnavailableReason() ?? "OpenBLAS could not be loaded");
  await startWasm();
  setNativeBlasEnabled(true);
  return `WebAssembly SIMD, 1 thread; matmuls in OpenBLAS, ${blas.info.threads} thread(s)`;
}

async function tryWasm(): Promise<string | null> {
  await startWasm();
  setNativeBlasEnabled(false);
  return "WebAssembly SIMD, 1 thread";
}

async function tryCpu(): Promise<string | null> {
  if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend('cpu') failed");
  await tf.ready();
  return "plain JavaScript";
}

const ATTEMPTS: Record<
  Exclude<BackendPreference, "auto">,
  (auto: boolean) => Promise<string | null>
> = {
  "webgpu": (auto) => tryWebGpu(!auto),
  "tfjs-node-gpu": tryNodeGpu,
  "wasm+openblas": tryWasmOpenBlas,
  "wasm": tryWasm,
  "cpu": tryCpu,
};
const AUTO_ORDER: Exclude<BackendPreference, "auto">[] = [
  "webgpu",
  "tfjs-node-gpu",
  "wasm+openblas",
  "wasm",
  "cpu",
];

/**
 * Selects and initialises the TF.js backend: WebGPU when a hardware adapter exists (a CPU
 * emulation such as Mesa lavapipe is used only when asked for by name), tfjs-node-gpu when
 * it imports, WASM with its matmuls in native OpenBLAS (`wasm+openblas`, when Debian's
 * libopenblas0-pthread loads; otherwise the reason is printed once), plain WASM, CPU last.
 * `preference` (or `KIT_BACKEND`) forces one; a forced backend that cannot start is an error
 * rather than a silent fallback. Idempotent per preference. Switching between `wasm+openblas`
 * and `wasm` in one process switches the native matmul kernel on and off.
 */
export async function initBackend(preference?: BackendPreference): Promise<BackendInfo> {
  const requested = preference ?? kitConfig().backend;
  if (active && (requested === active.requested || requested === active.name)) return active;
  const order = requested === "auto" ? AUTO_ORDER : [requested];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const device = await ATTEMPTS[name](requested === "auto");
      // plain wasm / cpu: no native code at all; GPU backends: LAPACK for the Float64 geometry
      if (name === "wasm" || name === "cpu") setNativeBlasEnabled(false);
      const blas = nativeBlas()?.info ?? null;
      active = {
        name: name === "wasm+openblas" ? name : tf.getBackend(),
        requested,
        device: device ?? "",
        skipped,
        blas,
      };
      return active;
    } catch (err) {
      skipped.push(`${name}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    }
  }
  throw new KitError(`could not start the TF.js backend "${requested}"`, skipped);
}

/** The backend chosen by the last `initBackend`, or null before it ran. */
export function activeBackend(): BackendInfo | null {
  return active;
}
