/**
 * `./kit task cache`: a size report of the caches, and `--prune` removing the result entries and
 * model folders the latest complete run did not use (a comment edit that re-keys a kind leaves
 * its old entries behind; they are removed), never what it used, nor translations or datasets.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cachedResult } from "../lib/eval_cache/result_cache.ts";
import { recordCompleteRun } from "../lib/eval_cache/cache_usage.ts";
import { writeModelManifest } from "../lib/model_cache/model_manifest.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

async function cacheTool(cache: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "cache.ts"), ...args],
    env: { KIT_CACHE_DIR: cache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("task cache: reports sizes; --prune removes what the latest complete run did not use", async () => {
  const cache = await Deno.makeTempDir({ prefix: "kit-cache-usage-" });
  try {
    const dir = join(cache, "results");
    const log = () => {};
    const value = { x: new Float64Array(1000).fill(1) };
    // entries of an earlier code version (another `code` in the key), written before the run
    await cachedResult("nli", { code: "old", n: 1 }, () => Promise.resolve(value), { dir, log });
    await cachedResult("nli", { code: "now", n: 1 }, () => Promise.resolve(value), { dir, log });
    const model = (name: string) => join(cache, "models", name);
    for (const m of ["k-eng-only@old", "k-eng-only@new"]) {
      await Deno.mkdir(model(m), { recursive: true });
      await Deno.writeTextFile(join(model(m), "config.json"), "{}");
      await writeModelManifest(model(m));
    }
    await Deno.mkdir(join(cache, "translation"), { recursive: true });
    await Deno.writeTextFile(join(cache, "translation", "x.jsonl"), "{}\n");
    const past = new Date(Date.now() - 3600_000);
    for (const f of await Array.fromAsync(Deno.readDir(join(dir, "nli")))) {
      await Deno.utime(join(dir, "nli", f.name), past, past);
    }
    await Deno.utime(join(model("k-eng-only@old"), "files.sha256.json"), past, past);
    await Deno.utime(join(model("k-eng-only@new"), "files.sha256.json"), past, past);

    // before any complete run: a report, nothing counts as unused
    const first = await cacheTool(cache, []);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /results\/nli\s+\S+ \S+\s+2\s+-/);
    assert.match(first.stdout, /no complete reproduce recorded yet/);

    // a complete run reads the current entry and model, not the old ones
    await recordCompleteRun("mini", Date.now() - 1000, cache);
    const hit = await cachedResult(
      "nli",
      { code: "now", n: 1 },
      () => Promise.reject(new Error("a hit expected")),
      { dir, log },
    );
    assert.deepEqual(hit, value);
    const { verifyModelFolder } = await import("../lib/model_cache/model_manifest.ts");
    await verifyModelFolder(model("k-eng-only@new"));

    const report = await cacheTool(cache, []);
    assert.match(report.stdout, /results\/nli\s+.*\s1 \(\d/);
    assert.match(report.stdout, /models\s+.*\s1 \(\d/);
    const dry = await cacheTool(cache, ["--prune", "--dry-run"]);
    assert.match(dry.stdout, /would remove models\/k-eng-only@old/);
    assert.ok(await exists(model("k-eng-only@old")), "--dry-run removed something");

    const pruned = await cacheTool(cache, ["--prune"]);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /removed /);
    const left = (await Array.fromAsync(Deno.readDir(join(dir, "nli")))).map((e) => e.name);
    assert.equal(left.length, 1, "the current entry only");
    assert.deepEqual(
      await cachedResult("nli", { code: "now", n: 1 }, () => Promise.reject(new Error("miss")), {
        dir,
        log,
      }),
      value,
    );
    assert.equal(await exists(model("k-eng-only@old")), false);
    assert.equal(await exists(model("k-eng-only@new")), true);
    assert.equal(await exists(join(cache, "translation", "x.jsonl")), true);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
