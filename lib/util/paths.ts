import { dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder holding deno.json), found from this module's location. */
export const PROJECT_ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The project's ignored cache folder (`.cache/`), or `KIT_CACHE_DIR` when set. */
export function cacheDir(): string {
  return Deno.env.get("KIT_CACHE_DIR") ?? join(PROJECT_ROOT, ".cache");
}

/**
 * `path` relative to the project when it lies inside it (`figures/mini/K-T1.json`), else as
 * given: how live output names the project's files, as the executed notebooks do.
 */
export function projectRelative(path: string): string {
  if (!isAbsolute(path)) return path;
  for (const root of new Set([PROJECT_ROOT, realRoot()])) {
    const rel = relative(root, path);
    if (rel === "") return ".";
    if (!rel.startsWith("..") && !isAbsolute(rel)) return rel;
  }
  return path;
}

let realRootMemo: string | null = null;
function realRoot(): string {
  try {
    realRootMemo ??= Deno.realPathSync(PROJECT_ROOT);
  } catch {
    realRootMemo = PROJECT_ROOT;
  }
  return realRootMemo;
}
