import { tf } from "../backend/tf.ts";

/** The parts of TF.js-WASM's backend object the kernel reads (not in its public typings). */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** Kernel name registered on the `wasm` backend. */
export const REPEATED_INFO_NCE = "KitRepeatedInfoNce";

type KernelArgs = Parameters<tf.KernelFunc>[0];

let enabled = true;

/**
 * The element-wise part of `symmetricInfoNceRepeatedImages` in one pass over the n × B product
 * `T·Uᵀ` (on TF.js-WASM's heap, in Float64): with `S₀ = T·Uᵀ/τ`, P = row-softmax(S₀),
 * Q = column-softmax(S₀) and M the target mask (`M[i, i mod B] = 1`), outputs the loss
 * `½·mean_i lse_row_i + ½·mean_k lse_col_k − mean_i S₀[i, i mod B] + ½·ln(n/B)` (a scalar)
 * and `G = (P/(2n) + Q/(2B) − M/n)/τ` (n × B), so that `dL/d(T·Uᵀ) = G·dy`.
 */
function repeatedInfoNceKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmBackendLike;
  const { s } = args.inputs as { s: tf.TensorInfo };
  const { invTau } = args.attrs as { invTau: number };
  const n = s.shape[0]!, b = s.shape[1]!;
  const loss = backend.makeOutput([], "float32");
  const grad = backend.makeOutput([n, b], "float32");
  // views after makeOutput (the heap may have grown)
  const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
  const sv = heap.subarray(
    backend.dataIdMap.get(s.dataId)!.memoryOffset >>> 2,
    (backend.dataIdMap.get(s.dataId)!.memoryOffset >>> 2) + n * b,
  );
  const go = backend.dataIdMap.get(grad.dataId)!.memoryOffset >>> 2;
  const gv = heap.subarray(go, go + n * b);
  // pass 1 (rows): row maxima, e^{v − max} kept, row sums; column maxima
  const e = new Float64Array(n * b), colMax = new Float64Array(b).fill(-Infinity);
  const cp = invTau / (2 * n), cq = invTau / (2 * b), cm = invTau / n;
  let rowTotal = 0, target = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < b; k++) {
      const v = sv[i * b + k]! * invTau;
      if (v > m) m = v;
      if (v > colMax[k]!) colMax[k] = v;
    }
    let sum = 0;
    for (let k = 0; k < b; k++) {
      const x = Math.exp(sv[i * b + k]! * invTau - m);
      e[i * b + k] = x;
      sum += x;
    }
    rowTotal += m + Math.log(sum);
    const w = cp / sum; // P = e/sum
    for (let k = 0; k < b; k++) e[i * b + k]! *= w;
    target += sv[i * b + (i % b)]! * invTau;
  }
  // pass 2 (columns): e^{v − colmax} into G, column sums
  const colSum = new Float64Array(b);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < b; k++) {
      const x = Math.exp(sv[i * b + k]! * invTau - colMax[k]!);
      gv[i * b + k] = x;
      colSum[k]! += x;
    }
  }
  let colTotal = 0;
  const wq = new Float64Array(b);
  for (let k = 0; k < b; k++) {
    colTotal += colMax[k]! + Math.log(colSum[k]!);
    wq[k] = cq / colSum[k]!;
  }
  // G = P/(2n)/τ + Q/(2B)/τ − M/(nτ)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < b; k++) {
      gv[i * b + k] = e[i * b + k]! + gv[i * b + k]! * wq[k]! - (k === i % b ? cm : 0);
    }
  }
  heap[backend.dataIdMap.get(loss.dataId)!.memoryOffset >>> 2] = 0.5 * (rowTotal / n) +
    0.5 * (colTotal / b) - target / n + 0.5 * Math.log(n / b);
  return [loss, grad];
}

/**
 * Whether `symmetricInfoNceRepeatedImages` runs its element-wise part as the one-pass
 * `KitRepeatedInfoNce` kernel now (the `wasm` backend, registered on first use, not switched
 * off); elsewhere it runs composite TF.js ops.
 */
export function repeatedInfoNceKernelActive(): boolean {
  if (!enabled || tf.getBackend() !== "wasm") return false;
  if (!tf.getKernel(REPEATED_INFO_NCE, "wasm")) {
    tf.registerKernel({
      kernelName: REPEATED_INFO_NCE,
      backendName: "wasm",
      kernelFunc: repeatedInfoNceKernel as tf.KernelFunc,
    });
  }
  return true;
}

/** Switches the one-pass InfoNCE kernel on or off (off: composite ops; for tests and A/B timing). */
export function setRepeatedInfoNceKernelEnabled(on: boolean): void {
  enabled = on;
}
