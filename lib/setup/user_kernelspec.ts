import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { denoKernelSpec, KERNEL_NAME } from "./kernelspec.ts";

/** Marker written into a kernelspec's metadata by {@link installUserKernelSpec}. */
const MARKER = "image_pivot_kit";

/**
 * The user's own Jupyter data folder, where Jupyter and VS Code look for kernels — jupyter_core's
 * rule: `$JUPYTER_DATA_DIR`, else `~/Library/Jupyter` on macOS, else `$XDG_DATA_HOME/jupyter`
 * (default `~/.local/share/jupyter`).
 */
export function userJupyterDataDir(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  os: string = Deno.build.os,
): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = env.HOME;
  if (!home) {
    throw new KitError("cannot find your Jupyter data folder: HOME is not set", [
      "set JUPYTER_DATA_DIR to the folder Jupyter uses (see `jupyter --data-dir`)",
    ]);
  }
  if (os === "darwin") return join(home, "Library", "Jupyter");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "jupyter");
}

/** Options of {@link installUserKernelSpec} and {@link uninstallUserKernelSpec}. */
export interface UserKernelSpecOptions {
  /** Kernel name (folder under `kernels/`; default `deno`, the name the notebooks ask for). */
  name?: string;
  /** The user's Jupyter data folder (default {@link userJupyterDataDir}). */
  dataDir?: string;
  /** Deno executable the kernel runs (default: the Deno running now, the project's). */
  denoPath?: string;
}

function specPath(opts: UserKernelSpecOptions): { dir: string; file: string; name: string } {
  const name = opts.name ?? KERNEL_NAME;
  if (!/^[a-z0-9._-]+$/i.test(name)) {
    throw new KitError(`--name ${name}: expected letters, digits, '.', '_' or '-'`);
  }
  const dir = join(opts.dataDir ?? userJupyterDataDir(), "kernels", name);
  return { dir, file: join(dir, "kernel.json"), name };
}

async function readSpec(file: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    if (err instanceof SyntaxError) return {};
    throw err;
  }
}

function isOurs(spec: Record<string, unknown>): boolean {
  const meta = spec.metadata as Record<string, unknown> | undefined;
  return typeof meta === "object" && meta !== null && MARKER in meta;
}

/**
 * Writes the kit's Deno kernelspec into the user's Jupyter data folder (explicit; the kit never
 * does it by itself), so the user's own Jupyter or VS Code can run the notebooks with the
 * project's Deno and module cache. Refuses to replace a kernelspec of that name that the kit did
 * not write (e.g. one from `deno jupyter --install`). Returns the kernel.json path.
 */
export async function installUserKernelSpec(opts: UserKernelSpecOptions = {}): Promise<string> {
  const { dir, file, name } = specPath(opts);
  const existing = await readSpec(file);
  if (existing && !isOurs(existing)) {
    throw new KitError(`a kernelspec named "${name}" that the kit did not write is in ${dir}`, [
      "it is kept; install the kit's under another name with --name NAME (e.g. deno-kit),",
      'then pick "Deno (image-pivot kit)" as the kernel in Jupyter or VS Code',
    ]);
  }
  const spec = {
    ...denoKernelSpec(
      opts.denoPath ?? Deno.execPath(),
      Deno.env.get("DENO_DIR") ?? join(PROJECT_ROOT, ".cache", "deno-dir"),
    ),
    metadata: { [MARKER]: { project: PROJECT_ROOT } },
  };
  await atomicWriteJson(file, spec);
  return file;
}

/**
 * Removes the kernelspec written by {@link installUserKernelSpec}; leaves any other alone (a
 * KitError says so). Returns the removed folder, or null when there was none.
 */
export async function uninstallUserKernelSpec(
  opts: UserKernelSpecOptions = {},
): Promise<string | null> {
  const { dir, file, name } = specPath(opts);
  const existing = await readSpec(file);
  if (existing === null) return null;
  if (!isOurs(existing)) {
    throw new KitError(`the kernelspec "${name}" in ${dir} was not written by the kit; kept`, [
      "remove it with `jupyter kernelspec remove " + name + "` if you mean to",
    ]);
  }
  await Deno.remove(dir, { recursive: true });
  return dir;
}
