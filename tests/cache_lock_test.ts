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

/**
 * A trainer as library code runs it (`withCacheLock` around "is the model folder done? else
 * train it"): prints `trained <pid>` or `loaded <pid>`; training takes 1 s.
 */
function trainerCode(lockDir: string, modelDir: string): string {
  return `import { withCacheLock } from ${JSON.stringify(MODULE)};
const done = ${JSON.stringify(join(modelDir, "training.json"))};
const what = await withCacheLock("models", async () => {
  try {
    await Deno.stat(done);
    return "loaded";
  } catch {
    await Deno.mkdir(${JSON.stringify(modelDir)}, { recursive: true });
    await new Promise((r) => setTimeout(r, 1000));
    await Deno.writeTextFile(done, String(Deno.pid));
    return "trained";
  }
}, ${JSON.stringify(lockDir)});
console.log(what + " " + Deno.pid);`;
}

function evalProcess(code: string, env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function outputOf(child: Deno.ChildProcess): Promise<string> {
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("withCacheLock(): a notebook kernel and a reproduce (with its own kernel) train one model once", async () => {
  await withLockDir(async (dir) => {
    const modelDir = join(dir, "models", "k-eng-only@abc");
    // reproduce-like: holds the models lock for its lifetime and runs its kernel, which inherits
    // the lock (it must not wait for its own parent)
    const reproduce = evalProcess(
      `import { holdCacheLock, inheritedLocksEnv } from ${JSON.stringify(MODULE)};
await holdCacheLock("models", ${JSON.stringify(dir)});
const kernel = await new Deno.Command(Deno.execPath(), {
  args: ["eval", ${JSON.stringify(trainerCode(dir, modelDir))}],
  env: inheritedLocksEnv(),
  stderr: "inherit",
}).output();
console.log(new TextDecoder().decode(kernel.stdout).trim());`,
    );
    // a notebook-server kernel on the same model at the same time (not reproduce's descendant;
    // the inherited-lock variable forged: it must not count)
    await new Promise((r) => setTimeout(r, 300));
    const forged = `${reproduce.pid}:${join(dir, "models.lock")}`;
    const kernel = evalProcess(trainerCode(dir, modelDir), { KIT_CACHE_LOCKS_HELD: forged });
    const [a, b] = await Promise.all([outputOf(reproduce), outputOf(kernel)]);
    const lines = [a, b].sort();
    assert.equal(lines.filter((l) => l.startsWith("trained")).length, 1, lines.join("\n"));
    assert.equal(lines.filter((l) => l.startsWith("loaded")).length, 1, lines.join("\n"));
  });
});

Deno.test("withCacheLock() is re-entrant in a process and releases the lock after the outermost call", async () => {
  await withLockDir(async (dir) => {
    const code = `import { withCacheLock } from ${JSON.stringify(MODULE)};
await withCacheLock("models", () => withCacheLock("models", () => Promise.resolve(1), ${
      JSON.stringify(dir)
    }), ${JSON.stringify(dir)});
console.log("released " + Date.now());
await new Promise((r) => setTimeout(r, 5000));`;
    const a = evalProcess(code);
    assert.match(await firstLine(a), /^released/);
    // a's lock is free while a still runs: another process takes it at once
    const b = holder(dir, 0);
    const t0 = Date.now();
    await firstLine(b);
    assert.ok(Date.now() - t0 < 3000, "the lock was released after the outermost call");
    assert.doesNotMatch(await finish(b), /waiting/);
    a.kill("SIGKILL");
    await finish(a);
  });
});

Deno.test("two kernels pretraining one mini model at once: trained once, the other loads it (same record)", async () => {
  await withLockDir(async (cache) => {
    const code = `import { pretrainMaskedLm } from ${
      JSON.stringify(join(PROJECT_ROOT, "lib", "mini_pretraining", "masked_lm_pretraining.ts"))
    };
const sentences = ["A red car.", "Un coche rojo.", "赤い車", "लाल कार", "Puka awto.", "A small dog.",
  "Un perro pequeño.", "小さい犬"].map((text, i) => ({ text, lang: ["en", "es", "ja", "hi", "quy"][i % 5], source: "t" }));
const corpus = { sentences, stampKeys: [], emojiConcepts: [], counts: {}, fingerprint: "lock-test" };
const schedule = { steps: 4, lr: 3e-3, warmupSteps: 1, finalLrFraction: 0.1, maxGradNorm: 1,
  weightDecay: 0.01, seed: 3, evalEvery: 0, checkpointEvery: 2 };
const m = await pretrainMaskedLm(corpus, { config: "tiny-xlmr", vocabSize: 50, maxLength: 10,
  batchSize: 4, maskRate: 0.3, schedule }, { quiet: true });
console.log(JSON.stringify(m.training));
m.model.dispose();`;
    const env = { KIT_CACHE_DIR: cache };
    const [a, b] = await Promise.all([
      outputOf(evalProcess(code, env)),
      outputOf(evalProcess(code, env)),
    ]);
    assert.ok(a.startsWith("{") && b.startsWith("{"), `${a}\n${b}`);
    // trained twice at once, the records would differ (their seconds at least)
    assert.equal(a, b, "both processes trained the model");
  });
});
