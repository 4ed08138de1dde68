import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder holding deno.json), found from this module's location. */
export const PROJECT_ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The project's ignored cache folder (`.cache/`), or `KIT_CACHE_DIR` when set. */
export function cacheDir(): string {
  return Deno.env.get("KIT_CACHE_DIR") ?? join(PROJECT_ROOT, ".cache");
}
