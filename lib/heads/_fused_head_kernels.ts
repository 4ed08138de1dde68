import { tf } from "../backend/tf.ts";
import { HEAD_KERNELS_WASM_BASE64 } from "./wasm/head_kernels_wasm.ts";

/** The parts of TF.js-WASM's backend object the kernels use (not in its public typings). */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: unknown } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The exports of head_kernels.wat (byte offsets into TF.js-WASM's memory). */
interface HeadKernelExports {
  bias_gelu(z: number, b: number, h: number, dg: number, rows: number, cols: number): void;
  gelu_grad(dy: number, dg: number, dz: number, db: number, rows: number, cols: number): void;
  residual_normalize(
    t: number,
    m: number,
    b: number,
    z: number,
    nrm: number,
    rows: number,
    cols: number,
  ): void;
  normalize_grad(
    g: number,
    z: number,
    nrm: number,
    dy: number,
    db: number,
    rows: number,
    cols: number,
  ): void;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Kernel names registered on the `wasm` backend. */
export const BIAS_GELU = "KitBiasGelu";
export const GELU_GRAD = "KitGeluGrad";
export const RESIDUAL_NORMALIZE = "KitResidualNormalize";
export const NORMALIZE_GRAD = "KitNormalizeGrad";

let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, HeadKernelExports | null>();
let enabled = true;

/** The kernels' instance on `memory` (TF.js-WASM's own), or null where it cannot be made. */
function instanceOn(memory: WebAssembly.Memory): HeadKernelExports | null {
  let k = instances.get(memory);
  if (k === undefined) {
    try {
      // a shared (threaded-build) memory cannot be imported as the module's plain memory
      k = compiled && !(memory.buffer instanceof SharedArrayBuffer)
        ? new WebAssembly.Instance(compiled, { env: { memory } })
          .exports as unknown as HeadKernelExports
        : null;
    } catch {
      k = null;
    }
    instances.set(memory, k);
  }
  return k;
}

function kernels(backend: WasmBackendLike): HeadKernelExports {
  const memory = backend.wasm.asm?.memory;
  const k = memory instanceof WebAssembly.Memory ? instanceOn(memory) : null;
  if (!k) throw new Error("the fused head kernels were called without their WebAssembly module");
  return k;
}

function offset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error("fused head kernel: input not in the WASM backend's memory");
  return entry.memoryOffset;
}

function rowsCols(t: tf.TensorInfo): [number, number] {
  return [t.shape[0]!, t.shape[1]!];
}

function biasGeluKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmBackendLike;
  const { z, b } = args.inputs as { z: tf.TensorInfo; b: tf.TensorInfo };
  const [rows, cols] = rowsCols(z);
  const h = backend.makeOutput([rows, cols], "float32");
  const dg = backend.makeOutput([rows, cols], "float32");
  kernels(backend).bias_gelu(
    offset(backend, z),
    offset(backend, b),
    offset(backend, h),
    offset(backend, dg),
    rows,
    cols,
  );
  return [h, dg];
}

function geluGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmBackendLike;
  const { dy, dg } = args.inputs as { dy: tf.TensorInfo; dg: tf.TensorInfo };
  const [rows, cols] = rowsCols(dy);
  const dz = backend.makeOutput([rows, cols], "float32");
  const db = backend.makeOutput([cols], "float32");
  kernels(backend).gelu_grad(
    offset(backend, dy),
    offset(backend, dg),
    offset(backend, dz),
    offset(backend, db),
    rows,
    cols,
  );
  return [dz, db];
}

function residualNormalizeKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmBackendLike;
  const { t, m, b } = args.inputs as { t: tf.TensorInfo; m: tf.TensorInfo; b: tf.TensorInfo };
  const [rows, cols] = rowsCols(t);
  const z = backend.makeOutput([rows, cols], "float32");
  const nrm = backend.makeOutput([rows, 1], "float32");
  kernels(backend).residual_normalize(
    offset(backend, t),
    offset(backend, m),
    offset(backend, b),
    offset(backend, z),
    offset(backend, nrm),
    rows,
    cols,
  );
  return [z, nrm];
}

function normalizeGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmBackendLike;
  const { g, z, nrm } = args.inputs as { g: tf.TensorInfo; z: tf.TensorInfo; nrm: tf.TensorInfo };
  const [rows, cols] = rowsCols(g);
  const dy = backend.makeOutput([rows, cols], "float32");
  const db = backend.makeOutput([cols], "float32");
  kernels(backend).normalize_grad(
    offset(backend, g),
    offset(backend, z),
    offset(backend, nrm),
    offset(backend, dy),
    offset(backend, db),
    rows,
    cols,
  );
  return [dy, db];
}

function register(): boolean {
  if (compiled === undefined) {
    try {
      const bin = Uint8Array.from(atob(HEAD_KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
      compiled = new WebAssembly.Module(bin);
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return false;
  const table: [string, (args: KernelArgs) => tf.TensorInfo[]][] = [
    [BIAS_GELU, biasGeluKernel],
    [GELU_GRAD, geluGradKernel],
    [RESIDUAL_NORMALIZE, residualNormalizeKernel],
    [NORMALIZE_GRAD, normalizeGradKernel],
  ];
  for (const [kernelName, fn] of table) {
    if (!tf.getKernel(kernelName, "wasm")) {
      tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: fn as tf.KernelFunc });
    }
  }
  return true;
}

/**
 * Whether the heads' fused element-wise kernels (head_kernels.wat: bias + exact GELU storing its
 * derivative, residual + bias + row normalisation, and their backward passes) run for a
 * float32 matrix with `cols` columns now: on the `wasm` backend (registering them on first use)
 * when WebAssembly SIMD compiles, `cols` is a multiple of 4 and they are not switched off. Where
 * this is false the heads run the same arithmetic as composite TF.js ops (WebGPU, cpu, …).
 */
export function fusedHeadKernelsActive(cols: number): boolean {
  if (!enabled || cols % 4 !== 0 || tf.getBackend() !== "wasm") return false;
  const memory = (tf.backend() as unknown as WasmBackendLike).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !register()) return false;
  return instanceOn(memory) !== null;
}

/** Switches the fused head kernels on or off (off: composite TF.js ops; for tests and A/B timing). */
export function setFusedHeadKernelsEnabled(on: boolean): void {
  enabled = on;
}
