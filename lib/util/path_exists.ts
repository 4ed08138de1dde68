/**
 * Whether a path exists (file or folder): false only when it is not there; any other error
 * (a permission denied, say) is thrown, never read as "missing".
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathExists } from "./path_exists.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await pathExists(dir), true);
 * assert.equal(await pathExists(`${dir}/nothing-here`), false);
 * await Deno.remove(dir);
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
