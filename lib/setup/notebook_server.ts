import { join, relative, resolve } from "node:path";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";
import { ensureDenoKernelSpec, jupyterDataDir, jupyterEnv, KERNEL_NAME } from "./kernelspec.ts";
import { ensureStopOnErrorJs } from "./stop_on_error_js.ts";
import { DEBIAN_PYTHON, installAdvice } from "./system_packages.ts";
import type { BackendPreference, Profile } from "../config/kit_config.ts";

/** Debian's classic Jupyter Notebook server (6.x), used by `./kit task notebook`. */
export const NOTEBOOK_SERVER_PACKAGES = ["jupyter-notebook"];

/** The address the server listens on: this machine only. */
export const NOTEBOOK_HOST = "127.0.0.1";

/** Ports tried, in order, when none is asked for. */
export const DEFAULT_NOTEBOOK_PORTS = { first: 8888, count: 100 } as const;

/**
 * The classic notebook page always asks for the ipywidgets front end
 * (`nbextensions/widgets/notebook/js/extension.js`, a hard-coded fallback in its main.js) and logs
 * a 404 and a refused script when it is absent, as on Debian without ipywidgets. The Deno kernel
 * has no widgets, so the kit serves this module, which loads nothing and says so.
 */
export const WIDGETS_FALLBACK_JS =
  `// Served by the image-pivot kit: the Deno kernel uses no ipywidgets.
define([], function () {
  return {
    load_ipython_extension: function () {
      console.info("ipywidgets: not installed (the kit's Deno kernel does not use widgets)");
    },
  };
});
`;

/** Writes {@link WIDGETS_FALLBACK_JS} under `<cache>/jupyter/nbextensions/` unless it is there. */
async function ensureWidgetsFallback(): Promise<void> {
  const path = join(jupyterDataDir(), "nbextensions", "widgets", "notebook", "js", "extension.js");
  try {
    if ((await Deno.readTextFile(path)) === WIDGETS_FALLBACK_JS) return;
  } catch { /* absent: write it */ }
  await atomicWriteFile(path, WIDGETS_FALLBACK_JS);
}

/** True when Debian's Python can import the classic notebook server. */
export function notebookServerAvailable(): boolean {
  try {
    return new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", "import notebook.notebookapp"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Checks a user-chosen token: at least 16 characters of `A–Z a–z 0–9 _ -` (it travels in URLs
 * and guards a kernel that may run any code). Throws a KitError saying what is expected.
 */
export function checkNotebookToken(token: string): void {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(token)) {
    throw new KitError(
      `--token: ${
        token === "" ? "empty" : `"${token}"`
      } is not a usable token: expected at least 16 characters from A-Z a-z 0-9 _ -`,
      [
        "leave --token out to get a random one (printed with the URL)",
        "the token is what keeps other users of this machine out of a kernel that can run any code",
      ],
    );
  }
}

/** A random URL-safe token (32 hex characters). */
export function randomNotebookToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Ports that browsers and Deno's `fetch` refuse to connect to (the Fetch standard's "bad ports"):
 * a server there could never be opened, so they are rejected before it starts.
 */
export const BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1,
  7,
  9,
  11,
  13,
  15,
  17,
  19,
  20,
  21,
  22,
  23,
  25,
  37,
  42,
  43,
  53,
  69,
  77,
  79,
  87,
  95,
  101,
  102,
  103,
  104,
  109,
  110,
  111,
  113,
  115,
  117,
  119,
  123,
  135,
  137,
  139,
  143,
  161,
  179,
  389,
  427,
  465,
  512,
  513,
  514,
  515,
  526,
  530,
  531,
  532,
  540,
  548,
  554,
  556,
  563,
  587,
  601,
  636,
  989,
  990,
  993,
  995,
  1719,
  1720,
  1723,
  2049,
  3659,
  4045,
  4190,
  5060,
  5061,
  6000,
  6566,
  6665,
  6666,
  6667,
  6668,
  6669,
  6679,
  6697,
  10080,
]);

/** The tools/serve_notebooks.py wrapper that starts the Jupyter server. */
const SERVE_NOTEBOOKS = join(PROJECT_ROOT, "tools", "serve_notebooks.py");

/** The server start was interrupted (Ctrl-C, SIGTERM, SIGHUP): nothing is left running. */
export class NotebookServerInterrupted extends KitError {
  constructor() {
    super("interrupted before the notebook server was ready; it is stopped");
  }
}

