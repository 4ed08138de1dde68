/**
 * Adam with its state on the GPU (TF.js's WebGPU backend): parameters are `tf.Variable`s
 * updated in place by one fused WGSL kernel per parameter, the moments live in GPU buffers, the
 * gradient's global norm and clipping factor are computed on the device; nothing is read back.
 * The host-side sibling is `Adam` (adam.ts, WASM kernels over Float32Arrays); both follow
 * `torch.optim.Adam` (optionally with `clip_grad_norm_` first).
 *
 * Per-parameter step counts: a parameter without a gradient in a step (frozen) is left alone —
 * value, moments and step count — and its bias corrections start from its own first step when it
 * thaws, as torch.optim.Adam's per-parameter `state["step"]`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { initBackend, tf } from "../backend/mod.ts";
 * import { DeviceAdam } from "./device_adam.ts";
 * const webgpu = await initBackend("webgpu").then(() => true, () => false);
 * const w = tf.variable(tf.tensor1d([1, 2, 3]));
 * if (webgpu) { // CI: Mesa lavapipe
 *   const opt = new DeviceAdam({ w }, { lr: 0.1, maxGradNorm: 1 });
 *   const g = tf.tensor1d([0.5, -2, 0]);
 *   opt.step({ w: g }); // grads stay the caller's to dispose
 *   g.dispose();
 *   // Adam's first step moves each entry by lr · sign(gradient)
 *   const got = await w.data();
 *   [0.9, 2.1, 3].forEach((x, i) => assert(Math.abs(got[i]! - x) < 1e-5));
 *   opt.dispose();
 * } else { // no WebGPU adapter: a clear error, nothing allocated
 *   assert.throws(() => new DeviceAdam({ w }), /WebGPU backend is not active/);
 * }
 * w.dispose();
 * ```
 */
import type { tf } from "../backend/tf.ts";
import {
  dropHostCopy,
  flushTfWebGpu,
  tensorBuffer,
  type TfWebGpuBackend,
  tfWebGpuBackend,
} from "../backend/webgpu_tensor_buffers.ts";
import { KitError } from "../util/kit_error.ts";
import type { AdamOptions } from "./adam.ts";
import {
  ADAM_UPDATE_WGSL,
  ADAM_WORKGROUP,
  CLIP_FACTOR_WGSL,
  SUM_SQUARES_WGSL,
} from "./wgsl/adam_wgsl.ts";

/** `AdamOptions` plus torch's `clip_grad_norm_(max_norm)` over all gradients of a step. */
export interface DeviceAdamOptions extends AdamOptions {
  /** Clip the step's gradients to this global L2 norm (computed on the device); none if absent. */
  maxGradNorm?: number;
}

/** Workgroups of the sum-of-squares pass of a parameter (each loops over its share). */
const MAX_NORM_WORKGROUPS = 64;
/** Largest dispatch size in one dimension (WebGPU's default limit). */
const MAX_DIM = 65535;

interface Slot {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly n: number;
  readonly index: number;
  readonly info: GPUBuffer;
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  readonly normWorkgroups: number;
  readonly dispatch: [number, number];
  step: number;
  /** The last bind groups and their buffers (TF.js's pool hands the same buffers out again). */
  lastUpdate: { pb: GPUBuffer; gb: GPUBuffer; group: GPUBindGroup } | null;
  lastNorm: { gb: GPUBuffer; group: GPUBindGroup } | null;
}

/** Serialisable state of `DeviceAdam` (moments read back on request only). */
export interface DeviceAdamState {
  steps: Record<string, number>;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** Adam over `tf.Variable`s on the WebGPU backend; see the module comment. */
export class DeviceAdam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  readonly maxGradNorm: number;
  readonly #b: TfWebGpuBackend;
  readonly #slots: Slot[] = [];
  readonly #byName = new Map<string, Slot>();
  readonly #hyper: GPUBuffer;
  readonly #hyperHost: Float32Array;
  readonly #scalars: GPUBuffer;
  readonly #partials: GPUBuffer;
  readonly #fin: GPUBuffer;
  readonly #partialCount: number;
  readonly #update: GPUComputePipeline;
  readonly #norm: GPUComputePipeline;
  readonly #finish: GPUComputePipeline;
  readonly #finishGroup: GPUBindGroup;
  #disposed = false;

