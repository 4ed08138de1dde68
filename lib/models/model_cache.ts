import { join } from "node:path";
import { cacheDir } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";

/**
 * Version of the kit's model-training code. Bump it when a change to lib/models or
 * lib/encoders changes what training produces: every cached model is then retrained.
 */
export const MODEL_CODE_VERSION = "2025-k-mini-2";

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

/** True when `dir/<marker>` exists (the last file a finished training writes). */
export async function isComplete(dir: string, marker = "training.json"): Promise<boolean> {
  try {
    return (await Deno.stat(join(dir, marker))).isFile;
  } catch {
    return false;
  }
}