/** True when nothing listens on `host:port` (we could bind it). */
export function portIsFree(port: number, host = NOTEBOOK_HOST): boolean {
  try {
    const l = Deno.listen({ hostname: host, port });
    l.close();
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return false;
    throw err;
  }
}

/**
 * The port to use: `requested` when it is free (a KitError naming it when not), else the first
 * free one of 8888…8987.
 */
export function choosePort(requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > 65535) {
      throw new KitError(`--port ${requested}: expected a port number from 1 to 65535`);
    }
    if (BLOCKED_PORTS.has(requested)) {
      throw new KitError(
        `--port ${requested}: browsers and Deno's fetch refuse to connect to port ${requested}`,
        ["it is on the Fetch standard's list of blocked ports; choose another, e.g. --port 8888"],
      );
    }
    if (!portIsFree(requested)) {
      throw new KitError(`--port ${requested}: port ${requested} on ${NOTEBOOK_HOST} is in use`, [
        "another Jupyter (or another program) listens there; stop it, or choose another port",
        "with --port N, or leave --port out to take the first free port from 8888",
      ]);
    }
    return requested;
  }
  return firstFreePort(DEFAULT_NOTEBOOK_PORTS.first);
}

/** The first free port of the default range from `from` on (a KitError when there is none). */
function firstFreePort(from: number): number {
  const { first, count } = DEFAULT_NOTEBOOK_PORTS;
  for (let p = Math.max(from, first); p < first + count; p++) if (portIsFree(p)) return p;
  throw new KitError(
    `no free port from ${Math.max(from, first)} to ${first + count - 1} on ${NOTEBOOK_HOST}`,
    ["choose one with --port N"],
  );
}

/**
 * Servers started at most per {@link startNotebookServer} call when the chosen port is taken
 * between the check and the server binding it (two servers or test suites starting at once).
 */
export const NOTEBOOK_PORT_ATTEMPTS = 5;

/** Jupyter's log lines when it cannot bind its port (`--port-retries=0`). */
export function lostPortRace(log: readonly string[], port: number): boolean {
  return log.some((l) =>
    l.includes(`The port ${port} is already in use`) || l.includes(`port ${port} is not available`)
  );
}

/**
 * Where notebooks run from `./kit task notebook` write their artifacts by default:
 * `figures/<profile>-live/` (`figures/smoke/<profile>-live/` with --smoke), ignored by git, so
 * that running cells in a browser never rewrites the committed `figures/<profile>/`.
 */
export function liveArtifactDir(profile: Profile, smoke: boolean): string {
  return join(PROJECT_ROOT, "figures", ...(smoke ? ["smoke"] : []), `${profile}-live`);
}

/** Options of {@link startNotebookServer}. */
export interface NotebookServerOptions {
  profile?: Profile;
  smoke?: boolean;
  /** Read-only data mirror (resolved to an absolute path for the kernels); null = none. */
  dataMirror?: string | null;
  backend?: BackendPreference;
  /** Artifact folder (default: `KIT_ARTIFACT_DIR`, else {@link liveArtifactDir}). */
  artifactDir?: string;
  /** A fixed port (must be free); default: the first free one from 8888. */
  port?: number;
  /** A fixed token (checked by {@link checkNotebookToken}); default: random. */
  token?: string;
  /** Folder of the notebooks (the server's root; default `notebooks/`). */
  notebooksDir?: string;
  /** Called with each line the server logs (stderr). */
  onLog?: (line: string) => void;
  /** Seconds to wait for the server to answer (default 60). */
  startTimeoutS?: number;
  /** Extra environment for the server and its kernels (tests). */
  env?: Record<string, string>;
  /**
   * Aborting it while the server starts stops the server and rejects with
   * {@link NotebookServerInterrupted} (a Ctrl-C before the URL appears leaves nothing behind).
   */
  signal?: AbortSignal;
}

/** A running notebook server. */
export interface NotebookServer {
  port: number;
  token: string;
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  /** The URL to open: the notebook list, or `notebook` when given, with the token. */
  url(notebook?: string): string;
  /** The server's last log lines (for error messages). */
  logTail(): string[];
  /** Resolves with the exit code when the server process ends. */
  exited: Promise<number>;
  /** Stops the server (SIGTERM, then SIGKILL after `graceS` seconds) and its kernels. */
  stop(graceS?: number): Promise<number>;
}

