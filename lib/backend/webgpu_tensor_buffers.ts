/**
 * Access to TF.js-WebGPU's device objects and to the `GPUBuffer` behind a tensor, for the kit's
 * own WGSL kernels (the device optimiser) that work in place on TF.js tensors.
 */
import { tf } from "./tf.ts";
import { KitError } from "../util/kit_error.ts";

interface TensorData {
  resource?: unknown;
  values?: unknown;
  dtype: string;
}

/** The parts of TF.js's `WebGPUBackend` (4.22) the kit's kernels use. */
export interface TfWebGpuBackend {
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  readonly tensorMap: { get(dataId: object): TensorData | undefined };
  commandEncoder: GPUCommandEncoder | null;
  uploadToGPU(dataId: object): void;
  submitQueue(): void;
  endComputePassEncoder(): void;
}

/** The active TF.js backend as a WebGPU backend (KitError when another backend is active). */
export function tfWebGpuBackend(): TfWebGpuBackend {
  if (tf.getBackend() !== "webgpu") {
    throw new KitError(`the WebGPU backend is not active (active: ${tf.getBackend()})`);
  }
  return tf.backend() as unknown as TfWebGpuBackend;
}

/**
 * Submits the commands TF.js has recorded but not yet submitted, so that work the kit submits
 * next runs after them (queue order).
 */
export function flushTfWebGpu(b: TfWebGpuBackend): void {
  b.endComputePassEncoder();
  if (b.commandEncoder) b.submitQueue();
}

/** The storage buffer of a float32 tensor (uploaded first when its values are on the host). */
export function tensorBuffer(b: TfWebGpuBackend, t: tf.Tensor): GPUBuffer {
  if (t.dtype !== "float32") {
    throw new KitError(`tensorBuffer: ${t.dtype} tensor, expected float32`);
  }
  const d = b.tensorMap.get(t.dataId);
  if (!d) throw new KitError("tensorBuffer: tensor not registered with the WebGPU backend");
  if (d.resource == null) b.uploadToGPU(t.dataId);
  const r = b.tensorMap.get(t.dataId)?.resource;
  const buf = r && typeof r === "object" && "buffer" in (r as object) &&
      !(r instanceof ArrayBuffer) && !("mapState" in (r as object))
    ? (r as { buffer: GPUBuffer }).buffer
    : r as GPUBuffer;
  if (!buf || typeof (buf as GPUBuffer).mapState !== "string") {
    throw new KitError("tensorBuffer: the tensor is not backed by a GPUBuffer");
  }
  return buf;
}

/** Forgets a host copy TF.js cached when the tensor was read (its buffer changed in place). */
export function dropHostCopy(b: TfWebGpuBackend, t: tf.Tensor): void {
  const d = b.tensorMap.get(t.dataId);
  if (d && d.resource != null) d.values = null;
}
