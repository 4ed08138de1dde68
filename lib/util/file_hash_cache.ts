import { createHash } from "node:crypto";
import { atomicWriteJson } from "./atomic_write.ts";
import { ProgressBar } from "./progress.ts";

/** What a file was when it was hashed. `ino` is absent in entries written before it was kept. */
interface Stamp {
  size: number;
  mtimeMs: number;
  ino?: number | null;
  sha256: string;
}

/** Options of {@link FileHashCache.hash}. */
export interface FileHashOptions {
  /** Label of the progress bar shown while a large file is hashed (default: its path). */
  label?: string;
  /** A hash still running after this many ms shows a progress bar (default 2000). */
  progressAfterMs?: number;
}

/** A file hashed without a cache hit this long (ms) gets a progress bar from then on. */
const PROGRESS_AFTER_MS = 2000;
const MIB = 1024 * 1024;

/** Streams `path` through sha256; after `progressAfterMs` a bar in MiB shows the rest. */
async function sha256FileWithProgress(
  path: string,
  size: number,
  label: string,
  progressAfterMs: number,
): Promise<string> {
  const hash = createHash("sha256");
  const t0 = performance.now();
  let bytes = 0;
  let bar: ProgressBar | null = null;
  const file = await Deno.open(path, { read: true });
  try {
    for await (const chunk of file.readable) {
      hash.update(chunk);
      bytes += chunk.length;
      // whole MiB on the bar
      if (bar) bar.tick(Math.floor(bytes / MIB) - bar.count);
      else if (performance.now() - t0 >= progressAfterMs && bytes < size) {
        bar = new ProgressBar(label, Math.ceil(size / MIB), {
          unit: "MiB",
          start: Math.floor(bytes / MIB),
        });
      }
    }
  } finally {
    try {
      file.close();
    } catch { /* already closed by the stream */ }
  }
  if (bar) {
    bar.tick(bar.total - bar.count);
    bar.done();
  }
  return hash.digest("hex");
}

/**
 * sha256 of files, remembered by (path, size, mtime, inode) in a JSON file so that a rerun does
 * not hash unchanged inputs again (the dataset build's inputs; the paper models' ONNX files, see
 * lib/encoders/pretrained/model_content_fingerprint.ts): a hit costs one `stat`. Only a cache: a
 * wrong entry is impossible unless a file changes in place without its size or mtime changing
 * (a file replaced by another, e.g. by a rename or a copy over it, gets another inode or mtime).
 * Hashing a large file shows a progress bar once it takes more than two seconds. `save` writes
 * the file atomically, merged with the entries another process may have saved meanwhile.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileHashCache } from "./file_hash_cache.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "abc");
 * const cache = new FileHashCache(`${dir}/hashes.json`);
 * const h = await cache.hash(`${dir}/a.txt`);
 * assert.equal(h?.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * await cache.save();
 * assert.equal(await new FileHashCache(`${dir}/hashes.json`).hash(`${dir}/none`), null);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileHashCache {
  readonly path: string;
  #entries: Record<string, Stamp> | null = null;
  /** Entries added or refreshed since the last save. */
  #fresh = new Map<string, Stamp>();

  constructor(path: string) {
    this.path = path;
  }

  async #read(): Promise<Record<string, Stamp>> {
    try {
      const v = JSON.parse(await Deno.readTextFile(this.path)) as unknown;
      return v !== null && typeof v === "object" && !Array.isArray(v)
        ? v as Record<string, Stamp>
        : {};
    } catch {
      return {}; // absent or unreadable: a cache starts empty
    }
  }

  async #load(): Promise<Record<string, Stamp>> {
    if (!this.#entries) this.#entries = await this.#read();
    return this.#entries;
  }

  /** The file's sha256 and size, or null when it does not exist. */
  async hash(
    path: string,
    opts: FileHashOptions = {},
  ): Promise<{ sha256: string; size: number } | null> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    if (!info.isFile) return null;
    const entries = await this.#load();
    const mtimeMs = info.mtime?.getTime() ?? 0;
    const ino = info.ino ?? null;
    const hit = entries[path];
    if (
      hit && hit.size === info.size && hit.mtimeMs === mtimeMs &&
      (hit.ino === undefined || hit.ino === ino)
    ) {
      if (hit.ino === undefined) this.#remember(path, { ...hit, ino }); // an older entry
      return { sha256: hit.sha256, size: info.size };
    }
    const sha256 = await sha256FileWithProgress(
      path,
      info.size,
      opts.label ?? `hash ${path}`,
      opts.progressAfterMs ?? PROGRESS_AFTER_MS,
    );
    this.#remember(path, { size: info.size, mtimeMs, ino, sha256 });
    return { sha256, size: info.size };
  }

  #remember(path: string, stamp: Stamp): void {
    this.#entries![path] = stamp;
    this.#fresh.set(path, stamp);
  }

  /**
   * Writes the cache when something new was hashed (atomically; others' new entries kept).
   * `pruneMissing`: entries of files that no longer exist are dropped (one `stat` each; for
   * caches of a few files, e.g. model folders, where test folders come and go).
   */
  async save(opts: { pruneMissing?: boolean } = {}): Promise<void> {
    if (this.#fresh.size === 0) return;
    const merged = { ...await this.#read(), ...Object.fromEntries(this.#fresh) };
    if (opts.pruneMissing) {
      for (const p of Object.keys(merged)) {
        if (!(await Deno.stat(p).then((i) => i.isFile, () => false))) delete merged[p];
      }
    }
    await atomicWriteJson(this.path, merged);
    this.#entries = merged;
    this.#fresh.clear();
  }
}
