/**
 * `./kit task setup [--webgpu] [--verbose]`: installs what the kit needs, idempotently (npm
 * dependencies, Jupyter from Debian, Chromium, the project-local Deno kernelspec; with --webgpu
 * the Mesa Vulkan CPU driver used to test the GPU path).
 *
 * The other tasks start through it: `deno run -A tools/setup.ts [--webgpu] -- tools/X.ts ARGS`
 * sets up, then runs `tools/X.ts ARGS` in a child Deno (signals passed on, its exit code
 * returned). The setup comes first because X's imports need node_modules; with `-h`/`--help`
 * among ARGS it is skipped, so a task's help never installs anything.
 */
import { ensureSetup } from "../lib/setup/ensure_setup.ts";
import { type CliSpec, parseCli, runCli } from "../lib/util/cli.ts";
import { KitError } from "../lib/util/kit_error.ts";

const CLI = {
  usage: "./kit task setup [options]",
  options: {
    webgpu: {
      type: "boolean",
      help: "also install Mesa's Vulkan CPU driver (to test the WebGPU path)",
    },
    verbose: { type: "boolean", help: "print what was found or installed" },
  },
  epilog: "Other tasks run through it: tools/setup.ts [options] -- tools/X.ts [ARGS...]",
} as const satisfies CliSpec;

const split = Deno.args.indexOf("--");
const own = split < 0 ? Deno.args : Deno.args.slice(0, split);
const script = split < 0 ? undefined : Deno.args[split + 1];
const scriptArgs = split < 0 ? [] : Deno.args.slice(split + 2);

/** Runs `script` with `args` in a child Deno; returns its exit code (128 + n for signal n). */
async function runScript(path: string, args: string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const forward = signals.map((sig) => {
    const f = () => {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    };
    Deno.addSignalListener(sig, f);
    return [sig, f] as const;
  });
  const status = await child.status;
  for (const [sig, f] of forward) Deno.removeSignalListener(sig, f);
  return status.signal ? 128 + (signalNumbers[status.signal] ?? 1) : status.code;
}

const signalNumbers: Partial<Record<Deno.Signal, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

async function setup(values: { webgpu: boolean; verbose: boolean }): Promise<void> {
  const report = await ensureSetup({ webgpu: values.webgpu });
  if (values.verbose || Object.values(report).includes("installed")) {
    console.error(`setup: ${JSON.stringify(report)}`);
  }
}

if (script === undefined) {
  await runCli(CLI, setup);
} else {
  const end = scriptArgs.indexOf("--");
  const before = end < 0 ? scriptArgs : scriptArgs.slice(0, end);
  if (!before.includes("--help") && !before.includes("-h")) {
    const parsed = parseCli(CLI, own); // the task's own options, from deno.json
    if (!parsed.help) {
      try {
        await setup(parsed.values);
      } catch (err) {
        if (!(err instanceof KitError)) throw err;
        console.error(`error: ${err.describe()}`);
        Deno.exit(1);
      }
    }
  }
  Deno.exit(await runScript(script, scriptArgs));
}