/** `PYTHONPATH` with the project's `tools/` first (for tools/notebook_save_hook.py). */
function pythonPathWithTools(prev: string | undefined): string {
  const tools = join(PROJECT_ROOT, "tools");
  return prev ? `${tools}:${prev}` : tools;
}

function isRoot(): boolean {
  return typeof Deno.uid === "function" && Deno.uid() === 0;
}

/**
 * The environment the server (and so every kernel it starts) gets: the project's kernelspec on
 * `JUPYTER_PATH`, every Jupyter/IPython folder inside `.cache/jupyter` (nothing under `$HOME`),
 * and the run's options as `KIT_*` variables, as `reproduce` passes them.
 */
export function notebookServerEnv(opts: NotebookServerOptions = {}): Record<string, string> {
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    ...jupyterEnv(),
    JUPYTER_DATA_DIR: join(jupyterDataDir(), "data"),
    KIT_PROFILE: opts.profile ?? Deno.env.get("KIT_PROFILE") ?? "mini",
    KIT_SMOKE: opts.smoke ? "1" : (Deno.env.get("KIT_SMOKE") ?? "0"),
    KIT_BACKEND: opts.backend ?? Deno.env.get("KIT_BACKEND") ?? "auto",
    ...(opts.env ?? {}),
  };
  if (opts.artifactDir) env.KIT_ARTIFACT_DIR = resolve(opts.artifactDir);
  else if (!env.KIT_ARTIFACT_DIR) {
    env.KIT_ARTIFACT_DIR = liveArtifactDir(env.KIT_PROFILE as Profile, env.KIT_SMOKE === "1");
  }
  if (opts.dataMirror !== undefined) {
    if (opts.dataMirror) env.KIT_DATA_MIRROR = resolve(opts.dataMirror);
    else env.KIT_DATA_MIRROR = "";
  }
  return env;
}

