import { join } from "node:path";
import { cacheDir } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";
import { hasContentHash } from "../io/safetensors.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { codeFingerprintSync } from "../eval_cache/code_fingerprint.ts";
import { verifyModelFolder } from "./model_manifest.ts";

/**
 * The modules whose code a trained model depends on, by default: the model-training barrel, so
 * every module it imports, transitively (encoders, losses, optimisers, data, …), plus
 * deno.json and package-lock.json (see `codeFingerprint`).
 */
export const MODEL_CODE_ENTRIES: readonly string[] = ["lib/models/mod.ts"];

/**
 * The cache folder of a trained model: `cacheDir()/models/<name>@<hash>`, the hash covering its
 * configuration, a fingerprint of its training data and the code fingerprint of `codeEntries`'
 * import graph (default `MODEL_CODE_ENTRIES`), all as canonical JSON: a change to any of them
 * (an edit to any module training imports included) trains a new model beside the old one; key
 * order in `config` does not matter.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelCacheDir } from "./model_cache.ts";
 * const dir = modelCacheDir("k-eng-only", { steps: 1, lr: 2 }, "abc");
 * assert.match(dir, /k-eng-only@[0-9a-f]{12}$/);
 * assert.equal(modelCacheDir("k-eng-only", { lr: 2, steps: 1 }, "abc"), dir);
 * assert.notEqual(modelCacheDir("k-eng-only", { steps: 2, lr: 2 }, "abc"), dir);
 * ```
 */
export function modelCacheDir(
  name: string,
  config: unknown,
  dataFingerprint: string,
  opts: { codeEntries?: readonly string[]; reuseFingerprint?: boolean } = {},
): string {
  const code = codeFingerprintSync(opts.codeEntries ?? MODEL_CODE_ENTRIES, {
    reuse: opts.reuseFingerprint,
  });
  const hash = sha256Hex(canonicalJson({ config, data: dataFingerprint, code })).slice(0, 12);
  return join(cacheDir(), "models", `${name}@${hash}`);
}

/**
 * True when `dir/<marker>` exists (the last file a finished training writes) and every
 * `.safetensors` file there carries the kit's content hash. A folder written before content
 * hashes counts as incomplete (one line says so) and is trained again; a file whose hash does
 * not match is an error when it is loaded (see `readSafetensors`). Every file of a complete
 * folder (tokenizer, configs and training record too) is then checked against its
 * `files.sha256.json` manifest: a changed or damaged file is a KitError naming it.
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
  await verifyModelFolder(dir);
  return true;
}

/**
 * The fingerprint of a trained model folder: sha256 over the names and hashes of its weights,
 * tokenizer and configs as recorded in its checked manifest (`verifyModelFolder`); the training
 * record (`training.json`, with its timings) and the resumable checkpoint are left out. Two
 * folders with the same fingerprint hold the same model, whatever their names, and a retrain
 * that gives the same files keeps it; a model trained on other data, plan or code gets another.
 * Result caches key on it (`SentenceEncoder.fingerprint`).
 */
export async function modelFolderFingerprint(dir: string): Promise<string> {
  return (await verifyModelFolder(dir)).fingerprint;
}
