import { join } from "node:path";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { markUsed } from "../eval_cache/cache_usage.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256File, sha256Hex } from "../util/sha256.ts";

/** The manifest a finished model folder carries: sha256 and size of each of its files. */
export const MODEL_MANIFEST = "files.sha256.json";

const FORMAT = "image-pivot-kit/model-manifest/1";

/** Files that are not part of the model: the resumable checkpoint, temp files, the manifest. */
function isModelFile(name: string): boolean {
  return name !== MODEL_MANIFEST && name !== "checkpoint.safetensors" && !name.endsWith(".tmp") &&
    !name.endsWith(".lock");
}

/**
 * Files whose content is the model (weights, tokenizer, configs, labels): the training record
 * (`training.json`: timings, loss curve) is hashed in the manifest too but left out of
 * {@link ModelManifest.fingerprint}, so a retrain with other timings keeps the model's key.
 */
function isContentFile(name: string): boolean {
  return name !== "training.json";
}

/** A checked manifest of a model folder. */
export interface ModelManifest {
  /** File name → sha256 (hex) and size in bytes. */
  files: Record<string, { sha256: string; bytes: number }>;
  /** sha256 over the names and hashes of the content files (not `training.json`). */
  fingerprint: string;
}

/** The model's files under `dir`, as paths relative to it (`image/model.safetensors`). */
async function modelFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? join(dir, rel) : dir)) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(name);
      else if (e.isFile && isModelFile(e.name)) names.push(name);
    }
  };
  await walk("");
  return names.sort();
}

function fingerprintOf(files: ModelManifest["files"]): string {
  const parts = Object.keys(files).sort().filter(isContentFile).map((n) =>
    `${n}\0${files[n]!.sha256}`
  );
  return sha256Hex(parts.join("\n"));
}

/**
 * Writes `<dir>/files.sha256.json` with the sha256 and size of every file of a finished model
 * folder (weights, tokenizer, configs, training record). Trainers call it after the folder's
 * last file; {@link verifyModelFolder} checks it on every load.
 */
export async function writeModelManifest(dir: string): Promise<ModelManifest> {
  const files: ModelManifest["files"] = {};
  for (const n of await modelFiles(dir)) {
    const p = join(dir, n);
    files[n] = { sha256: await sha256File(p), bytes: (await Deno.stat(p)).size };
  }
  await atomicWriteJson(join(dir, MODEL_MANIFEST), { format: FORMAT, files });
  verified.delete(dir);
  return { files, fingerprint: fingerprintOf(files) };
}

/** Verified folders of this process, by path, with the (name, size, mtime) stamp they had. */
const verified = new Map<string, { stamp: string; manifest: ModelManifest }>();

async function folderStamp(dir: string, names: string[]): Promise<string> {
  const parts: string[] = [];
  for (const n of names) {
    const st = await Deno.stat(join(dir, n));
    parts.push(`${n}:${st.size}:${st.mtime?.getTime() ?? 0}`);
  }
  return parts.join("|");
}

/**
 * Checks every file of a model folder against its manifest (sha256 and size) and returns it.
 * A changed, damaged or missing file is a KitError naming the file and what to do. A folder
 * trained before manifests (none there) gets one now, with a line saying so. Within a process,
 * a folder whose files have not changed (size, mtime) is not hashed twice.
 */
export async function verifyModelFolder(dir: string): Promise<ModelManifest> {
  const names = await modelFiles(dir);
  const stamp = await folderStamp(dir, names);
  const manifestPath = join(dir, MODEL_MANIFEST);
  await markUsed(manifestPath); // loaded by the current code: not pruned (cache_usage.ts)
  const known = verified.get(dir);
  if (known && known.stamp === stamp) return known.manifest;
  let text: string;
  try {
    text = await Deno.readTextFile(manifestPath);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    console.error(`${dir}: trained before file manifests; recording the sha256 of its files now`);
    const manifest = await writeModelManifest(dir);
    verified.set(dir, { stamp: await folderStamp(dir, names), manifest });
    return manifest;
  }
  const retrain = [
    `delete the folder ${dir} to train the model again (or restore the file)`,
  ];
  let files: ModelManifest["files"];
  try {
    const parsed = JSON.parse(text);
    if (parsed?.format !== FORMAT || typeof parsed.files !== "object") throw new Error("layout");
    files = parsed.files;
  } catch {
    throw new KitError(`${manifestPath}: not a model file manifest (damaged)`, retrain);
  }
  for (const [name, want] of Object.entries(files)) {
    const p = join(dir, name);
    let bytes: number;
    try {
      bytes = (await Deno.stat(p)).size;
    } catch {
      throw new KitError(`${p}: missing (listed in ${MODEL_MANIFEST})`, retrain);
    }
    const sha = bytes === want.bytes ? await sha256File(p) : "";
    if (bytes !== want.bytes || sha !== want.sha256) {
      throw new KitError(
        `${p}: changed since the model was trained (${
          bytes !== want.bytes
            ? `${bytes} bytes, ${want.bytes} expected`
            : `sha256 ${sha.slice(0, 12)}…, ${want.sha256.slice(0, 12)}… expected`
        }; ${MODEL_MANIFEST} records every file of the folder)`,
        retrain,
      );
    }
  }
  const manifest = { files, fingerprint: fingerprintOf(files) };
  verified.set(dir, { stamp, manifest });
  return manifest;
}
