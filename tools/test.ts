/**
 * `./kit task test [FILES…] [-- DENO-TEST-OPTIONS…]`: the whole test suite — unit tests under
 * tests/ (including the execution of every notebook in smoke mode, tests/notebooks_smoke_test.ts)
 * and every code example in lib/'s doc comments (`deno test --doc`) — run by `deno test`, ending
 * with the line `N passed, N failed`. FILES (or options after `--`) replace the default selection.
 *
 * `./kit task ok` (what CI runs): first the static checks — `deno fmt --check`, `deno lint`, and
 * `deno check` of lib/mod.ts, every tools/ entry point and the notebook sources notebooks/NN_*.ts —
 * each counted as one test in the final line (a failed check is a failed test, its output shown),
 * then the whole suite as above.
 */
import { resolve } from "node:path";
import { jupyterEnv } from "../lib/setup/kernelspec.ts";
import { cacheDir, PROJECT_ROOT } from "../lib/util/paths.ts";
import { defaultDataMirror } from "../lib/config/kit_config.ts";
import { preflightMiniData } from "../lib/data/preflight.ts";
import { runStaticChecks } from "./check.ts";

const HELP = `usage: ./kit task test [FILES...] [-- DENO-TEST-OPTIONS...]
       ./kit task ok
  FILES          test files or folders to run (default: tests/ and lib/'s doc examples)
  -- OPTIONS     options passed to deno test (e.g. -- --filter NAME tests/x_test.ts)
  -h, --help     show this help
ok runs deno fmt --check, deno lint and deno check first, each counted as one test.`;

const cliArgs = [...Deno.args];
const runChecks = cliArgs[0] === "--ok";
if (runChecks) cliArgs.shift();
if (cliArgs.includes("--help") || cliArgs.includes("-h")) {
  console.log(HELP);
  Deno.exit(0);
}

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

if (cliArgs[0] === "--") cliArgs.shift();
const args = cliArgs.length > 0 ? cliArgs : ["--doc", "tests/", "lib/"];

// The static checks of `ok`: each one counts as one test in the final line.
const checks = runChecks ? await runStaticChecks(env) : { passed: 0, failed: 0 };

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
const plain = tail.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
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
if (runChecks) {
  console.log(
    `static checks: ${checks.passed} passed, ${checks.failed} failed` +
      (checks.failed > 0 ? " (see the FAILED check above; counted as failed tests below)" : ""),
  );
}
passed += checks.passed;
failed += checks.failed;
console.log(`\n${passed} passed, ${failed} failed${ignored ? `, ${ignored} skipped` : ""}`);
Deno.exit(status.success && failed === 0 ? 0 : 1);
