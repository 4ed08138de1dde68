/**
 * TF.js-WebGPU (4.22) uploads a tensor's host values through a new `mappedAtCreation` staging
 * buffer each time (created, copied, destroyed: one buffer per tensor, and under Deno a copy of
 * the whole mapped range first). This replaces its `uploadToGPU` by `queue.writeBuffer` into a
 * buffer from TF.js's own pool, so repeated uploads of fixed shapes create no buffers.
 *
 * Safe because a buffer in the pool's free list is referenced by no unsubmitted command
 * (TF.js defers the release of buffers its pending commands use to its next submit), and
 * `writeBuffer` lands before any command submitted after it.
 */
import { tf } from "./tf.ts";

interface UploadTensorData {
  resource?: unknown;
  values?: ArrayLike<number> | null;
  dtype: string;
  shape: number[];
}

interface UploadBackend {
  queue: GPUQueue;
  tensorMap: { get(dataId: object): UploadTensorData };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
}

let installedOn: object | null = null;

/**
 * Patches the active WebGPU backend's `uploadToGPU` (idempotent; false when WebGPU is not the
 * active backend).
 */
export function installWriteBufferUploads(): boolean {
  if (tf.getBackend() !== "webgpu") return false;
  const backend = tf.backend() as unknown as UploadBackend & {
    uploadToGPU(dataId: object): void;
  };
  if (installedOn === backend) return true;
  backend.uploadToGPU = function (this: UploadBackend, dataId: object): void {
    const d = this.tensorMap.get(dataId);
    if (d.resource != null) return;
    const n = d.shape.reduce((a, b) => a * b, 1);
    const size = 4 * n; // float32, int32 and bool are all 4 bytes a value on WebGPU
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.bufferManager.acquireBuffer(size, usage);
    if (d.values) {
      const v = d.values;
      const data = d.dtype === "int32" || d.dtype === "bool"
        ? (v instanceof Int32Array ? v : Int32Array.from(v))
        : (v instanceof Float32Array ? v : Float32Array.from(v));
      if (n > 0) this.queue.writeBuffer(buffer, 0, data, 0, n);
      d.values = null;
    }
    d.resource = buffer;
  };
  installedOn = backend;
  return true;
}
