/**
 * `./kit task test`: the whole test suite — unit tests under tests/ (including the execution of
 * every notebook in smoke mode, tests/notebooks_smoke_test.ts) — run by `deno test`, ending with
 * the line `N passed, N failed`. Extra arguments go to `deno test` (e.g. a file to run alone).
 */
import { resolve } from "node:path";
import { jupyterEnv } from "../lib/setup/kernelspec.ts";
import { cacheDir, PROJECT_ROOT } from "../lib/util/paths.ts";
import { defaultDataMirror } from "../lib/config/kit_config.ts";
import { preflightMiniData } from "../lib/data/preflight.ts";

const env: Record<string, string> = { ...Deno.env.toObject(), ...jupyterEnv(), KIT_QUIET: "1" };
if (env.KIT_DATA_MIRROR === undefined) {
  const mirror = defaultDataMirror();
  if (mirror) env.KIT_DATA_MIRROR = resolve(mirror);
}
await preflightMiniData({ mirror: env.KIT_DATA_MIRROR || null }); // fetches missing mini data
// The test task installed the Vulkan CPU driver when it could: then WebGPU must work.
try {
  Deno.statSync("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json");
  env.KIT_REQUIRE_WEBGPU ??= "1";
} catch { /* no driver: the WebGPU test is skipped and says so */ }
env.XDG_RUNTIME_DIR ??= `${cacheDir()}/xdg-runtime`;
await Deno.mkdir(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });

// Every temp folder the tests (and the programs they start: Chromium, Python, Jupyter) make goes
// into one folder under .cache/, removed at the end: nothing is left in /tmp or the home folder.
const tmp = `${cacheDir()}/test-tmp/${Deno.pid}`;
await Deno.mkdir(tmp, { recursive: true });
env.TMPDIR = tmp;

const args = Deno.args.length > 0 ? Deno.args : ["tests/"];
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--no-prompt", ...args],
  cwd: PROJECT_ROOT,
  env,
  stdout: "piped",
  stderr: "inherit",
}).spawn();

// Stream deno test's output through, remembering its summary line.
let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  const text = decoder.decode(chunk, { stream: true });
  await Deno.stdout.write(chunk);
  tail = (tail + text).slice(-4000);
}
const status = await child.status;
// deno's summary: "ok | 12 passed (3 steps) | 0 failed | 1 ignored (4s)"
const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
const m = [
  ...plain.matchAll(
    /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/g,
  ),
].pop();
let passed = m ? Number(m[1]) : 0;
let failed = m ? Number(m[2]) : 0;
const ignored = m && m[3] ? Number(m[3]) : 0;
if (!status.success && failed === 0) failed = 1; // type-check or load error: count it as a failure
if (!m && status.success) passed = 0;
const left: string[] = [];
for await (const e of Deno.readDir(tmp)) left.push(e.name);
await Deno.remove(tmp, { recursive: true });
if (left.length > 0) {
  console.error(
    `note: the tests left ${left.length} temp entr${left.length === 1 ? "y" : "ies"} (removed): ${
      left.slice(0, 5).join(", ")
    }${left.length > 5 ? ", ..." : ""}`,
  );
}
console.log(`\n${passed} passed, ${failed} failed${ignored ? `, ${ignored} skipped` : ""}`);
Deno.exit(status.success && failed === 0 ? 0 : 1);
