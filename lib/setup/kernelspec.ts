import { join } from "node:path";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { cacheDir } from "../util/paths.ts";

/** The project-local Jupyter data folder (put on `JUPYTER_PATH`). */
export function jupyterDataDir(): string {
  return join(cacheDir(), "jupyter");
}

/** The kernel name of the kit's Deno kernel. */
export const KERNEL_NAME = "deno";

/** The kernelspec content: the project's own Deno, with its module cache inside the project. */
export function denoKernelSpec(
  denoPath: string,
  denoDir: string | undefined,
): Record<string, unknown> {
  return {
    argv: [denoPath, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno (image-pivot kit)",
    language: "typescript",
    env: denoDir ? { DENO_DIR: denoDir } : {},
  };
}

/**
 * Writes `<cache>/jupyter/kernels/deno/kernel.json` pointing at `denoPath` (default: the Deno
 * running now) unless an identical one is there. Nothing is written under the user's home:
 * Jupyter finds it through `JUPYTER_PATH` (see `jupyterEnv`). Returns the file's path.
 */
export async function ensureDenoKernelSpec(denoPath = Deno.execPath()): Promise<string> {
  const path = join(jupyterDataDir(), "kernels", KERNEL_NAME, "kernel.json");
  const spec = denoKernelSpec(denoPath, Deno.env.get("DENO_DIR"));
  try {
    if (JSON.stringify(JSON.parse(await Deno.readTextFile(path))) === JSON.stringify(spec)) {
      return path;
    }
  } catch { /* absent or unreadable: rewrite */ }
  await atomicWriteJson(path, spec);
  return path;
}

/** Environment variables that make Jupyter find the project-local kernelspec (and keep its runtime files in the cache). */
export function jupyterEnv(): Record<string, string> {
  const dir = jupyterDataDir();
  const prev = Deno.env.get("JUPYTER_PATH");
  return {
    JUPYTER_PATH: prev ? `${dir}:${prev}` : dir,
    JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
    JUPYTER_CONFIG_DIR: join(dir, "config"),
    JUPYTER_PLATFORM_DIRS: "1",
    IPYTHONDIR: join(dir, "ipython"),
  };
}
