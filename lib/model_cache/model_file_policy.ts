import { dirname, relative, resolve } from "node:path";
import { cacheDir } from "../util/paths.ts";
import type { SafetensorsReadOptions } from "../io/safetensors.ts";

/**
 * True when `path` lies in one of the kit's trained-model cache folders,
 * `<cache>/models/<name>@<12 hex>/` (see `modelCacheDir`): every file there was written by
 * `writeSafetensors`, so it must carry a content hash. (Pretrained models a user puts under
 * `<cache>/models/<org>/<model>/` are not the kit's and need none.)
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { cacheDir } from "../util/paths.ts";
 * import { isKitModelCachePath } from "./model_file_policy.ts";
 * assert.equal(isKitModelCachePath(join(cacheDir(), "models", "k-x@0123456789ab", "m.safetensors")), true);
 * assert.equal(isKitModelCachePath(join(cacheDir(), "models", "org", "xlmr", "m.safetensors")), false);
 * ```
 */
export function isKitModelCachePath(path: string): boolean {
  const rel = relative(resolve(cacheDir(), "models"), resolve(path));
  if (rel === "" || rel.startsWith("..") || rel.startsWith("/")) return false;
  return /^[^/]+@[0-9a-f]{12}\//.test(rel);
}

/** What to do about a damaged file of a trained model's folder: delete the folder and retrain. */
export function modelFileRebuildHint(path: string): string[] {
  return [
    `delete the folder ${dirname(path)}/ and rerun: the kit rebuilds it` +
    " (trained models and checkpoints: `./kit task reproduce --only 02`)",
  ];
}

/**
 * The model cache's rules for reading a weights file (`readSafetensors`,
 * `loadSafetensorsWeights`, `readParameterSetInto`): in a kit model cache folder
 * (`isKitModelCachePath`) the content hash is required and a damaged file names the folder to
 * delete and notebook 02 to rerun; elsewhere (a user's model folder) a file without a hash is
 * read as it is, and one with a hash is still checked.
 */
export function modelFileReadOptions(path: string): SafetensorsReadOptions {
  return isKitModelCachePath(path)
    ? { requireHash: true, rebuildHint: modelFileRebuildHint(path) }
    : { requireHash: false };
}