async function waitReady(
  baseUrl: string,
  token: string,
  exited: () => number | null,
  timeoutS: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + timeoutS * 1000;
  while (performance.now() < deadline) {
    if (exited() !== null) return;
    if (signal?.aborted) throw new NotebookServerInterrupted();
    try {
      const r = await fetch(`${baseUrl}/api/status`, {
        headers: { Authorization: `token ${token}` },
      });
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new KitError(`the notebook server did not answer at ${baseUrl} within ${timeoutS} s`);
}

/**
 * Starts Debian's classic Jupyter Notebook server on 127.0.0.1 with a token, serving
 * `notebooks/` (so cells' `../lib/...` imports resolve), with the project's Deno kernelspec and
 * the `KIT_*` options of {@link notebookServerEnv}; `--allow-root` only when running as root.
 * Resolves once the server answers `/api/status`. The server runs in its own session, so a
 * Ctrl-C reaches the caller, which stops it with {@link NotebookServer.stop}; it gets SIGTERM when
 * the caller dies (tools/serve_notebooks.py), and its runtime folder (with the token) is 0700.
 */
export async function startNotebookServer(
  opts: NotebookServerOptions = {},
): Promise<NotebookServer> {
  if (!notebookServerAvailable()) {
    throw new KitError(
      "the Jupyter Notebook server is not installed for /usr/bin/python3",
      installAdvice(NOTEBOOK_SERVER_PACKAGES, "`./kit task notebook`"),
    );
  }
  if (opts.signal?.aborted) throw new NotebookServerInterrupted();
  const token = opts.token ?? randomNotebookToken();
  checkNotebookToken(token);
  let port = choosePort(opts.port);
  const root = resolve(opts.notebooksDir ?? join(PROJECT_ROOT, "notebooks"));
  await ensureDenoKernelSpec();
  await ensureWidgetsFallback();
  await ensureStopOnErrorJs();
  const env = notebookServerEnv(opts);
  for (const k of ["JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"]) {
    await Deno.mkdir(env[k]!, { recursive: true });
  }
  // The server folder holds the token (nbserver-*.json, *-open.html): this user only.
  try {
    await Deno.chmod(env.JUPYTER_RUNTIME_DIR!, 0o700);
  } catch (err) {
    throw new KitError(
      `cannot make the Jupyter runtime folder ${env.JUPYTER_RUNTIME_DIR} private (mode 0700): ${
        err instanceof Error ? err.message : err
      }`,
      ["it holds the server's token; it must belong to the user who starts the server"],
    );
  }
  const args = (port: number) => [
    "--no-browser",
    `--ip=${NOTEBOOK_HOST}`,
    `--port=${port}`,
    "--port-retries=0",
    `--notebook-dir=${root}`,
    "--NotebookApp.password=",
    `--MultiKernelManager.default_kernel_name=${KERNEL_NAME}`,
    // Saving a notebook whose cells are unchanged keeps the committed file as it is (no outputs).
    "--FileContentsManager.pre_save_hook=notebook_save_hook.pre_save",
    ...(isRoot() ? ["--allow-root"] : []),
  ];
  const launch = (port: number) => launchNotebookServer(port, token, root, env, args(port), opts);
  // Another server (or program) may take the port between choosePort's check and the server's
  // bind: the loser exits with Jupyter's port-in-use message and is started again on the next
  // free port (a fixed --port is not moved: that is an error naming it).
  for (let attempt = 1;; attempt++) {
    const r = await launch(port);
    if ("baseUrl" in r) return r;
    if (lostPortRace(r.tail, port)) {
      if (opts.port !== undefined) {
        throw new KitError(`--port ${port}: port ${port} on ${NOTEBOOK_HOST} is in use`, [
          "another program took it as the server started; choose another port with --port N,",
          "or leave --port out to take the first free port from 8888",
        ]);
      }
      if (attempt < NOTEBOOK_PORT_ATTEMPTS) {
        opts.onLog?.(
          `[W kit] port ${port} was taken as the server started; trying the next free port`,
        );
        port = firstFreePort(port + 1);
        continue;
      }
    }
    throw new KitError(`the notebook server exited at start (exit ${r.code})`, r.tail.slice(-8));
  }
}

/**
 * Starts the server process on `port` and waits until it answers: the running server, or its
 * exit code and last log lines when it exited at start.
 */
async function launchNotebookServer(
  port: number,
  token: string,
  root: string,
  env: Record<string, string>,
  args: string[],
  opts: NotebookServerOptions,
): Promise<NotebookServer | { code: number; tail: string[] }> {
  // tools/serve_notebooks.py: own session, dies with this process (parent-death signal), umask
  // 077, and the token taken out of the environment the kernels inherit.
  const child = new Deno.Command(DEBIAN_PYTHON, {
    args: [SERVE_NOTEBOOKS, String(Deno.pid), ...args],
    // The token goes in the environment (readable by this user only), not on the command line.
    env: { ...env, JUPYTER_TOKEN: token, PYTHONPATH: pythonPathWithTools(env.PYTHONPATH) },
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).replaceAll(token, "…");
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > 60) tail.shift();
        opts.onLog?.(line);
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(() => {});
  let code: number | null = null;
  const exited = child.status.then(async (s) => {
    code = s.code;
    await pumps;
    return s.code;
  });
  const baseUrl = `http://${NOTEBOOK_HOST}:${port}`;
  const stop = async (graceS = 15): Promise<number> => {
    if (code === null) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, graceS * 1000);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return await exited;
  };
  try {
    await waitReady(baseUrl, token, () => code, opts.startTimeoutS ?? 60, opts.signal);
    if (opts.signal?.aborted) throw new NotebookServerInterrupted();
  } catch (err) {
    await stop(2);
    throw err;
  }
  if (code !== null) return { code: await exited, tail };
  return {
    port,
    token,
    baseUrl,
    url: (notebook?: string) =>
      `${baseUrl}/${notebook ? `notebooks/${encodeURI(notebook)}` : "tree"}?token=${token}`,
    logTail: () => [...tail],
    exited,
    stop,
  };
}

/** `notebooks/NN_*.ipynb` for `NN` (a KitError listing the notebooks when there is none). */
export async function notebookByNumber(
  nn: string,
  dir = join(PROJECT_ROOT, "notebooks"),
): Promise<string> {
  if (!/^\d\d$/.test(nn)) throw new KitError(`notebook ${nn}: expected a two-digit number like 03`);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /^\d\d_.*\.ipynb$/.test(e.name)) names.push(e.name);
  }
  names.sort();
  const hit = names.find((n) => n.startsWith(`${nn}_`));
  if (!hit) {
    throw new KitError(`no notebook numbered ${nn} in ${relative(PROJECT_ROOT, dir) || "."}/`, [
      `notebooks: ${names.join(", ") || "(none)"}`,
    ]);
  }
  return hit;
}
