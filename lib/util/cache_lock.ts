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
 * is free. Entry points take it for the whole run (`reproduce`, `fetch`); library code that
 * writes a cache takes it for the write with {@link withCacheLock}, so notebook kernels are
 * covered too. A run's children (its notebook kernels) inherit its locks through
 * {@link inheritedLocksEnv}, so a kernel started by `reproduce` never waits for its own runner.
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
  if (inheritedFromAncestor(path)) return Promise.resolve();
  let p = held.get(path);
  const inScope = scoped.get(path);
  if (!p && inScope) {
    inScope.depth++; // taken by withCacheLock: now kept for the process's lifetime
    p = inScope.file.then(() => {});
    held.set(path, p);
  }
  if (!p) {
    p = acquire(path, name).then(() => {});
    p.catch(() => held.delete(path));
    held.set(path, p);
  }
  return p;
}

/** Locks held for a while by {@link withCacheLock}: the open file and how many calls hold it. */
const scoped = new Map<string, { file: Promise<Deno.FsFile>; depth: number }>();

/**
 * Runs `f` holding the lock of one of the kit's caches (as {@link holdCacheLock}: waits with a
 * line naming the holder), then releases it, unless this process held it already (a run's
 * lifetime lock, an outer call: re-entrant) or inherited it from the run that started it. Library
 * code wraps its cache writes in it: a notebook kernel and a `reproduce` never train the same
 * model folder at once; the second waits, then finds the model done.
 */
export async function withCacheLock<T>(
  name: string,
  f: () => Promise<T>,
  lockDir = join(cacheDir(), "locks"),
): Promise<T> {
  const path = join(resolve(lockDir), `${name}.lock`);
  if (held.has(path) || inheritedFromAncestor(path)) return await f();
  let entry = scoped.get(path);
  if (!entry) {
    entry = { file: acquire(path, name), depth: 0 };
    scoped.set(path, entry);
    entry.file.catch(() => scoped.delete(path));
  }
  entry.depth++;
  try {
    await entry.file;
    return await f();
  } finally {
    entry.depth--;
    if (entry.depth === 0 && scoped.get(path) === entry) {
      scoped.delete(path);
      try {
        (await entry.file).close(); // releases the flock
      } catch { /* never acquired */ }
    }
  }
}

/** The variable by which a run tells its children which locks it holds (`pid:path|path`). */
const INHERITED_LOCKS_VAR = "KIT_CACHE_LOCKS_HELD";

/**
 * Environment for child processes (notebook kernels) of a run holding cache locks: they may
 * write those caches without taking the locks again (they would wait for their own parent).
 * Honoured only while that run is an ancestor of the reading process.
 */
export function inheritedLocksEnv(): Record<string, string> {
  const paths = [...held.keys()];
  return paths.length > 0 ? { [INHERITED_LOCKS_VAR]: `${Deno.pid}:${paths.join("|")}` } : {};
}

/** Parent pid of `pid` from /proc, or null. */
function parentOf(pid: number): number | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** True when an ancestor process (see {@link inheritedLocksEnv}) holds the lock at `path`. */
function inheritedFromAncestor(path: string): boolean {
  const v = Deno.env.get(INHERITED_LOCKS_VAR);
  const m = v?.match(/^(\d+):(.*)$/);
  if (!m || !m[2]!.split("|").includes(path)) return false;
  const holder = Number(m[1]);
  for (let pid: number | null = parentOf(Deno.pid), n = 0; pid && pid > 1 && n < 64; n++) {
    if (pid === holder) return true;
    pid = parentOf(pid);
  }
  return false;
}

async function acquire(path: string, what: string): Promise<Deno.FsFile> {
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
  return file;
}
