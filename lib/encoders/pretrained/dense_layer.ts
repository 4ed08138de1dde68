import { join } from "node:path";
import { readSafetensors } from "../../io/safetensors.ts";
import { KitError } from "../../util/kit_error.ts";
import {
  isModelFile,
  modelFolderHints,
  type PretrainedModelSpec,
  readModelJson,
} from "./model_folder.ts";

/** Activations a sentence-transformers `Dense` module may name (`activation_function`). */
export type DenseActivation = "identity" | "tanh";

const ACTIVATIONS: Record<string, DenseActivation> = {
  "torch.nn.modules.linear.Identity": "identity",
  "torch.nn.modules.activation.Tanh": "tanh",
};

/** A sentence-transformers `Dense` module: `y = act(x·Wᵀ + b)`. */
export interface DenseLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Row-major `outFeatures × inFeatures` (torch `nn.Linear` layout). */
  readonly weight: Float32Array;
  /** Length `outFeatures`, or null when the layer has no bias. */
  readonly bias: Float32Array | null;
  readonly activation: DenseActivation;
}

/** The hint telling a user how to turn `pytorch_model.bin` into `model.safetensors`. */
export function denseConversionHint(dir: string): string {
  return `convert it once with Python (torch + safetensors): python3 -c "import torch; ` +
    `from safetensors.torch import save_file; ` +
    `sd = torch.load('${dir}/pytorch_model.bin', map_location='cpu'); ` +
    `save_file({k: v.contiguous() for k, v in sd.items()}, '${dir}/model.safetensors')"`;
}

function positiveInt(value: unknown, key: string, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new KitError(
      `${path}: "${key}" must be a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Reads a sentence-transformers `Dense` module from `<folder>/<module>/config.json`
 * (`in_features`, `out_features`, `bias`, `activation_function`) and
 * `<folder>/<module>/model.safetensors` (`linear.weight` `[out, in]`, `linear.bias`). A folder
 * with only the pickle `pytorch_model.bin` is a `KitError` saying how to convert it.
 */
export async function loadDenseLayer(
  folder: string,
  spec: PretrainedModelSpec,
  module = "2_Dense",
): Promise<DenseLayer> {
  const dir = join(folder, module);
  const configPath = join(dir, "config.json");
  if (!(await isModelFile(configPath))) {
    throw new KitError(
      `${spec.title}: ${configPath} is missing (model folder ${folder} is incomplete)`,
      modelFolderHints(spec, folder),
    );
  }
  const config = await readModelJson(folder, join(module, "config.json"), spec);
  const inFeatures = positiveInt(config.in_features, "in_features", configPath);
  const outFeatures = positiveInt(config.out_features, "out_features", configPath);
  const hasBias = config.bias === undefined ? true : config.bias;
  if (typeof hasBias !== "boolean") {
    throw new KitError(
      `${configPath}: "bias" must be true or false, got ${JSON.stringify(hasBias)}`,
    );
  }
  const actName = config.activation_function ?? "torch.nn.modules.activation.Tanh";
  const activation = typeof actName === "string" ? ACTIVATIONS[actName] : undefined;
  if (activation === undefined) {
    throw new KitError(
      `${configPath}: activation_function ${
        JSON.stringify(actName)
      } is not supported; expected one of ${Object.keys(ACTIVATIONS).join(", ")}`,
    );
  }
  const weightsPath = join(dir, "model.safetensors");
  if (!(await isModelFile(weightsPath))) {
    if (await isModelFile(join(dir, "pytorch_model.bin"))) {
      throw new KitError(
        `${spec.title}: ${weightsPath} is missing; ${dir} has only pytorch_model.bin (a Python pickle the kit does not read)`,
        [
          denseConversionHint(dir),
          `or download ${module}/model.safetensors from ${spec.hfId} (the repository ships it).`,
        ],
      );
    }
    throw new KitError(
      `${spec.title}: ${weightsPath} is missing (model folder ${folder} is incomplete)`,
      modelFolderHints(spec, folder),
    );
  }
  const file = await readSafetensors(weightsPath);
  const w = file.tensors.get("linear.weight") ?? file.tensors.get("weight");
  if (w === undefined) {
    throw new KitError(
      `${weightsPath}: no tensor "linear.weight" (found: ${
        [...file.tensors.keys()].join(", ") || "none"
      })`,
    );
  }
  if (w.shape.length !== 2 || w.shape[0] !== outFeatures || w.shape[1] !== inFeatures) {
    throw new KitError(
      `${weightsPath}: "linear.weight" has shape [${
        w.shape.join(", ")
      }], expected [${outFeatures}, ${inFeatures}] from ${configPath}`,
    );
  }
  if (!(w.data instanceof Float32Array || w.data instanceof Float64Array)) {
    throw new KitError(`${weightsPath}: "linear.weight" must be a float tensor, got ${w.dtype}`);
  }
  let bias: Float32Array | null = null;
  if (hasBias) {
    const b = file.tensors.get("linear.bias") ?? file.tensors.get("bias");
    if (b === undefined) {
      throw new KitError(
        `${weightsPath}: no tensor "linear.bias" although ${configPath} says bias: true`,
      );
    }
    if (b.shape.length !== 1 || b.shape[0] !== outFeatures) {
      throw new KitError(
        `${weightsPath}: "linear.bias" has shape [${
          b.shape.join(", ")
        }], expected [${outFeatures}]`,
      );
    }
    if (!(b.data instanceof Float32Array || b.data instanceof Float64Array)) {
      throw new KitError(`${weightsPath}: "linear.bias" must be a float tensor, got ${b.dtype}`);
    }
    bias = Float32Array.from(b.data);
  }
  return { inFeatures, outFeatures, weight: Float32Array.from(w.data), bias, activation };
}

/**
 * Applies a `Dense` layer to `rows` row vectors of width `inFeatures` (row-major), float64
 * accumulation: `y[r, o] = act(Σ_i x[r, i]·W[o, i] + b[o])`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyDenseLayer } from "./dense_layer.ts";
 * const layer = { inFeatures: 2, outFeatures: 1, weight: new Float32Array([1, 2]), bias: null, activation: "identity" as const };
 * assert(applyDenseLayer(layer, new Float32Array([3, 4]), 1)[0] === 11);
 * ```
 */
export function applyDenseLayer(layer: DenseLayer, x: Float32Array, rows: number): Float32Array {
  const { inFeatures: n, outFeatures: m, weight, bias } = layer;
  if (x.length !== rows * n) {
    throw new KitError(`Dense layer: input holds ${x.length} values, expected ${rows}×${n}`);
  }
  const out = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) {
    const xo = r * n;
    for (let o = 0; o < m; o++) {
      const wo = o * n;
      let s = bias ? bias[o]! : 0;
      for (let i = 0; i < n; i++) s += x[xo + i]! * weight[wo + i]!;
      out[r * m + o] = layer.activation === "tanh" ? Math.tanh(s) : s;
    }
  }
  return out;
}
