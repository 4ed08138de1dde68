import { jupyterEnv } from "./kernelspec.ts";
import { DEBIAN_PYTHON } from "./system_packages.ts";

/** A running notebook server, as Jupyter's runtime file describes it. */
export interface RunningNotebookServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** The URL with its token: what to open in a browser. */
  openUrl: string;
  port: number;
  pid: number;
  notebookDir: string;
}

/**
 * The notebook servers `./kit task notebook` started that are still running: Jupyter's own
 * `notebook list` over the project's runtime folder (`.cache/jupyter/runtime`, where
 * `jupyter notebook list` with the user's settings does not look). Stale entries are dropped by
 * Jupyter (it checks each server's process). Empty when Jupyter is not installed.
 */
export async function runningNotebookServers(): Promise<RunningNotebookServer[]> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(DEBIAN_PYTHON, {
      args: ["-m", "notebook", "list", "--jsonlist"],
      env: { ...Deno.env.toObject(), ...jupyterEnv() },
      stdout: "piped",
      stderr: "null",
    }).output();
  } catch {
    return [];
  }
  if (!out.success) return [];
  const text = new TextDecoder().decode(out.stdout).trim();
  const list = JSON.parse(text || "[]") as {
    url: string;
    token?: string;
    port: number;
    pid: number;
    notebook_dir: string;
  }[];
  return list.map((s) => ({
    url: s.url,
    openUrl: s.token ? `${s.url}tree?token=${s.token}` : `${s.url}tree`,
    port: s.port,
    pid: s.pid,
    notebookDir: s.notebook_dir,
  })).sort((a, b) => a.port - b.port);
}
