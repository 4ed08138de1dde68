/**
 * Quiet, relative live output (issue 23): cache hits and fully cached progress bars print nothing
 * unless KIT_VERBOSE=1, and then one stdout line with a project-relative path.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cachedResult } from "../lib/eval_cache/result_cache.ts";
import { ProgressBar } from "../lib/util/progress.ts";
import { PROJECT_ROOT, projectRelative } from "../lib/util/paths.ts";

async function captureConsole<T>(
  f: () => Promise<T> | T,
): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const [log, error, warn] = [console.log, console.error, console.warn];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = console.warn = (...a: unknown[]) => err.push(a.join(" "));
  try {
    await f();
  } finally {
    [console.log, console.error, console.warn] = [log, error, warn];
  }
  return { out, err };
}

async function withEnv<T>(
  name: string,
  value: string | undefined,
  f: () => Promise<T>,
): Promise<T> {
  const prev = Deno.env.get(name);
  if (value === undefined) Deno.env.delete(name);
  else Deno.env.set(name, value);
  try {
    return await f();
  } finally {
    if (prev === undefined) Deno.env.delete(name);
    else Deno.env.set(name, prev);
  }
}

Deno.test("projectRelative() shortens paths inside the project only", () => {
  assert.equal(
    projectRelative(join(PROJECT_ROOT, "figures", "mini", "K-T1.json")),
    "figures/mini/K-T1.json",
  );
  assert.equal(projectRelative(PROJECT_ROOT), ".");
  assert.equal(projectRelative("/elsewhere/x.json"), "/elsewhere/x.json");
  assert.equal(projectRelative("figures/x"), "figures/x");
  assert.equal(
    projectRelative(join(PROJECT_ROOT, "..", "shared", "data")),
    join(PROJECT_ROOT, "..", "shared", "data"),
  );
});

Deno.test("cachedResult(): a hit is silent by default and one relative stdout line with KIT_VERBOSE=1", async () => {
  const dir = join(PROJECT_ROOT, ".cache", `live-output-test-${crypto.randomUUID()}`);
  try {
    const compute = () => Promise.resolve({ x: 1 });
    await cachedResult("demo", { n: 1 }, compute, { dir });
    const quiet = await withEnv(
      "KIT_VERBOSE",
      undefined,
      () => captureConsole(() => cachedResult("demo", { n: 1 }, compute, { dir })),
    );
    assert.deepEqual(quiet, { out: [], err: [] });
    const loud = await withEnv(
      "KIT_VERBOSE",
      "1",
      () => captureConsole(() => cachedResult("demo", { n: 1 }, compute, { dir })),
    );
    assert.equal(loud.err.length, 0);
    assert.equal(loud.out.length, 1);
    assert.match(
      loud.out[0]!,
      /^demo: cached result \.cache\/live-output-test-[^/]+\/demo\/[0-9a-f]{32}\.safetensors$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("ProgressBar: a bar with everything cached prints nothing off a TTY unless KIT_VERBOSE=1", async () => {
  const run = () =>
    captureConsole(() => {
      new ProgressBar("captions", 5, { silent: false, start: 5 }).done();
    });
  assert.deepEqual(await withEnv("KIT_VERBOSE", undefined, run), { out: [], err: [] });
  const loud = await withEnv("KIT_VERBOSE", "1", run);
  assert.match(loud.err.join("\n"), /captions .* 5\/5 \(all done before, cached\)/);
  // Real work still shows its progress.
  const work = await withEnv("KIT_VERBOSE", undefined, () =>
    captureConsole(() => {
      const bar = new ProgressBar("train", 3, { silent: false });
      bar.tick(3);
      bar.done();
    }));
  assert.match(work.err.join("\n"), /train .* 3\/3/);
});
