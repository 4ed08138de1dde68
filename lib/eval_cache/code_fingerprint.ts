import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";

// Relative specifiers in static imports/exports and dynamic imports: `from "./x.ts"`,
// `import "./x.ts"`, `import("../y.ts")`.
// Matches in comments count too (a file they name that does not exist is skipped: a real import
// of a missing file could not have run).
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"'\s]+\.(?:ts|js|mjs|json))["']/g;

const memo = new Map<string, string>();

/** `f()` as a promise: its value, or a rejection with what it threw. */
function settled<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The project files every result depends on besides the local modules: npm versions, config. */
const PROJECT_FILES = ["deno.json", "package-lock.json"];

/**
 * The local modules `entries` import, transitively (relative `import`/`export … from` and
 * dynamic `import("./…")` specifiers), `entries` included, as project-relative paths, sorted.
 */
export function moduleClosure(entries: readonly string[]): Promise<string[]> {
  return settled(() => moduleClosureSync(entries));
}

/** {@link moduleClosure}, reading the files synchronously. */
export function moduleClosureSync(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const stack = entries.map((e) => resolve(PROJECT_ROOT, e));
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound && !entries.includes(relative(PROJECT_ROOT, file))) {
        seen.delete(file); // named in a comment only
        continue;
      }
      throw new KitError(`code fingerprint: cannot read module ${relative(PROJECT_ROOT, file)}`);
    }
    for (const m of text.matchAll(IMPORT_RE)) stack.push(resolve(dirname(file), m[1]!));
  }
  return [...seen].map((f) => relative(PROJECT_ROOT, f)).sort();
}

/**
 * sha256 over the source of every local module `entries` import (transitively; see
 * {@link moduleClosure}) and the project's `deno.json` and `package-lock.json` (npm versions):
 * the "code version" part of a result-cache or model-cache key. Any edit to code a cached
 * result came from gives another fingerprint, so the result is computed again. Memoised per
 * process (the source does not change under a running kernel); `reuse: false` reads the files
 * again.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeFingerprint } from "./code_fingerprint.ts";
 * const f = await codeFingerprint(["lib/util/sha256.ts"]);
 * assert(/^[0-9a-f]{64}$/.test(f));
 * ```
 */
export function codeFingerprint(
  entries: readonly string[],
  opts: { reuse?: boolean } = {},
): Promise<string> {
  return settled(() => codeFingerprintSync(entries, opts));
}

/** {@link codeFingerprint}, reading the files synchronously (for keys computed in sync code). */
export function codeFingerprintSync(
  entries: readonly string[],
  opts: { reuse?: boolean } = {},
): string {
  const id = [...entries].sort().join("\n");
  const hit = opts.reuse === false ? undefined : memo.get(id);
  if (hit) return hit;
  const parts: string[] = [];
  for (const f of [...moduleClosureSync(entries), ...PROJECT_FILES]) {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(join(PROJECT_ROOT, f));
    } catch {
      if (PROJECT_FILES.includes(f)) continue; // an installed copy without a lock file
      throw new KitError(`code fingerprint: cannot read ${f}`);
    }
    parts.push(`${f}\0${sha256Hex(bytes)}`);
  }
  const fp = sha256Hex(parts.join("\n"));
  memo.set(id, fp);
  return fp;
}

/** `codeFingerprint` of modules given by URL (e.g. `import.meta.url` of the caller). */
export function codeFingerprintOf(...moduleUrls: string[]): Promise<string> {
  return codeFingerprint(moduleUrls.map((u) => relative(PROJECT_ROOT, fileURLToPath(u))));
}
