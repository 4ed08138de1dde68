import { KitError } from "../util/kit_error.ts";
import {
  type SafeTensorInput,
  type SafetensorsReadOptions,
  verifySafetensorsFile,
  writeSafetensors,
} from "../io/safetensors.ts";
import { SafetensorsReader } from "../io/safetensors_stream.ts";
import type { ParameterSet } from "./parameter_set.ts";

/** A model whose parameters carry Hugging Face names (XLM-R, ViT). */
export interface HfNamedModel {
  readonly params: ParameterSet;
  /** Prefix of the base model's names in the task-head layout (`roberta.`, `vit.`). */
  readonly prefix: string;
}

/** What `loadSafetensorsWeights` did. */
export interface WeightsLoadReport {
  /** Model parameters read from the file. */
  loaded: string[];
  /** Optional parameters (task heads) the file lacks; they keep their current values. */
  keptOptional: string[];
  /** File tensors no parameter used (e.g. `pooler.*`, a tied `lm_head.decoder.weight`). */
  unused: string[];
}

/** The file names a model parameter may have: itself, without the task-head prefix, and legacy LayerNorm names. */
function candidateNames(name: string, prefix: string): string[] {
  const out = [name];
  if (name.startsWith(prefix)) out.push(name.slice(prefix.length));
  for (const n of [...out]) {
    if (/LayerNorm\.weight$/.test(n)) out.push(n.replace(/weight$/, "gamma"));
    if (/LayerNorm\.bias$/.test(n)) out.push(n.replace(/bias$/, "beta"));
  }
  return out;
}

/**
 * Loads Hugging Face safetensors weights into a model built from the same `config.json`: every
 * parameter is looked up under its name, then without the task-head prefix (a base
 * `XLMRobertaModel`/`ViTModel` checkpoint), then as legacy `gamma`/`beta`; F16 and F32 are
 * accepted. The file is read tensor by tensor straight into the parameters (chunks of at most
 * `chunkBytes`, default 64 MiB), never as one buffer. A missing required tensor or a shape mismatch is a `KitError` naming the tensor, the
 * file and the expected shape; missing task-head parameters keep their values. Returns what was
 * loaded, kept and left unused. `requireHash`/`rebuildHint` say how strictly the content hash is
 * checked (`SafetensorsReadOptions`; a trained model's folder: `modelFileReadOptions`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { loadSafetensorsWeights, saveSafetensorsWeights } from "./safetensors_weights.ts";
 * import { readEncoderConfig, type VitConfig } from "./encoder_config.ts";
 * import { VitEncoder } from "./vit_encoder.ts";
 * // a real model: new VitEncoder(config of "vit-base-patch16-224-in21k") and its model.safetensors
 * const config = await readEncoderConfig("tiny-vit") as VitConfig;
 * const dir = await Deno.makeTempDir();
 * const saved = new VitEncoder(config, { seed: 1 });
 * await saveSafetensorsWeights(saved, join(dir, "model.safetensors"));
 * const fresh = new VitEncoder(config, { seed: 2 });
 * const report = await loadSafetensorsWeights(fresh, join(dir, "model.safetensors"));
 * assert.equal(report.loaded.length, saved.params.specs.length);
 * assert.deepEqual(fresh.params.values, saved.params.values);
 * saved.dispose();
 * fresh.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadSafetensorsWeights(
  model: HfNamedModel,
  path: string,
  opts: { chunkBytes?: number } & SafetensorsReadOptions = {},
): Promise<WeightsLoadReport> {
  // the kit's content hash (whole file, streamed), before any tensor is read
  await verifySafetensorsFile(path, opts);
  const file = await SafetensorsReader.open(path, { chunkBytes: opts.chunkBytes });
  try {
    const used = new Set<string>();
    const loaded: string[] = [], keptOptional: string[] = [];
    const plan: [string, string][] = [];
    // Every check from the header first, so a mismatch leaves the model untouched.
    for (const spec of model.params.specs) {
      const key = candidateNames(spec.name, model.prefix).find((k) => file.entries.has(k));
      if (key === undefined) {
        if (spec.optional) {
          keptOptional.push(spec.name);
          continue;
        }
        throw new KitError(
          `${path}: tensor "${spec.name}" (shape [${spec.shape.join(", ")}]) is missing`,
          [
            `looked for: ${candidateNames(spec.name, model.prefix).join(", ")}`,
            "is this a checkpoint of the same architecture and config.json?",
          ],
        );
      }
      const t = file.entries.get(key)!;
      if (t.shape.length !== spec.shape.length || t.shape.some((s, i) => s !== spec.shape[i])) {
        throw new KitError(
          `${path}: tensor "${key}" has shape [${t.shape.join(", ")}], the model expects [${
            spec.shape.join(", ")
          }] for ${spec.name}`,
          ["the config.json does not match these weights"],
        );
      }
      if (t.dtype !== "F32" && t.dtype !== "F16") {
        throw new KitError(`${path}: tensor "${key}" is ${t.dtype}; expected F32 or F16`);
      }
      plan.push([spec.name, key]);
      used.add(key);
      loaded.push(spec.name);
    }
    // Then tensor by tensor, straight into the parameters (no whole-file buffer).
    for (const [name, key] of plan) await file.readFloat32Into(key, model.params.values[name]!);
    model.params.sync();
    const unused = [...file.entries.keys()].filter((k) => !used.has(k));
    return { loaded, keptOptional, unused };
  } finally {
    file.close();
  }
}

/** Writes every parameter of `model` as F32 under its Hugging Face name (atomically). */
export async function saveSafetensorsWeights(
  model: HfNamedModel,
  path: string,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors: Record<string, SafeTensorInput> = {};
  for (const s of model.params.specs) {
    tensors[s.name] = { dtype: "F32", shape: s.shape, data: model.params.values[s.name]! };
  }
  await writeSafetensors(path, tensors, { format: "pt", ...metadata });
}
