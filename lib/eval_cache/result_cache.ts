import { join } from "node:path";
import { readSafetensors, type SafeTensorInput, writeSafetensors } from "../io/safetensors.ts";
import { KitError } from "../util/kit_error.ts";
import { cacheDir, projectRelative } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { FileWriteError, sweepStaleTempFiles } from "../util/atomic_write.ts";
import { markUsed } from "./cache_usage.ts";
import {
  type CachedArray,
  decodeCachedValue,
  encodeCachedValue,
  type EncodedCachedValue,
} from "./cached_value_codec.ts";

const FORMAT = "image-pivot-kit/result-cache/1";

/** Where {@link cachedResult} keeps its entries and how it reports. */
export interface ResultCacheOptions {
  /** Root folder (default `cacheDir()/results`). */
  dir?: string;
  /** One line per hit or damaged entry (default: a hit on stdout with KIT_VERBOSE=1, else
   * silent; a damaged entry on stderr). */
  log?: (line: string) => void;
}

/** The file of one entry: `<root>/<kind>/<first 32 hex of sha256(canonical key)>.safetensors`. */
export function resultCachePath(
  kind: string,
  key: Record<string, unknown>,
  opts: ResultCacheOptions = {},
): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(kind)) {
    throw new KitError(`result cache: kind "${kind}" must be lower-case letters, digits, _ or -`);
  }
  const root = opts.dir ?? join(cacheDir(), "results");
  return join(root, kind, `${sha256Hex(canonicalJson(key)).slice(0, 32)}.safetensors`);
}

function tensorOf(a: CachedArray): SafeTensorInput {
  if (a instanceof Float32Array) return { dtype: "F32", shape: [a.length], data: a };
  if (a instanceof Float64Array) return { dtype: "F64", shape: [a.length], data: a };
  // Int32 and Uint8 arrays are stored as I32 (safetensors has no U8 here); the JSON part
  // records which type to give back.
  return { dtype: "I32", shape: [a.length], data: a };
}

async function writeEntry(
  path: string,
  kind: string,
  key: Record<string, unknown>,
  value: EncodedCachedValue,
): Promise<void> {
  const tensors: Record<string, SafeTensorInput> = {};
  const kinds: Record<string, string> = {};
  for (const [name, a] of Object.entries(value.arrays)) {
    tensors[name] = tensorOf(a);
    kinds[name] = a.constructor.name;
  }
  await writeSafetensors(path, tensors, {
    format: FORMAT,
    kind,
    key: canonicalJson(key),
    value: value.json,
    array_types: JSON.stringify(kinds),
  });
}

/** Reads an entry; a KitError says what is wrong with it (damaged file, other key, bad layout). */
async function readEntry(
  path: string,
  key: Record<string, unknown>,
): Promise<unknown> {
  const file = await readSafetensors(path, { requireHash: true });
  const md = file.metadata;
  if (md.format !== FORMAT) {
    throw new KitError(`${path}: not a result-cache entry (format ${JSON.stringify(md.format)})`);
  }
  if (md.key !== canonicalJson(key)) {
    throw new KitError(`${path}: written for another key (a hash collision or a renamed file)`);
  }
  let types: Record<string, string>;
  try {
    types = JSON.parse(md.array_types ?? "");
  } catch {
    throw new KitError(`${path}: metadata "array_types" is not JSON`);
  }
  const arrays: Record<string, CachedArray> = {};
  for (const [name, type] of Object.entries(types)) {
    const t = file.tensors.get(name);
    if (!t) throw new KitError(`${path}: tensor "${name}" missing`);
    const d = t.data;
    if (type === "Float32Array" && d instanceof Float32Array) arrays[name] = d;
    else if (type === "Float64Array" && d instanceof Float64Array) arrays[name] = d;
    else if (type === "Int32Array" && d instanceof Int32Array) arrays[name] = d;
    else if (type === "Uint8Array" && d instanceof Int32Array) arrays[name] = Uint8Array.from(d);
    else throw new KitError(`${path}: tensor "${name}" is not the ${type} it was written as`);
  }
  return decodeCachedValue({ json: md.value ?? "null", arrays });
}

/**
 * Returns the cached result of `compute` for `key`, computing and storing it on a miss.
 *
 * `key` must hold everything the result depends on (model content hashes, input hashes, code
 * fingerprint, numeric backend, options): equal keys are trusted to give equal results. Each
 * entry is one `.safetensors` file under `cacheDir()/results/<kind>/`, written atomically and
 * sealed with the sha256 of its bytes; the full key is stored in it and compared on read. A
 * damaged or foreign entry is reported (one line naming the file and the reason), recomputed and
 * overwritten — never used. An entry that cannot be written (no space, read-only folder) is a
 * warning naming the file: the value is returned, no temp file is left. Temp files of writes
 * killed midway are swept at the first call. The value round-trips exactly (see `encodeCachedValue`): numbers
 * bit for bit, typed arrays with their types.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedResult } from "./result_cache.ts";
 * const dir = await Deno.makeTempDir();
 * const f = () => Promise.resolve({ x: new Float32Array([1, 2]) });
 * const a = await cachedResult("demo", { n: 1 }, f, { dir, log: () => {} });
 * const notCalled = (): Promise<{ x: Float32Array }> => Promise.reject(new Error("not called"));
 * const b = await cachedResult("demo", { n: 1 }, notCalled, { dir, log: () => {} });
 * assert.deepEqual(b.x, a.x);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function cachedResult<T>(
  kind: string,
  key: Record<string, unknown>,
  compute: () => Promise<T>,
  opts: ResultCacheOptions = {},
): Promise<T> {
  // A hit is routine (one line on stdout with KIT_VERBOSE=1, else silent); a damaged entry is a
  // warning (stderr).
  const hit = opts.log ??
    ((line: string) => Deno.env.get("KIT_VERBOSE") === "1" && console.log(line));
  const log = opts.log ?? ((line: string) => console.error(line));
  const path = resultCachePath(kind, key, opts);
  await sweepOnce(opts.dir ?? join(cacheDir(), "results"), log);
  let exists = false;
  try {
    exists = (await Deno.stat(path)).isFile;
  } catch { /* a miss */ }
  if (exists) {
    try {
      const value = await readEntry(path, key) as T;
      await markUsed(path); // still reached by the current code (see cache_usage.ts)
      hit(`${kind}: cached result ${projectRelative(path)}`);
      return value;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      log(`${kind}: cache entry damaged, recomputing it: ${why}`);
    }
  }
  const value = await compute();
  try {
    await writeEntry(path, kind, key, encodeCachedValue(value));
  } catch (err) {
    // A full disk or a read-only cache costs the cache, not the result.
    if (!(err instanceof FileWriteError)) throw err;
    log(`${kind}: warning: result not cached (${err.message}); continuing without the cache`);
  }
  return value;
}

const swept = new Set<string>();

/** Once per process and cache root: removes the temp files of writes killed midway. */
async function sweepOnce(root: string, log: (line: string) => void): Promise<void> {
  if (swept.has(root)) return;
  swept.add(root);
  const removed = await sweepStaleTempFiles(root);
  if (removed.length > 0) {
    log(`result cache: removed ${removed.length} temp file(s) left by interrupted writes`);
  }
}
