import { dirname } from "node:path";

let counter = 0;

/** A temp path beside `path` (same directory, so the final rename is atomic). */
function tempPathFor(path: string): string {
  counter += 1;
  return `${path}.${Deno.pid}.${counter}.tmp`;
}

/**
 * Writes `data` to `path` atomically: into a temp file beside it, flushed, then renamed over the
 * target. A reader sees either the old file or the new one, never a partial file, and a run
 * killed midway leaves the old file intact.
 */
export async function atomicWriteFile(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.syncData();
  } finally {
    file.close();
  }
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** `atomicWriteFile` for JSON, pretty-printed with a trailing newline. */
export function atomicWriteJson(path: string, value: unknown): Promise<void> {
  return atomicWriteFile(path, JSON.stringify(value, null, 2) + "\n");
}
