import { basename, dirname, join } from "node:path";
import { KitError } from "./kit_error.ts";

let counter = 0;

/** A temp path beside `path` (same directory, so the final rename is atomic). */
function tempPathFor(path: string): string {
  counter += 1;
  return `${path}.${Deno.pid}.${counter}.tmp`;
}

/** Names the temp files of {@link atomicWriteFile}: `<name>.<pid>.<n>.tmp`. */
const TEMP_NAME = /\.(\d+)\.\d+\.tmp$/;

/**
 * A file could not be written (no space left, a read-only or foreign folder): names the file
 * and the system's reason. No partial or temp file is left behind.
 */
export class FileWriteError extends KitError {
  constructor(readonly path: string, readonly reason: string) {
    super(`could not write ${path}: ${reason}`);
  }
}

/**
 * Writes `data` to `path` atomically: into a temp file beside it, flushed, then renamed over the
 * target. A reader sees either the old file or the new one, never a partial file, and a run
 * killed midway leaves the old file intact. A failure (no space, read-only folder) removes the
 * temp file and throws a {@link FileWriteError} naming `path`.
 */
export async function atomicWriteFile(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw new FileWriteError(path, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Writes the concatenation of `chunks` to `path` atomically, as {@link atomicWriteFile} does,
 * without holding the whole content in memory: each chunk is written as it comes (a large
 * index, one line per item, never becomes one string).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { atomicWriteChunks } from "./atomic_write.ts";
 * const p = await Deno.makeTempFile();
 * await atomicWriteChunks(p, (function* () { for (let i = 0; i < 3; i++) yield `${i}\n`; })());
 * assert.equal(await Deno.readTextFile(p), "0\n1\n2\n");
 * await Deno.remove(p);
 * ```
 */
export async function atomicWriteChunks(
  path: string,
  chunks: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
): Promise<void> {
  const tmp = tempPathFor(path);
  const enc = new TextEncoder();
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      for await (const chunk of chunks) {
        const bytes = typeof chunk === "string" ? enc.encode(chunk) : chunk;
        let off = 0;
        while (off < bytes.length) off += await file.write(bytes.subarray(off));
      }
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw new FileWriteError(path, err instanceof Error ? err.message : String(err));
  }
}

/** True when a process with this pid exists (Linux: /proc; elsewhere: assumed alive). */
function pidAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound) || !isLinuxProc();
  }
}

function isLinuxProc(): boolean {
  try {
    return Deno.statSync("/proc/self").isDirectory;
  } catch {
    return false;
  }
}

/**
 * Removes the temp files that {@link atomicWriteFile} left under `dir` (recursively) when its
 * process was killed mid-write: `*.<pid>.<n>.tmp` whose process is gone, or (where pids cannot
 * be checked) older than `maxAgeS`. Returns the paths removed; a missing `dir` is empty.
 */
export async function sweepStaleTempFiles(dir: string, maxAgeS = 3600): Promise<string[]> {
  const removed: string[] = [];
  const canCheckPids = isLinuxProc();
  const walk = async (d: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory) {
        await walk(p);
        continue;
      }
      const m = e.isFile ? basename(p).match(TEMP_NAME) : null;
      if (!m) continue;
      let stale: boolean;
      if (canCheckPids) stale = !pidAlive(Number(m[1]));
      else {
        const mtime = (await Deno.stat(p).catch(() => null))?.mtime?.getTime() ?? Date.now();
        stale = Date.now() - mtime > maxAgeS * 1000;
      }
      if (!stale) continue;
      try {
        await Deno.remove(p);
        removed.push(p);
      } catch { /* gone, or not ours to remove */ }
    }
  };
  await walk(dir);
  return removed;
}

/** `atomicWriteFile` for JSON, pretty-printed with a trailing newline. */
export function atomicWriteJson(path: string, value: unknown): Promise<void> {
  return atomicWriteFile(path, JSON.stringify(value, null, 2) + "\n");
}
