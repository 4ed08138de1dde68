import { atomicWriteJson } from "../util/atomic_write.ts";
import { sha256File } from "../util/sha256.ts";

interface Stamp {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * sha256 of files, remembered by (path, size, mtime) in a JSON file so that a rerun of a build
 * does not hash unchanged inputs again. Only a cache: a wrong entry is impossible unless a file
 * changes without its size or mtime changing.
 */
export class FileHashCache {
  readonly path: string;
  #entries: Record<string, Stamp> | null = null;
  #dirty = false;

  constructor(path: string) {
    this.path = path;
  }

  async #load(): Promise<Record<string, Stamp>> {
    if (this.#entries) return this.#entries;
    try {
      this.#entries = JSON.parse(await Deno.readTextFile(this.path)) as Record<string, Stamp>;
    } catch {
      this.#entries = {};
    }
    return this.#entries;
  }

  /** The file's sha256 and size, or null when it does not exist. */
  async hash(path: string): Promise<{ sha256: string; size: number } | null> {
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
    const hit = entries[path];
    if (hit && hit.size === info.size && hit.mtimeMs === mtimeMs) {
      return { sha256: hit.sha256, size: info.size };
    }
    const sha256 = await sha256File(path);
    entries[path] = { size: info.size, mtimeMs, sha256 };
    this.#dirty = true;
    return { sha256, size: info.size };
  }

  /** Writes the cache when something new was hashed. */
  async save(): Promise<void> {
    if (!this.#dirty || !this.#entries) return;
    await atomicWriteJson(this.path, this.#entries);
    this.#dirty = false;
  }
}