  /** `params`: the variables to update, by name (their buffers are updated in place). */
  constructor(params: Record<string, tf.Variable>, opts: DeviceAdamOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
    this.maxGradNorm = opts.maxGradNorm ?? 0;
    const b = this.#b = tfWebGpuBackend();
    const dev = b.device;
    const STORAGE = GPUBufferUsage.STORAGE, COPY_DST = GPUBufferUsage.COPY_DST;
    const COPY_SRC = GPUBufferUsage.COPY_SRC, UNIFORM = GPUBufferUsage.UNIFORM;
    const mk = (wgsl: string) =>
      dev.createComputePipeline({
        layout: "auto",
        compute: { module: dev.createShaderModule({ code: wgsl }), entryPoint: "main" },
      });
    this.#update = mk(ADAM_UPDATE_WGSL);
    this.#norm = mk(SUM_SQUARES_WGSL);
    this.#finish = mk(CLIP_FACTOR_WGSL);
    let slot = 0;
    const names = Object.keys(params);
    for (const [index, name] of names.entries()) {
      const variable = params[name]!;
      if (variable.dtype !== "float32") {
        throw new KitError(`DeviceAdam: parameter "${name}" is ${variable.dtype}, not float32`);
      }
      const n = variable.size;
      const bytes = Math.max(4, n * 4);
      const groups = Math.ceil(n / ADAM_WORKGROUP);
      const x = Math.min(groups, MAX_DIM), y = Math.ceil(groups / x);
      const normWorkgroups = Math.max(1, Math.min(MAX_NORM_WORKGROUPS, groups));
      const info = dev.createBuffer({
        size: 32,
        usage: UNIFORM | COPY_DST,
        mappedAtCreation: true,
      });
      new Uint32Array(info.getMappedRange()).set([
        n,
        slot,
        normWorkgroups,
        index,
        x * ADAM_WORKGROUP,
      ]);
      info.unmap();
      const s: Slot = {
        name,
        variable,
        n,
        index,
        info,
        m: dev.createBuffer({ size: bytes, usage: STORAGE | COPY_DST | COPY_SRC }),
        v: dev.createBuffer({ size: bytes, usage: STORAGE | COPY_DST | COPY_SRC }),
        normWorkgroups,
        dispatch: [x, y],
        step: 0,
        lastUpdate: null,
        lastNorm: null,
      };
      slot += normWorkgroups;
      this.#slots.push(s);
      this.#byName.set(name, s);
    }
    this.#partialCount = Math.max(1, slot);
    this.#partials = dev.createBuffer({ size: this.#partialCount * 4, usage: STORAGE | COPY_DST });
    this.#hyperHost = new Float32Array(Math.max(1, names.length) * 8);
    this.#hyper = dev.createBuffer({ size: this.#hyperHost.byteLength, usage: STORAGE | COPY_DST });
    this.#scalars = dev.createBuffer({ size: 16, usage: STORAGE | COPY_DST | COPY_SRC });
    b.queue.writeBuffer(this.#scalars, 0, new Float32Array([0, 1, 0, 0]));
    this.#fin = dev.createBuffer({ size: 16, usage: UNIFORM | COPY_DST, mappedAtCreation: true });
    new Uint32Array(this.#fin.getMappedRange()).set([this.#partialCount, 0, 0, 0]);
    this.#fin.unmap();
    b.queue.writeBuffer(this.#fin, 4, new Float32Array([this.maxGradNorm]));
    this.#finishGroup = dev.createBindGroup({
      layout: this.#finish.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.#fin } },
        { binding: 1, resource: { buffer: this.#partials } },
        { binding: 2, resource: { buffer: this.#scalars } },
      ],
    });
  }

  /** Each parameter's own step count (torch's `state["step"]`). */
  get stepCounts(): Record<string, number> {
    return Object.fromEntries(this.#slots.map((s) => [s.name, s.step]));
  }

  /**
   * One update of every parameter that has a gradient in `grads` (others — frozen ones — keep
   * their value, moments and step count), at learning rate `lr`. With `maxGradNorm`, the
   * gradients present are first scaled by torch's clipping factor of their global norm.
   * Everything runs on the device; `grads` stay the caller's to dispose.
   */
  step(grads: Readonly<Record<string, tf.Tensor | undefined>>, lr = this.lr): void {
    if (this.#disposed) throw new KitError("DeviceAdam: used after dispose()");
    const present: [Slot, tf.Tensor][] = [];
    for (const [name, g] of Object.entries(grads)) {
      if (!g) continue;
      const s = this.#byName.get(name);
      if (!s) throw new KitError(`DeviceAdam.step: no parameter "${name}"`);
      if (g.size !== s.n) {
        throw new KitError(
          `DeviceAdam.step: gradient of "${name}" has ${g.size} values, not ${s.n}`,
        );
      }
      present.push([s, g]);
    }
    if (present.length === 0) return;
    const b = this.#b, dev = b.device;
    const b1 = this.beta1, b2 = this.beta2;
    const wd = this.decoupled ? 0 : this.weightDecay;
    const decay = this.decoupled ? 1 - lr * this.weightDecay : 1;
    for (const [s] of present) {
      s.step += 1;
      const t = s.step;
      this.#hyperHost.set(
        [lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t), wd, decay, 1 - b1, b2, 1 - b2, this.eps],
        s.index * 8,
      );
    }
    const gradBuffers = present.map(([, g]) => tensorBuffer(b, g));
    const paramBuffers = present.map(([s]) => tensorBuffer(b, s.variable));
    flushTfWebGpu(b);
    b.queue.writeBuffer(this.#hyper, 0, this.#hyperHost);
    const enc = dev.createCommandEncoder();
    if (this.maxGradNorm > 0) {
      enc.clearBuffer(this.#partials);
      const pass = enc.beginComputePass();
      pass.setPipeline(this.#norm);
      present.forEach(([s], k) => {
        const gb = gradBuffers[k]!;
        let bg = s.lastNorm?.gb === gb ? s.lastNorm.group : undefined;
        if (!bg) {
          bg = dev.createBindGroup({
            layout: this.#norm.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: s.info } },
              { binding: 1, resource: { buffer: gb, size: s.n * 4 } },
              { binding: 2, resource: { buffer: this.#partials } },
            ],
          });
          s.lastNorm = { gb, group: bg };
        }
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(s.normWorkgroups);
      });
      pass.setPipeline(this.#finish);
      pass.setBindGroup(0, this.#finishGroup);
      pass.dispatchWorkgroups(1);
      pass.end();
    }
    const pass = enc.beginComputePass();
    pass.setPipeline(this.#update);
    present.forEach(([s], k) => {
      const gb = gradBuffers[k]!, pb = paramBuffers[k]!;
      const last = s.lastUpdate;
      let bg = last && last.gb === gb && last.pb === pb ? last.group : undefined;
      if (!bg) {
        bg = dev.createBindGroup({
          layout: this.#update.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: s.info } },
            { binding: 1, resource: { buffer: this.#hyper } },
            { binding: 2, resource: { buffer: this.#scalars } },
            { binding: 3, resource: { buffer: pb, size: s.n * 4 } },
            { binding: 4, resource: { buffer: gb, size: s.n * 4 } },
            { binding: 5, resource: { buffer: s.m, size: s.n * 4 } },
            { binding: 6, resource: { buffer: s.v, size: s.n * 4 } },
          ],
        });
        s.lastUpdate = { pb, gb, group: bg };
      }
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(s.dispatch[0], s.dispatch[1]);
      dropHostCopy(b, s.variable);
    });
    pass.end();
    b.queue.submit([enc.finish()]);
  }

  /** Reads the moments back (for checkpoints; one readback per buffer). */
  async getState(): Promise<DeviceAdamState> {
    const out: DeviceAdamState = { steps: this.stepCounts, m: {}, v: {} };
    for (const s of this.#slots) {
      out.m[s.name] = await readBuffer(this.#b, s.m, s.n);
      out.v[s.name] = await readBuffer(this.#b, s.v, s.n);
    }
    return out;
  }

  /** Restores a state from `getState` (same parameter names and sizes). */
  setState(state: DeviceAdamState): void {
    if (this.#disposed) throw new KitError("DeviceAdam: used after dispose()");
    for (const s of this.#slots) {
      const st = state.steps[s.name], m = state.m[s.name], v = state.v[s.name];
      if (
        st === undefined || !Number.isInteger(st) || st < 0 || m?.length !== s.n ||
        v?.length !== s.n
      ) {
        throw new KitError(
          `DeviceAdam.setState: "${s.name}" needs a step count and moments of ${s.n} values`,
        );
      }
    }
    flushTfWebGpu(this.#b);
    for (const s of this.#slots) {
      s.step = state.steps[s.name]!;
      this.#b.queue.writeBuffer(s.m, 0, state.m[s.name]!);
      this.#b.queue.writeBuffer(s.v, 0, state.v[s.name]!);
    }
  }

  /** The last step's global gradient norm (0 without `maxGradNorm`); one readback. */
  async lastGradNorm(): Promise<number> {
    return (await readBuffer(this.#b, this.#scalars, 1))[0]!;
  }

  /** Frees the moments and the kernel's buffers (not the variables). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const s of this.#slots) [s.m, s.v, s.info].forEach((x) => x.destroy());
    [this.#hyper, this.#scalars, this.#partials, this.#fin].forEach((x) => x.destroy());
  }
}

async function readBuffer(b: TfWebGpuBackend, src: GPUBuffer, n: number): Promise<Float32Array> {
  flushTfWebGpu(b);
  const dev = b.device;
  const staging = dev.createBuffer({
    size: n * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = dev.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, n * 4);
  b.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}
