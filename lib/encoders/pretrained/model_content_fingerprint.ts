import { join, relative } from "node:path";
import { canonicalJson } from "../../util/canonical_json.ts";
import { FileHashCache } from "../../util/file_hash_cache.ts";
import { KitError } from "../../util/kit_error.ts";
import { cacheDir } from "../../util/paths.ts";
import { sha256Hex } from "../../util/sha256.ts";

/** Where the paper models' file hashes are remembered (by path, size, mtime and inode). */
export function modelFileHashCachePath(): string {
  return join(cacheDir(), "file_hashes", "model_files.json");
}

/**
 * The files of an ONNX model, relative to `folder`: the graph and, when it has one beside it, its
 * external weights (`<file>_data`, transformers.js's layout for graphs over 2 GB).
 */
export async function onnxModelFiles(folder: string, onnxPath: string): Promise<string[]> {
  const out = [relative(folder, onnxPath)];
  const data = `${onnxPath}_data`;
  if (await Deno.stat(data).then((i) => i.isFile, () => false)) out.push(relative(folder, data));
  return out;
}

/** Options of {@link modelContentFingerprint}. */
export interface ModelContentFingerprintOptions {
  /** The hash cache to use (default: one at {@link modelFileHashCachePath}). */
  hashCache?: FileHashCache;
}

/**
 * The content fingerprint of a pretrained model folder, for `SentenceEncoder.fingerprint` /
 * `ImageEncoder.fingerprint` (the result caches' key): sha256 over canonical JSON of every file
 * in `files` (paths relative to `folder`, each with its sha256 and size) and `settings` (what
 * else decides the rows: ONNX dtype, truncation length, pooling, batch size, device). Two folders
 * with the same files and settings share it wherever they lie; a change to any byte of any file
 * gives another. The kit's encoder code and npm versions (onnxruntime, transformers.js) are not
 * in it: the result-cache key adds them (`encoderResultKey`).
 *
 * Hashing the ONNX files (hundreds of MB) takes seconds; their hashes are remembered in a
 * {@link FileHashCache} (`.cache/file_hashes/model_files.json`), so a later run only `stat`s them.
 * A file of `files` that is missing is a `KitError` naming it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileHashCache } from "../../util/file_hash_cache.ts";
 * import { modelContentFingerprint } from "./model_content_fingerprint.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/config.json`, "{}");
 * const hashCache = new FileHashCache(`${dir}/hashes.json`);
 * const a = await modelContentFingerprint(dir, ["config.json"], { dtype: "fp32" }, { hashCache });
 * assert.match(a, /^[0-9a-f]{64}$/);
 * const b = await modelContentFingerprint(dir, ["config.json"], { dtype: "q8" }, { hashCache });
 * assert.notEqual(a, b);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function modelContentFingerprint(
  folder: string,
  files: readonly string[],
  settings: Record<string, unknown>,
  opts: ModelContentFingerprintOptions = {},
): Promise<string> {
  const cache = opts.hashCache ?? new FileHashCache(modelFileHashCachePath());
  const hashed: [string, string, number][] = [];
  for (const file of [...new Set(files)].sort()) {
    const path = join(folder, file);
    // the cache is keyed by the real path: a folder reached through a symlink shares entries
    const real = await Deno.realPath(path).catch(() => null);
    const h = real === null ? null : await cache.hash(real, { label: `hash ${file}` });
    if (h === null) {
      throw new KitError(`model fingerprint: ${path} is missing or not a file`);
    }
    hashed.push([relative(folder, path), h.sha256, h.size]);
  }
  await cache.save({ pruneMissing: true }); // test folders come and go
  return sha256Hex(canonicalJson({ files: hashed, settings }));
}
