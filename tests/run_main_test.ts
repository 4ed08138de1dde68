import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

async function runTool(tool: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", tool), ...args],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("runMain() turns a bad command-line option into one line and exit code 2, not a stack trace", async () => {
  const unknown = await runTool("align.ts", ["--bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^error: Unknown option '--bogus' \(see --help\)\n$/);
  const ambiguous = await runTool("bitext.ts", ["--emb", "x", "--out", "y", "--seed", "-1"]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /^error: Option '--seed' argument is ambiguous/);
  assert.doesNotMatch(ambiguous.stderr, /internal error|\n\s+at /);
});

Deno.test("runCli() reports an out-of-range or malformed integer option with exit code 2 and the option named", async () => {
  const r = await runTool("align.ts", ["--emb", "x", "--out", "y", "--folds", "1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: --folds 1: expected an integer ≥ 2 \(see --help\)\n$/);
  const nan = await runTool("bench.ts", ["--steps", "abc"]);
  assert.equal(nan.code, 2);
  assert.match(nan.stderr, /^error: --steps "abc": expected an integer \(see --help\)\n$/);
});

Deno.test("runMain() reports a KitError from a tool with exit code 1, no stack trace", async () => {
  const r = await runTool("align.ts", ["--emb", "/nonexistent-kit-dir", "--out", "y"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: embedding folder \/nonexistent-kit-dir does not exist/m);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
});
