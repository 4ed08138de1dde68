import { tf } from "./tf.ts";
import { nativeBlas } from "./openblas.ts";

/** The parts of TF.js-WASM's backend object the kernel reads (not in its public typings). */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

let original: tf.KernelConfig | null = null;

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/**
 * BatchMatMul on the WASM backend through OpenBLAS's `cblas_sgemm`, reading the inputs from
 * and writing the output into the backend's own heap (no copies), one `sgemm` per batch entry.
 * Transpose flags cost nothing here (unlike XNNPACK's path). Returns null when the case is not
 * handled (non-float32, empty, batch broadcasting other than 1-vs-n): the caller then runs
 * TF.js's own kernel.
 */
function nativeBatchMatMul(args: KernelArgs): tf.TensorInfo | null {
  const blas = nativeBlas();
  if (!blas) return null;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const ra = a.shape.length, rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb || m === 0 || n === 0 || k === 0) return null;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = product(outerA), batchB = product(outerB);
  let outer: number[];
  if (batchA === batchB && outerA.join() === outerB.join()) outer = outerA;
  else if (batchB === 1 && outerB.every((d) => d === 1) && outerA.length >= outerB.length) {
    outer = outerA;
  } else if (batchA === 1 && outerA.every((d) => d === 1) && outerB.length >= outerA.length) {
    outer = outerB;
  } else return null;
  const batch = Math.max(batchA, batchB);
  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput([...outer, m, n], "float32");
  // the heap may have grown in makeOutput: take the views after it
  const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
  const offA = backend.dataIdMap.get(a.dataId)!.memoryOffset >>> 2;
  const offB = backend.dataIdMap.get(b.dataId)!.memoryOffset >>> 2;
  const offC = backend.dataIdMap.get(out.dataId)!.memoryOffset >>> 2;
  const sizeA = m * k, sizeB = k * n, sizeC = m * n;
  const lda = transposeA ? m : k, ldb = transposeB ? k : n;
  for (let i = 0; i < batch; i++) {
    const pa = offA + (batchA === 1 ? 0 : i * sizeA);
    const pb = offB + (batchB === 1 ? 0 : i * sizeB);
    const pc = offC + i * sizeC;
    blas.sgemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      heap.subarray(pa, pa + sizeA),
      lda,
      heap.subarray(pb, pb + sizeB),
      ldb,
      heap.subarray(pc, pc + sizeC),
      n,
    );
  }
  return out;
}

/**
 * Routes the WASM backend's BatchMatMul kernel (every `tf.matMul`, forward and gradient) through
 * OpenBLAS whenever `nativeBlas()` is on, and through TF.js's own WASM kernel otherwise. One code
 * path for notebooks, tests and the bench; `setNativeBlasEnabled` switches it. Idempotent; call
 * after `@tensorflow/tfjs-backend-wasm` was imported (it registers the kernel being wrapped).
 */
export function installNativeMatMul(): void {
  if (original) return;
  const config = tf.getKernel("BatchMatMul", "wasm");
  if (!config) throw new Error("TF.js-WASM's BatchMatMul kernel is not registered");
  original = config;
  const fallback = config.kernelFunc;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => nativeBatchMatMul(args) ?? fallback(args),
  });
}

/** Whether `tf.matMul` on the active backend runs in OpenBLAS now. */
export function nativeMatMulActive(): boolean {
  return original !== null && tf.getBackend() === "wasm" && nativeBlas() !== null;
}
