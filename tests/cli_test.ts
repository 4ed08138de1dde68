/**
 * The kit's one command-line convention (lib/util/cli.ts) and every `./kit task X --help`: each
 * exits 0 and lists its options, without running the setup first; `./kit` alone lists the tasks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliHelp, type CliSpec, parseCli, UsageError } from "../lib/util/cli.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const spec = {
  usage: "demo [options]",
  positionals: ["NAME  a name"],
  options: {
    folds: { type: "integer", value: "K", min: 2, max: 10, help: "folds" },
    rate: { type: "number", value: "R", help: "a rate" },
    out: { type: "string", value: "DIR", short: "o", help: "where" },
    quiet: { type: "boolean", help: "say less" },
  },
} as const satisfies CliSpec;

Deno.test("parseCli: typed values, defaults, positionals and --help", () => {
  assert.deepEqual(parseCli(spec, ["--folds", "3", "--rate=0.5", "-o", "x", "a", "b"]), {
    help: false,
    values: { folds: 3, rate: 0.5, out: "x", quiet: false },
    positionals: ["a", "b"],
  });
  assert.deepEqual(parseCli(spec, []), {
    help: false,
    values: { folds: undefined, rate: undefined, out: undefined, quiet: false },
    positionals: [],
  });
  assert.deepEqual(parseCli(spec, ["--folds", "abc", "--help"]), { help: true });
  assert.deepEqual(parseCli(spec, ["-h"]), { help: true });
});

Deno.test("parseCli: every bad command line is a UsageError naming the option", () => {
  const bad: [string[], RegExp][] = [
    [["--folds", "abc"], /--folds "abc": expected an integer/],
    [["--folds", "2.5"], /--folds "2.5": expected an integer/],
    [["--folds", ""], /--folds "": expected an integer/],
    [["--folds", "1"], /--folds 1: expected an integer ≥ 2/],
    [["--folds", "11"], /--folds 11: expected an integer ≤ 10/],
    [["--rate", "NaN"], /--rate "NaN": expected a number/],
    [["--rate", "1e999"], /--rate "1e999": expected a number/],
    [["--fold", "3"], /Unknown option '--fold'/],
    [["--out"], /--out/],
  ];
  for (const [args, message] of bad) {
    assert.throws(() => parseCli(spec, args), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${args.join(" ")}: ${err}`);
      assert.match(err.message, message);
      return true;
    });
  }
  const noPositionals = { usage: "x", options: {} } as const satisfies CliSpec;
  assert.throws(() => parseCli(noPositionals, ["extra"]), /Unexpected argument 'extra'/);
});

Deno.test("cliHelp lists the usage, the positionals, every option and -h", () => {
  const help = cliHelp(spec);
  assert.match(help, /^usage: demo \[options\]\n/);
  for (const line of ["NAME", "--folds K", "--rate R", "-o, --out DIR", "--quiet", "-h, --help"]) {
    assert.ok(help.includes(`  ${line} `), `${line} in\n${help}`);
  }
});

async function kit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(join(PROJECT_ROOT, "kit"), {
    args,
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const tasks = JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "deno.json"))).tasks as Record<
  string,
  { description: string; command: string }
>;

Deno.test("./kit alone and ./kit --help list every task with its description", async () => {
  for (const args of [[], ["--help"]]) {
    const r = await kit(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage: \.\/kit task NAME/);
    for (const [name, task] of Object.entries(tasks)) {
      assert.ok(task.description, `deno.json task ${name} has no description`);
      assert.ok(r.stdout.includes(`  ${name.padEnd(9)}  ${task.description}`), name);
    }
  }
});

for (const name of Object.keys(tasks)) {
  Deno.test(`./kit task ${name} --help exits 0, lists its options and runs no setup`, async () => {
    const r = await kit(["task", name, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: /im);
    assert.match(r.stdout, /-h, --help/);
    assert.doesNotMatch(r.stderr, /setup: (installing|\{)/);
  });
}
