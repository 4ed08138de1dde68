/**
 * `./kit task check`: the static checks CI runs before the tests — `deno fmt --check`, `deno lint`,
 * `deno check` of lib/mod.ts and every tools/ entry point, and of the notebook sources
 * notebooks/NN_*.ts — each reported as one line (`ok` or `FAILED` with its output). Exits 1 when
 * one fails. `./kit task ok` runs them, then the tests.
 */
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

/** The `.ts` files directly in `dir` (relative to the project, sorted) that `keep` accepts. */
function tsFiles(dir: string, keep: (name: string) => boolean = () => true): string[] {
  return [...Deno.readDirSync(`${PROJECT_ROOT}/${dir}`)]
    .filter((e) => e.isFile && e.name.endsWith(".ts") && keep(e.name))
    .map((e) => `${dir}/${e.name}`)
    .sort();
}

/**
 * The checks: a name and `deno` arguments. The notebook sources (notebooks/NN_*.ts) are checked
 * apart from lib/ and tools/ because they reference Deno's unstable types (`Deno.jupyter`).
 */
export function staticChecks(): [string, string[]][] {
  return [
    ["deno fmt --check", ["fmt", "--check"]],
    ["deno lint", ["lint"]],
    ["deno check lib/mod.ts tools/", ["check", "lib/mod.ts", ...tsFiles("tools")]],
    [
      "deno check notebooks/ (the notebook sources)",
      ["check", ...tsFiles("notebooks", (n) => /^\d\d_/.test(n))],
    ],
  ];
}

/** Runs every check, printing one line each (and a failed one's output); counts them. */
export async function runStaticChecks(
  env: Record<string, string> = Deno.env.toObject(),
): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  for (const [name, args] of staticChecks()) {
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: PROJECT_ROOT,
      // plain text in logs (CI), colours on a terminal
      env: Deno.stdout.isTerminal() ? env : { ...env, NO_COLOR: "1" },
    }).output();
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (out.success) {
      passed++;
      console.log(`check: ${name} ... ok (${secs}s)`);
    } else {
      failed++;
      console.log(`check: ${name} ... FAILED (${secs}s):`);
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      console.log(text.trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
    }
  }
  return { passed, failed };
}

const CLI = {
  usage: "./kit task check",
  options: {},
  epilog:
    "Runs deno fmt --check, deno lint, and deno check of lib/mod.ts, tools/ and notebooks/NN_*.ts.",
} as const satisfies CliSpec;

if (import.meta.main) {
  await runCli(CLI, async () => {
    const { passed, failed } = await runStaticChecks();
    console.log(`static checks: ${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  });
}
