import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const MODULE = join(PROJECT_ROOT, "lib", "util", "cache_lock.ts");

/** A process that takes the `models` lock in `lockDir`, says "held <ms>", then sleeps. */
function holder(lockDir: string, sleepMs: number): Deno.ChildProcess {
  const code = `import { holdCacheLock } from ${JSON.stringify(MODULE)};
await holdCacheLock("models", ${JSON.stringify(lockDir)});
await holdCacheLock("models", ${JSON.stringify(lockDir)}); // already held: no wait, no message
console.log("held " + Date.now());
await new Promise((r) => setTimeout(r, ${sleepMs}));`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text.split("\n")[0]!;
}

/** Waits for the process; returns its stderr. */
async function finish(child: Deno.ChildProcess): Promise<string> {
  const [err] = await Promise.all([new Response(child.stderr).text(), child.stdout.cancel()]);
  await child.status;
  return err;
}

async function withLockDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kit-lock-test-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("holdCacheLock() makes a second run wait, naming the holder, until the first ends", async () => {
  await withLockDir(async (dir) => {
    const a = holder(dir, 1500);
    const aLine = await firstLine(a);
    assert.match(aLine, /^held \d+$/);
    const b = holder(dir, 0);
    const bLine = await firstLine(b);
    await finish(a);
    const bErr = await finish(b);
    assert.match(
      bErr,
      new RegExp(
        `waiting for the models cache \\(lock .*models\\.lock\\): in use by pid ${a.pid} `,
      ),
    );
    assert.equal(bErr.trim().split("\n").length, 1, "one line");
    const waited = Number(bLine.split(" ")[1]) - Number(aLine.split(" ")[1]);
    assert.ok(waited >= 1400, `b got the lock only after a's 1.5 s (waited ${waited} ms)`);
  });
});

Deno.test("holdCacheLock() of a SIGKILLed holder is free at once (no stale lock)", async () => {
  await withLockDir(async (dir) => {
    const a = holder(dir, 60_000);
    await firstLine(a);
    a.kill("SIGKILL");
    await finish(a);
    const b = holder(dir, 0);
    const t0 = Date.now();
    await firstLine(b);
    assert.ok(Date.now() - t0 < 10_000);
    const bErr = await finish(b);
    assert.doesNotMatch(bErr, /waiting/);
  });
});
