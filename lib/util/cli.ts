import { parseArgs } from "node:util";
import { KitError, runMain } from "./kit_error.ts";

/** One command-line option of a kit command. */
export interface CliOption {
  /** `integer` and `number` are parsed and checked here: a bad value is a usage error. */
  type: "boolean" | "string" | "integer" | "number";
  /** What the help shows after the option's name, e.g. `DIR`, `K` (not for booleans). */
  value?: string;
  /** One-letter alias. */
  short?: string;
  /** The help text; more lines are indented under the first. */
  help: string;
  /** Smallest allowed value (integer and number options). */
  min?: number;
  /** Largest allowed value (integer and number options). */
  max?: number;
}

/** A command's usage line, options and positional arguments. */
export interface CliSpec {
  /** The usage line after `usage: `, e.g. `./kit task align --emb DIR --out DIR [options]`. */
  usage: string;
  options: Record<string, CliOption>;
  /** Help lines for positional arguments (`["NN  open this notebook"]`); none allowed without. */
  positionals?: readonly string[];
  /** Text printed after the options. */
  epilog?: string;
}

/** The parsed values: booleans default to false, the other options are undefined when absent. */
export type CliValues<O extends Record<string, CliOption>> = {
  [K in keyof O]: O[K]["type"] extends "boolean" ? boolean
    : O[K]["type"] extends "integer" | "number" ? number | undefined
    : string | undefined;
};

/** What `parseCli` returns: the values and positionals, or `help` when help was asked for. */
export type ParsedCli<S extends CliSpec> =
  | { help: true }
  | { help: false; values: CliValues<S["options"]>; positionals: string[] };

/** A bad command line (unknown option, missing or malformed value): exit code 2. */
export class UsageError extends KitError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The help text: the usage line, then one line per option (`--name VALUE  help`) and per
 * positional argument, `-h, --help` included.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cliHelp } from "./cli.ts";
 * const help = cliHelp({
 *   usage: "./kit task demo [options]",
 *   options: { folds: { type: "integer", value: "K", help: "folds (default 5)", min: 2 } },
 * });
 * assert.match(help, /^usage: \.\/kit task demo \[options\]\n  --folds K +folds \(default 5\)\n/);
 * assert.match(help, /-h, --help +show this help/);
 * ```
 */
export function cliHelp(spec: CliSpec): string {
  const rows: [string, string][] = [];
  for (const line of spec.positionals ?? []) {
    const m = line.match(/^(\S+(?: \S+)*?)\s{2,}(.*)$/);
    rows.push(m ? [m[1]!, m[2]!] : [line, ""]);
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`;
    rows.push([flag, o.help]);
  }
  rows.push(["-h, --help", "show this help"]);
  const width = Math.min(28, Math.max(...rows.map(([f]) => f.length))) + 2;
  const lines = [`usage: ${spec.usage}`];
  for (const [flag, help] of rows) {
    const [first = "", ...rest] = help.split("\n");
    const head = flag.length + 2 > width
      ? `  ${flag}\n${" ".repeat(width + 2)}`
      : `  ${flag.padEnd(width)}`;
    lines.push(head + first);
    for (const r of rest) lines.push(" ".repeat(width + 2) + r.trimStart());
  }
  if (spec.epilog) lines.push("", spec.epilog);
  return lines.join("\n");
}

function parseNumber(name: string, o: CliOption, raw: string): number {
  const x = raw.trim() === "" ? NaN : Number(raw);
  const kind = o.type === "integer" ? "an integer" : "a number";
  if (!Number.isFinite(x) || (o.type === "integer" && !Number.isInteger(x))) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)}: expected ${kind}`);
  }
  if (o.min !== undefined && x < o.min) {
    throw new UsageError(`--${name} ${raw}: expected ${kind} ≥ ${o.min}`);
  }
  if (o.max !== undefined && x > o.max) {
    throw new UsageError(`--${name} ${raw}: expected ${kind} ≤ ${o.max}`);
  }
  return x;
}

/**
 * Parses `args` by `spec` (node:util `parseArgs`, strict): unknown options, a missing value or an
 * unexpected positional argument is a `UsageError` naming it; integer and number options are
 * parsed and range-checked (never NaN). `-h`/`--help` anywhere gives `{ help: true }`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli, UsageError } from "./cli.ts";
 * const spec = {
 *   usage: "demo",
 *   options: {
 *     folds: { type: "integer", value: "K", help: "folds", min: 2 },
 *     quiet: { type: "boolean", help: "say less" },
 *   },
 * } as const;
 * const p = parseCli(spec, ["--folds", "3"]);
 * assert.deepEqual(p, { help: false, values: { folds: 3, quiet: false }, positionals: [] });
 * assert.deepEqual(parseCli(spec, ["--quiet", "-h"]), { help: true });
 * assert.throws(() => parseCli(spec, ["--folds", "abc"]), UsageError);
 * assert.throws(() => parseCli(spec, ["--fold", "3"]), /Unknown option '--fold'/);
 * ```
 */
export function parseCli<S extends CliSpec>(spec: S, args: readonly string[]): ParsedCli<S> {
  const end = args.indexOf("--");
  const own = end < 0 ? args : args.slice(0, end);
  if (own.includes("--help") || own.includes("-h")) return { help: true };
  const options: Record<string, { type: "boolean" | "string"; short?: string }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const type = o.type === "boolean" ? "boolean" : "string";
    options[name] = o.short === undefined ? { type } : { type, short: o.short };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      allowPositionals: spec.positionals !== undefined,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      const message = (err as Error).message.split("\n")[0]!
        .replace(/\. To specify a positional argument.*$/, "");
      throw new UsageError(message);
    }
    throw err;
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = parsed.values[name];
    if (o.type === "boolean") values[name] = raw === true;
    else if (raw === undefined) values[name] = undefined;
    else if (o.type === "string") values[name] = raw;
    else values[name] = parseNumber(name, o, String(raw));
  }
  return {
    help: false,
    values: values as CliValues<S["options"]>,
    positionals: parsed.positionals,
  };
}

/**
 * A kit command's entry point: parses `Deno.args` by `spec`; `-h`/`--help` prints the help and
 * exits 0; a bad command line prints one line naming the problem and exits 2; otherwise runs
 * `main` through `runMain` (a `KitError` is one clean message and exit 1; a `UsageError` from
 * `main`, e.g. a required option missing, exit 2).
 */
export function runCli<S extends CliSpec>(
  spec: S,
  main: (values: CliValues<S["options"]>, positionals: string[]) => Promise<number | void>,
): Promise<never> {
  return runMain(async () => {
    try {
      const parsed = parseCli(spec, Deno.args);
      if (parsed.help) {
        console.log(cliHelp(spec));
        return 0;
      }
      return await main(parsed.values, parsed.positionals);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      console.error(`error: ${err.message} (see --help)`);
      return 2;
    }
  });
}
