import { join, resolve } from "node:path";
import { cacheDir } from "./paths.ts";

/** The caches two runs must not write at once. */
export const LOCKED_CACHES = ["models", "translation", "datasets"] as const;

/** Locks this process holds, by folder (a lock is held until the process exits). */
const held = new Map<string, Promise<void>>();

/** The holder's line in a lock file: pid, start time and command. */
function holderLine(): string {
  return `pid ${Deno.pid} since ${new Date().toISOString()}: ${
    [Deno.execPath().split("/").pop(), ...Deno.args].join(" ").slice(0, 200)
  }\n`;
}

/**
 * Takes the lock of one of the kit's caches (`<lockDir>/<name>.lock`, default
 * `.cache/locks/`, an exclusive `flock`) for the rest of this process: two runs never write the
 * same cache (trained models, translations, built datasets and downloads) at once. When another
 * process holds it, this waits, after printing one line naming the cache and the holder (its
 * pid, start time and command); the OS releases a lock when its process ends, also when it is
 * killed, so a crashed run never leaves a stale lock. Taking a lock this process already holds
 * is free. Entry points take it (`reproduce`, `fetch`), not library code, so a notebook kernel
 * started by `reproduce` never waits for its own runner.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { holdCacheLock } from "./cache_lock.ts";
 * const dir = await Deno.makeTempDir();
 * await holdCacheLock("models", dir);
 * await holdCacheLock("models", dir); // already held: returns at once
 * assert((await Deno.stat(`${dir}/models.lock`)).isFile);
 * ```
 */
export function holdCacheLock(name: string, lockDir = join(cacheDir(), "locks")): Promise<void> {
  const path = join(resolve(lockDir), `${name}.lock`);
  let p = held.get(path);
  if (!p) {
    p = acquire(path, name);
    p.catch(() => held.delete(path));
    held.set(path, p);
  }
  return p;
}

async function acquire(path: string, what: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  // opened for the process's lifetime on purpose: closing it would release the lock
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  const lock = file.lock(true).then(() => {
    locked = true;
  });
  const timer = new Promise((r) => setTimeout(r, 300));
  await Promise.race([lock, timer]);
  if (!locked) {
    let holder = "another process";
    try {
      holder = (await Deno.readTextFile(path)).trim() || holder;
    } catch { /* unreadable: keep the generic name */ }
    console.error(
      `waiting for the ${what} cache (lock ${path}): in use by ${holder}; it is released when that run ends`,
    );
  }
  await lock;
  await file.truncate(0);
  const bytes = new TextEncoder().encode(holderLine());
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}
