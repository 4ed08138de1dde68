import { basename, join, relative, resolve } from "node:path";
import { inheritedLocksEnv } from "../util/cache_lock.ts";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";
import { jupyterEnv, KERNEL_NAME } from "../setup/kernelspec.ts";
import { DEBIAN_PYTHON } from "../setup/system_packages.ts";
import type { BackendPreference, Profile } from "../config/kit_config.ts";

export interface RunOptions {
  profile: Profile;
  smoke: boolean;
  /** Notebook numbers to run (e.g. ["00", "02"]); all when empty. */
  only: string[];
  dataMirror: string | null;
  backend: BackendPreference;
  /** Folder of `NN_*.ipynb` notebooks (default `notebooks/`). */
  notebooksDir?: string;
  /** Per-cell timeout in seconds. */
  cellTimeout?: number;
  /** Artifact folder override (tests). */
  artifactDir?: string;
  /** Aborting it stops the running notebook: the runner shuts its kernel down (SIGTERM). */
  signal?: AbortSignal;
}

export interface NotebookResult {
  notebook: string;
  seconds: number;
  executedPath: string;
  artifacts: string[];
}

interface CellStatus {
  ok: boolean;
  cells?: number;
  cell?: number;
  code_cell?: number;
  ename?: string;
  evalue?: string;
  /** A KitError's advice lines (URL, sha256, folder, command), from the kernel's traceback. */
  hints?: string[];
  /** The runner was stopped by a signal (or its parent died). */
  interrupted?: boolean;
  source?: string;
}

/** The run was stopped (Ctrl-C, SIGTERM): the kernel is shut down; a rerun resumes. */
export class RunInterrupted extends KitError {
  constructor(readonly notebook: string) {
    super("interrupted; rerun to resume");
  }
}

/** A notebook cell failed: names the notebook, the cell and the error. */
export class NotebookFailure extends KitError {
  constructor(
    readonly notebook: string,
    readonly cell: number,
    readonly codeCell: number,
    readonly error: string,
    readonly executedPath: string,
    errorHints: readonly string[] = [],
  ) {
    super(
      `notebook ${notebook} failed at cell ${cell} (code cell ${codeCell}): ${error}`,
      [
        ...errorHints,
        `the executed notebook with the error output is at ${relative(Deno.cwd(), executedPath)}`,
      ],
    );
  }
}

/** The `NN_*.ipynb` notebooks of a folder, in order, filtered by `only` (numbers). */
export async function listNotebooks(dir: string, only: string[] = []): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /^\d\d_.*\.ipynb$/.test(e.name)) names.push(e.name);
    }
  } catch {
    throw new KitError(`notebook folder ${dir} does not exist`);
  }
  names.sort();
  if (only.length === 0) return names;
  const unknown = only.filter((n) => !names.some((x) => x.startsWith(`${n}_`)));
  if (unknown.length > 0) {
    throw new KitError(`--only ${only.join(",")}: no notebook numbered ${unknown.join(", ")}`, [
      `notebooks: ${names.join(", ") || "(none)"}`,
    ]);
  }
  return names.filter((x) => only.some((n) => x.startsWith(`${n}_`)));
}

async function listFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const st = await Deno.stat(join(dir, e.name));
      out.set(e.name, st.mtime?.getTime() ?? 0);
    }
  } catch { /* not yet there */ }
  return out;
}

/**
 * Runs notebooks headless with the Deno kernel, in order, stopping at the first failing cell
 * (throws `NotebookFailure`). Options reach the notebooks as `KIT_*` environment variables
 * (read by `kitConfig`). Executed copies (with outputs) are saved to `<artifactDir>/notebooks/`.
 */
export async function runNotebooks(
  opts: RunOptions,
  onStart: (name: string, i: number, n: number) => void = () => {},
): Promise<NotebookResult[]> {
  const dir = resolve(opts.notebooksDir ?? join(PROJECT_ROOT, "notebooks"));
  const notebooks = await listNotebooks(dir, opts.only);
  const artifactDir = resolve(
    opts.artifactDir ??
      (opts.smoke
        ? join(PROJECT_ROOT, "figures", "smoke", opts.profile)
        : join(PROJECT_ROOT, "figures", opts.profile)),
  );
  const executedDir = join(artifactDir, "notebooks");
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    ...jupyterEnv(),
    KIT_PROFILE: opts.profile,
    KIT_SMOKE: opts.smoke ? "1" : "0",
    KIT_BACKEND: opts.backend,
    KIT_ARTIFACT_DIR: artifactDir,
    KIT_QUIET: Deno.env.get("KIT_QUIET") ?? "0",
    // the kernels may write the caches this run holds the locks of (they would wait for it)
    ...inheritedLocksEnv(),
  };
  if (opts.dataMirror) env.KIT_DATA_MIRROR = resolve(opts.dataMirror);
  else delete env.KIT_DATA_MIRROR;

  const results: NotebookResult[] = [];
  for (const [i, name] of notebooks.entries()) {
    onStart(name, i, notebooks.length);
    const before = await listFiles(artifactDir);
    const executedPath = join(executedDir, name);
    const t0 = performance.now();
    const child = new Deno.Command(DEBIAN_PYTHON, {
      args: [
        join(PROJECT_ROOT, "tools", "nbrun.py"),
        join(dir, name),
        executedPath,
        KERNEL_NAME,
        String(opts.cellTimeout ?? 3600),
      ],
      env,
      cwd: dir,
      stdout: "piped",
      stderr: "inherit",
      signal: opts.signal,
    });
    let out: Deno.CommandOutput;
    try {
      out = await child.output();
    } catch (err) {
      if (opts.signal?.aborted) throw new RunInterrupted(name);
      throw err;
    }
    const seconds = (performance.now() - t0) / 1000;
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    let status: CellStatus;
    try {
      status = JSON.parse(lines[lines.length - 1] ?? "");
    } catch {
      if (opts.signal?.aborted || out.signal) throw new RunInterrupted(name);
      throw new KitError(
        `notebook ${name}: the runner (tools/nbrun.py) ended without a status (exit ${out.code})`,
        lines.slice(-5),
      );
    }
    if (status.interrupted || opts.signal?.aborted) throw new RunInterrupted(name);
    if (!status.ok) {
      const error = `${status.ename ?? "Error"}: ${status.evalue ?? ""}`.trim();
      throw new NotebookFailure(
        name,
        status.cell ?? 0,
        status.code_cell ?? 0,
        error,
        executedPath,
        status.hints ?? [],
      );
    }
    const after = await listFiles(artifactDir);
    const artifacts = [...after.entries()]
      .filter(([f, m]) => before.get(f) !== m && f !== "plotly.min.js")
      .map(([f]) => f)
      .sort();
    results.push({ notebook: basename(name), seconds, executedPath, artifacts });
  }
  return results;
}
