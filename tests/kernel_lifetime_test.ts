import assert from "node:assert/strict";
import { join } from "node:path";
import { notebookJson } from "../lib/runner/notebook_json.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { jupyterEnv } from "../lib/setup/kernelspec.ts";

/**
 * A killed `reproduce` must not leave its Deno kernel behind. Each test runs a tiny notebook
 * (its first cell records the kernel's pid, its second sleeps) under `setsid`, so the run has
 * its own process group, kills part of it, and checks by pid and by process group that the
 * kernel is gone and that no connection file is left.
 */

/** Fields of /proc/<pid>/stat: [state, ppid, pgid], or null when the process is gone. */
async function procStat(
  pid: number,
): Promise<{ state: string; ppid: number; pgid: number } | null> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/stat`);
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** True while a (non-zombie) process with this pid exists. */
async function alive(pid: number): Promise<boolean> {
  const s = await procStat(pid);
  return s !== null && s.state !== "Z";
}

/** Pids of live processes in a process group. */
async function groupMembers(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const s = await procStat(Number(e.name));
    if (s && s.pgid === pgid && s.state !== "Z") out.push(Number(e.name));
  }
  return out;
}

async function waitFor(cond: () => Promise<boolean>, seconds: number, what: string): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

async function connectionFiles(): Promise<string[]> {
  const dir = jupyterEnv().JUPYTER_RUNTIME_DIR!;
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.startsWith("kit-kernel-")) out.push(e.name);
  } catch { /* no runtime folder yet */ }
  return out;
}

interface Run {
  child: Deno.ChildProcess;
  /** reproduce's pid = its process group (setsid). */
  pgid: number;
  kernelPid: number;
  runnerPid: number;
  connectionFilesBefore: string[];
  output: () => Promise<{ code: number; stderr: string }>;
  cleanup: () => Promise<void>;
}

/**
 * Starts `reproduce` on a sleeping notebook in a new session; resolves once the kernel runs.
 * `viaKit`: as a user does, through `./kit task reproduce` (the pid is then the kit's).
 */
async function startSleepingRun(viaKit = false): Promise<Run> {
  await Deno.mkdir(join(PROJECT_ROOT, ".cache"), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: join(PROJECT_ROOT, ".cache"),
    prefix: "test-lifetime-",
  });
  const pidFile = join(dir, "kernel.pid");
  await Deno.writeTextFile(
    join(dir, "00_sleep.ipynb"),
    notebookJson([
      { code: `await Deno.writeTextFile(${JSON.stringify(pidFile)}, String(Deno.pid));` },
      { code: "await new Promise((r) => setTimeout(r, 120_000));" },
    ]),
  );
  const connectionFilesBefore = await connectionFiles();
  const reproduceArgs = ["--notebooks", dir, "--smoke", "--no-report"];
  const child = new Deno.Command("setsid", {
    args: viaKit ? [join(PROJECT_ROOT, "kit"), "task", "reproduce", ...reproduceArgs] : [
      Deno.execPath(),
      "run",
      "-A",
      join(PROJECT_ROOT, "tools", "reproduce.ts"),
      ...reproduceArgs,
    ],
    env: { KIT_ARTIFACT_DIR: join(dir, "out"), KIT_DENO: Deno.execPath() },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const cleanup = async () => {
    try {
      const pid = Number(await Deno.readTextFile(pidFile));
      if (await alive(pid)) Deno.kill(pid, "SIGKILL");
    } catch { /* never started */ }
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* group gone */ }
    await Deno.remove(dir, { recursive: true });
  };
  const outputPromise = child.output().then((o) => ({
    code: o.code,
    stderr: new TextDecoder().decode(o.stderr),
  }));
  try {
    await waitFor(
      async () => {
        try {
          return (await Deno.readTextFile(pidFile)).length > 0;
        } catch {
          return false;
        }
      },
      120,
      "the kernel to start",
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
  const kernelPid = Number(await Deno.readTextFile(pidFile));
  const runnerPid = (await procStat(kernelPid))!.ppid;
  return {
    child,
    pgid: child.pid,
    kernelPid,
    runnerPid,
    connectionFilesBefore,
    output: () => outputPromise,
    cleanup,
  };
}

async function assertKernelGone(run: Run): Promise<void> {
  await waitFor(
    async () => !(await alive(run.kernelPid)),
    15,
    `kernel pid ${run.kernelPid} to exit`,
  );
  await waitFor(
    async () => (await groupMembers(run.pgid)).length === 0,
    15,
    `process group ${run.pgid} to be empty`,
  );
  const left = (await connectionFiles()).filter((f) => !run.connectionFilesBefore.includes(f));
  assert.deepEqual(left, [], "no kernel connection file left behind");
}

Deno.test("the kernel runs in the run's process group, as a child of tools/nbrun.py", async () => {
  const run = await startSleepingRun();
  try {
    assert.equal((await procStat(run.kernelPid))!.pgid, run.pgid);
    const runnerCmd = await Deno.readTextFile(`/proc/${run.runnerPid}/cmdline`);
    assert.match(runnerCmd, /nbrun\.py/);
    // the connection file is deleted as soon as the client is connected
    const left = (await connectionFiles()).filter((f) => !run.connectionFilesBefore.includes(f));
    assert.deepEqual(left, []);
  } finally {
    await run.cleanup();
  }
});

Deno.test("SIGKILL of the run's process group leaves no kernel process", async () => {
  const run = await startSleepingRun();
  try {
    Deno.kill(-run.pgid, "SIGKILL");
    await assertKernelGone(run);
  } finally {
    await run.cleanup();
  }
});

Deno.test("SIGKILL of reproduce alone ends the runner and its kernel", async () => {
  const run = await startSleepingRun();
  try {
    Deno.kill(run.pgid, "SIGKILL"); // the Deno process of tools/reproduce.ts only
    await assertKernelGone(run);
    assert.equal(await alive(run.runnerPid), false);
  } finally {
    await run.cleanup();
  }
});

Deno.test("SIGKILL of the notebook runner (nbrun.py) alone ends its kernel", async () => {
  const run = await startSleepingRun();
  try {
    Deno.kill(run.runnerPid, "SIGKILL");
    await waitFor(async () => !(await alive(run.kernelPid)), 15, "the kernel to exit");
    const r = await run.output();
    assert.notEqual(r.code, 0);
    await assertKernelGone(run);
  } finally {
    await run.cleanup();
  }
});

Deno.test("Ctrl-C (SIGINT to the group) prints one line, no traceback, and ends the kernel", async () => {
  const run = await startSleepingRun();
  try {
    Deno.kill(-run.pgid, "SIGINT");
    const r = await run.output();
    assert.equal(r.code, 130);
    assert.match(r.stderr, /^interrupted; rerun to resume$/m);
    assert.doesNotMatch(r.stderr, /Traceback|KeyboardInterrupt|error:/);
    await assertKernelGone(run);
  } finally {
    await run.cleanup();
  }
});

Deno.test("SIGTERM of reproduce alone shuts the kernel down", async () => {
  const run = await startSleepingRun();
  try {
    Deno.kill(run.pgid, "SIGTERM");
    const r = await run.output();
    assert.equal(r.code, 130);
    assert.match(r.stderr, /interrupted; rerun to resume/);
    await assertKernelGone(run);
  } finally {
    await run.cleanup();
  }
});

Deno.test("SIGKILL of the ./kit pid (`./kit task reproduce`) leaves no reproduce, runner or kernel", async () => {
  const run = await startSleepingRun(true);
  try {
    // the kit's pid is the run's: tools/reproduce.ts is the runner's parent, no `deno task` between
    const reproducePid = (await procStat(run.runnerPid))!.ppid;
    const reproduceCmd = await Deno.readTextFile(`/proc/${reproducePid}/cmdline`);
    assert.match(reproduceCmd, /tools\/reproduce\.ts/);
    Deno.kill(run.pgid, "SIGKILL"); // the pid `./kit` was started as, alone
    await assertKernelGone(run);
    assert.equal(await alive(reproducePid), false, "reproduce outlived ./kit");
    assert.equal(await alive(run.runnerPid), false, "nbrun.py outlived ./kit");
  } finally {
    await run.cleanup();
  }
});
