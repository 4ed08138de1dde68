import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../lib/util/paths.ts";

/**
 * Runs `reproduce --profile paper --smoke --only <only> --backend wasm --no-report` in a child
 * process with `env` (the dry runs' model, cache and artifact folders) and asserts it exits 0,
 * showing the end of its output otherwise. Returns the combined output.
 */
export async function runPaperSmoke(only: string, env: Record<string, string>): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(PROJECT_ROOT, "tools", "reproduce.ts"),
      "--profile",
      "paper",
      "--smoke",
      "--only",
      only,
      "--backend",
      "wasm",
      "--no-report",
    ],
    env: { KIT_QUIET: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, log.slice(-4000));
  return log;
}
