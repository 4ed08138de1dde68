/**
 * Counters at the WebGPU device API: every compute dispatch, every buffer read back to the host
 * (`mapAsync` for reading), every upload (a `queue.writeBuffer` into a non-uniform buffer, or a
 * buffer created `mappedAtCreation`, which is how TF.js-WebGPU stages a tensor's values), every
 * uniform write, every buffer and bind group created, every queue submit. They are counted by
 * wrapping the methods of the runtime's `GPUDevice`, `GPUQueue`, `GPUComputePassEncoder` and
 * `GPUBuffer` prototypes, so they see TF.js's backend and the kit's own kernels alike.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { countersDelta, installWebGpuCounters, webGpuCounters } from "./webgpu_counters.ts";
 * installWebGpuCounters(); // false where the runtime has no WebGPU classes to wrap
 * const before = webGpuCounters();
 * // … one training step on the webgpu backend would go here …
 * const perStep = countersDelta(before, webGpuCounters());
 * assert.equal(perStep.dispatches, 0); // nothing ran between the two snapshots
 * assert.equal(perStep.readbackBytes, 0);
 * ```
 */

/** What `webGpuCounters` returns: totals since `installWebGpuCounters` (or the last reset). */
export interface WebGpuCounters {
  /** `dispatchWorkgroups` (+ indirect) calls. */
  dispatches: number;
  /** `GPUBuffer.mapAsync(GPUMapMode.READ)` calls, and the bytes they map. */
  readbacks: number;
  readbackBytes: number;
  /** Host → device data: `writeBuffer` into non-uniform buffers + `mappedAtCreation` buffers. */
  uploads: number;
  uploadBytes: number;
  /** `writeBuffer` into uniform buffers (a program's shapes and scalars). */
  uniformWrites: number;
  uniformBytes: number;
  /** `GPUDevice.createBuffer` calls. */
  buffersCreated: number;
  /** `GPUDevice.createBindGroup` calls. */
  bindGroupsCreated: number;
  /** `GPUQueue.submit` calls. */
  submits: number;
}

const counters: WebGpuCounters = zeroCounters();
let installed = false;

function zeroCounters(): WebGpuCounters {
  return {
    dispatches: 0,
    readbacks: 0,
    readbackBytes: 0,
    uploads: 0,
    uploadBytes: 0,
    uniformWrites: 0,
    uniformBytes: 0,
    buffersCreated: 0,
    bindGroupsCreated: 0,
    submits: 0,
  };
}

type Proto = Record<string, unknown>;

function wrap(
  proto: Proto | undefined,
  method: string,
  before: (self: unknown, args: unknown[]) => void,
): void {
  if (!proto) return;
  const original = proto[method];
  if (typeof original !== "function") return;
  const f = original as (...a: unknown[]) => unknown;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    before(this, args);
    return f.apply(this, args);
  };
}

function byteLength(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * Wraps the WebGPU prototypes once (idempotent). Returns false where the runtime has no WebGPU
 * classes (then every counter stays 0). Install before the first step to be measured; buffers
 * created earlier are still counted when read back or written.
 */
export function installWebGpuCounters(): boolean {
  if (installed) return true;
  const g = globalThis as unknown as Record<string, { prototype: Proto } | undefined>;
  if (!g.GPUDevice || !g.GPUQueue || !g.GPUComputePassEncoder || !g.GPUBuffer) return false;
  const UNIFORM = 0x40, MAP_READ_MODE = 0x1;
  wrap(g.GPUComputePassEncoder.prototype, "dispatchWorkgroups", () => {
    counters.dispatches += 1;
  });
  wrap(g.GPUComputePassEncoder.prototype, "dispatchWorkgroupsIndirect", () => {
    counters.dispatches += 1;
  });
  wrap(g.GPUBuffer.prototype, "mapAsync", (self, args) => {
    const mode = Number(args[0]);
    if ((mode & MAP_READ_MODE) === 0) return;
    const buf = self as GPUBuffer;
    const offset = Number(args[1] ?? 0);
    counters.readbacks += 1;
    counters.readbackBytes += args[2] !== undefined ? Number(args[2]) : buf.size - offset;
  });
  wrap(g.GPUQueue.prototype, "writeBuffer", (_self, args) => {
    const buf = args[0] as GPUBuffer;
    const data = args[2];
    const elementBytes = ArrayBuffer.isView(data) && !(data instanceof DataView)
      ? (data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
      : 1;
    // writeBuffer(buffer, offset, data, dataOffset?, size?): offset/size in elements of `data`
    const bytes = args[4] !== undefined
      ? Number(args[4]) * elementBytes
      : byteLength(data) - Number(args[3] ?? 0) * elementBytes;
    if ((buf.usage & UNIFORM) !== 0) {
      counters.uniformWrites += 1;
      counters.uniformBytes += bytes;
    } else {
      counters.uploads += 1;
      counters.uploadBytes += bytes;
    }
  });
  wrap(g.GPUDevice.prototype, "createBuffer", (_self, args) => {
    const d = args[0] as GPUBufferDescriptor;
    counters.buffersCreated += 1;
    if (d?.mappedAtCreation) {
      counters.uploads += 1;
      counters.uploadBytes += Number(d.size);
    }
  });
  wrap(g.GPUDevice.prototype, "createBindGroup", () => {
    counters.bindGroupsCreated += 1;
  });
  wrap(g.GPUQueue.prototype, "submit", () => {
    counters.submits += 1;
  });
  installed = true;
  return true;
}

/** True once `installWebGpuCounters` has wrapped the prototypes. */
export function webGpuCountersInstalled(): boolean {
  return installed;
}

/** A snapshot of the counters. */
export function webGpuCounters(): WebGpuCounters {
  return { ...counters };
}

/** `after − before`, field by field. */
export function countersDelta(before: WebGpuCounters, after: WebGpuCounters): WebGpuCounters {
  const out = zeroCounters();
  for (const k of Object.keys(out) as (keyof WebGpuCounters)[]) out[k] = after[k] - before[k];
  return out;
}
