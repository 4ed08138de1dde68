/**
 * `./kit task notebook`: the token stays private (runtime folder 0700, files not readable by
 * others, not in the kernels' environment) and the Jupyter server never outlives the kit — on
 * SIGKILL of the task's process group, on SIGHUP (terminal closed), on a Ctrl-C before the URL
 * appears — and a port `fetch` refuses is rejected before anything starts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BLOCKED_PORTS,
  notebookServerAvailable,
  startNotebookServer,
} from "../lib/setup/notebook_server.ts";
import { jupyterEnv } from "../lib/setup/kernelspec.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** [state, ppid] from /proc/<pid>/stat, or null when the process is gone. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== "Z";
}

/** Live processes whose parent is `ppid` and whose command line matches `re`. */
function childrenMatching(ppid: number, re: RegExp): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    const s = procStat(pid);
    if (!s || s.ppid !== ppid || s.state === "Z") continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
      if (re.test(cmd)) out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}

async function waitFor(cond: () => boolean, seconds: number, what: string): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** The `Umask:` of a process (from /proc/<pid>/status). */
function umaskOf(pid: number | "self"): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^Umask:\s+([0-7]+)$/m);
  assert.ok(m, `no Umask line for ${pid}`);
  return parseInt(m[1]!, 8);
}

/** `tools/notebook.ts` in its own session (process group = its pid), as `./kit task notebook`. */
function spawnNotebookTask(args: string[] = []): {
  child: Deno.ChildProcess;
  stderr: Promise<string>;
  firstLine: () => Promise<string>;
} {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", join(PROJECT_ROOT, "tools", "notebook.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const firstLine = async () => {
    const reader = child.stdout.getReader();
    let out = "";
    try {
      while (!out.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += decode(value);
      }
    } finally {
      reader.releaseLock();
      child.stdout.cancel().catch(() => {});
    }
    return out.trim();
  };
  return { child, stderr, firstLine };
}

/** The server process started by the notebook task `pid` (tools/serve_notebooks.py). */
function serverOf(pid: number): number | undefined {
  return childrenMatching(pid, /serve_notebooks\.py|-m notebook /)[0];
}

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

Deno.test("notebook task: a port fetch refuses (6000) is rejected at once, naming it", async () => {
  assert.ok(BLOCKED_PORTS.has(6000));
  const t0 = Date.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "notebook.ts"), "--port", "6000"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = decode(out.stderr);
  assert.equal(out.code, 1, err);
  assert.match(err, /error: --port 6000: browsers and Deno's fetch refuse to connect to port 6000/);
  assert.ok(Date.now() - t0 < 30_000, "rejected before a server start");
});

Deno.test({
  name:
    "notebook server: runtime folder 0700, token files private, no token in a kernel's environment, kernels keep the caller's umask",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const runtime = jupyterEnv().JUPYTER_RUNTIME_DIR!;
    // as an older run left it: a world-readable folder
    await Deno.mkdir(runtime, { recursive: true });
    await Deno.chmod(runtime, 0o755);
    const server = await startNotebookServer({ smoke: true, env: { KIT_QUIET: "1" } });
    let kernelId: string | undefined;
    try {
      assert.equal(Deno.statSync(runtime).mode! & 0o777, 0o700, "runtime folder mode");
      const info = [...Deno.readDirSync(runtime)]
        .map((e) => e.name)
        .filter((n) => /^nbserver-\d+(\.json|-open\.html)$/.test(n))
        .map((n) => join(runtime, n))
        .filter((p) => Deno.readTextFileSync(p).includes(server.token));
      assert.ok(info.length >= 1, "the server's runtime files");
      for (const p of info) {
        assert.equal(Deno.statSync(p).mode! & 0o077, 0, `${p} readable by others`);
      }
      const serverPid = Number(
        JSON.parse(Deno.readTextFileSync(info.find((p) => p.endsWith(".json"))!)).pid,
      );
      assert.equal(umaskOf(serverPid), 0o077, "the server's umask");
      const r = await fetch(`${server.baseUrl}/api/kernels`, {
        method: "POST",
        headers: { Authorization: `token ${server.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "deno" }),
      });
      assert.equal(r.status, 201, await r.clone().text());
      kernelId = (await r.json()).id;
      let kernel: number | undefined;
      await waitFor(
        () => {
          kernel = childrenMatching(serverPid, /jupyter --kernel/)[0];
          return kernel !== undefined;
        },
        60,
        "the kernel process",
      );
      const environ = Deno.readTextFileSync(`/proc/${kernel}/environ`).split("\0");
      assert.deepEqual(environ.filter((v) => v.startsWith("JUPYTER_TOKEN")), []);
      assert.ok(!environ.some((v) => v.includes(server.token)), "the token is in the kernel env");
      assert.equal(umaskOf(kernel!), umaskOf("self"), "the kernel's umask");
    } finally {
      if (kernelId) {
        await fetch(`${server.baseUrl}/api/kernels/${kernelId}`, {
          method: "DELETE",
          headers: { Authorization: `token ${server.token}` },
        }).then((r) => r.body?.cancel()).catch(() => {});
      }
      assert.equal(await server.stop(), 0);
    }
  },
});

Deno.test({
  name:
    "notebook task: SIGKILL of its process group stops the Jupyter server (none left listening)",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const task = spawnNotebookTask(["--smoke"]);
    let server: number | undefined;
    try {
      const url = new URL(await task.firstLine());
      server = serverOf(task.child.pid);
      assert.ok(server, "the server is a child of the task");
      Deno.kill(-task.child.pid, "SIGKILL");
      await task.child.status;
      await waitFor(() => !alive(server!), 20, `the server (pid ${server}) to exit`);
      await assert.rejects(fetch(`${url.origin}/api/status`));
    } finally {
      killQuietly(server);
      killQuietly(task.child.pid);
      await task.stderr;
    }
  },
});

Deno.test({
  name: "notebook task: SIGHUP (terminal closed) stops the server and its kernels like Ctrl-C",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const task = spawnNotebookTask(["--smoke"]);
    let server: number | undefined;
    try {
      const url = new URL(await task.firstLine());
      server = serverOf(task.child.pid);
      assert.ok(server);
      Deno.kill(task.child.pid, "SIGHUP");
      const status = await task.child.status;
      const err = await task.stderr;
      assert.equal(status.code, 0, err);
      assert.match(err, /notebook: stopped \(server exit 0\)/);
      await waitFor(() => !alive(server!), 20, "the server to exit");
      await assert.rejects(fetch(`${url.origin}/api/status`));
    } finally {
      killQuietly(server);
      killQuietly(task.child.pid);
    }
  },
});

Deno.test({
  name: "notebook task: a Ctrl-C before the URL appears stops the starting server",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const task = spawnNotebookTask(["--smoke"]);
    let server: number | undefined;
    try {
      await waitFor(() => (server = serverOf(task.child.pid)) !== undefined, 60, "the server");
      Deno.kill(task.child.pid, "SIGINT");
      const status = await task.child.status;
      const err = await task.stderr;
      // 130 when stopped while starting; 0 when the server became ready just before the signal
      assert.ok([0, 130].includes(status.code), `exit ${status.code}: ${err}`);
      assert.doesNotMatch(err, /internal error|Traceback/);
      await waitFor(() => !alive(server!), 20, `the server (pid ${server}) to exit`);
    } finally {
      killQuietly(server);
      killQuietly(task.child.pid);
    }
  },
});
