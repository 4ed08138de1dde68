import { join } from "node:path";
import { cacheDir } from "../util/paths.ts";
import { sha256File, sha256Hex } from "../util/sha256.ts";
import { hasContentHash } from "../io/safetensors.ts";

/**
 * Version of the kit's model-training code. Bump it when a change to lib/models or
 * lib/encoders changes what training produces: every cached model is then retrained.
 */
export const MODEL_CODE_VERSION = "2025-k-mini-3";

/**
 * The cache folder of a trained model: `cacheDir()/models/<name>@<hash>`, the hash covering its
 * configuration, a fingerprint of its training data and `MODEL_CODE_VERSION` (so a change to
 * any of them trains a new model beside the old one).
 *
 * ```ts
 * import { modelCacheDir } from "./model_cache.ts";
 * console.assert(modelCacheDir("k-eng-only", { steps: 1 }, "abc").includes("k-eng-only@"));
 * ```
 */
export function modelCacheDir(name: string, config: unknown, dataFingerprint: string): string {
  const hash = sha256Hex(
    JSON.stringify({ config, data: dataFingerprint, code: MODEL_CODE_VERSION }),
  ).slice(0, 12);
  return join(cacheDir(), "models", `${name}@${hash}`);
}

/**
 * True when `dir/<marker>` exists (the last file a finished training writes) and every
 * `.safetensors` file there carries the kit's content hash. A folder written before content
 * hashes counts as incomplete (one line says so) and is trained again; a file whose hash does
 * not match is an error when it is loaded (see `readSafetensors`).
 */
export async function isComplete(dir: string, marker = "training.json"): Promise<boolean> {
  try {
    if (!(await Deno.stat(join(dir, marker))).isFile) return false;
  } catch {
    return false;
  }
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".safetensors") || e.name === "checkpoint.safetensors") {
      continue;
    }
    if (!(await hasContentHash(join(dir, e.name)))) {
      console.error(
        `${dir}: written before the kit's content hashes (${e.name}); training it again`,
      );
      return false;
    }
  }
  return true;
}

/**
 * sha256 over every file of a trained model's folder (name and content; the resumable
 * `checkpoint.safetensors` and temp files left out): weights, tokenizer, configs and the
 * training record. Two folders with the same fingerprint hold the same model, whatever their
 * names; a retrained model (other data, plan or code) gets another. Result caches key on it
 * (`SentenceEncoder.fingerprint`).
 */
export async function modelFolderFingerprint(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name !== "checkpoint.safetensors" && !e.name.endsWith(".tmp")) {
      names.push(e.name);
    }
  }
  names.sort();
  const parts: string[] = [];
  for (const n of names) parts.push(`${n}\0${await sha256File(join(dir, n))}`);
  return sha256Hex(parts.join("\n"));
}
