/**
 * Less host work per TF.js-WebGPU dispatch for training loops of fixed shapes: TF.js (4.22)
 * writes a pooled uniform buffer (shapes, strides, sizes) for every dispatch. This keeps one
 * uniform buffer per distinct uniform content, written once and kept for the session: from the
 * second step of a fixed-shape loop on, no dispatch writes uniforms. Bounded: beyond
 * `MAX_UNIFORMS` contents new ones take TF.js's own path.
 *
 * Bind groups are still created per dispatch: keyed by their buffers they would rarely be reused,
 * because TF.js's buffer pool hands out its buffers in a different order each step (measured:
 * no two steps bound the same output buffers in the same order).
 */
import { tf } from "./tf.ts";

const MAX_UNIFORMS = 8192;

interface ProgramUniform {
  type: string;
  data: ArrayLike<number>;
}

interface UniformBinding {
  offset: number;
  size: number;
  buffer: GPUBuffer;
}

interface CachingBackend {
  device: GPUDevice;
  uniformPendingDisposal: GPUBuffer[];
  makeUniforms(u: ProgramUniform[]): UniformBinding;
}

let installedOn: object | null = null;

/**
 * Installs the uniform cache on the active WebGPU backend (idempotent; false when WebGPU is not the
 * active backend).
 */
export function installWebGpuUniformCache(): boolean {
  if (tf.getBackend() !== "webgpu") return false;
  const backend = tf.backend() as unknown as CachingBackend;
  if (installedOn === backend) return true;

  const uniforms = new Map<string, UniformBinding>();
  const makeUniforms = backend.makeUniforms;
  backend.makeUniforms = function (this: CachingBackend, u: ProgramUniform[]): UniformBinding {
    let key = "";
    for (const d of u) key += `${d.type[0]}${Array.prototype.join.call(d.data, ",")};`;
    const hit = uniforms.get(key);
    if (hit) return hit;
    const b = makeUniforms.call(this, u);
    if (uniforms.size >= MAX_UNIFORMS) return b;
    // keep it: take it off TF.js's release list, so it is never handed to another program
    const k = this.uniformPendingDisposal.lastIndexOf(b.buffer);
    if (k >= 0) this.uniformPendingDisposal.splice(k, 1);
    uniforms.set(key, b);
    return b;
  };

  installedOn = backend;
  return true;
}
