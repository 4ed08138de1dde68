/**
 * A user-facing error: its message says what went wrong, where (file, line, key) and what was
 * expected. Entry points print `message` alone (no stack) and exit non-zero.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { KitError } from "./kit_error.ts";
 * const err = new KitError("data/x.tsv line 3: expected 3 tab-separated fields, found 2");
 * assert(err.name === "KitError");
 * ```
 */
export class KitError extends Error {
  /** Optional lines of advice printed after the message (what to install, where to put a file). */
  readonly hints: readonly string[];
  constructor(message: string, hints: readonly string[] = []) {
    super(message);
    this.name = "KitError";
    this.hints = hints;
    // The hints go into the stack text too: a notebook kernel shows an error as its stack, so
    // this is how they reach the executed notebook's error output (and `reproduce`'s summary).
    if (hints.length > 0 && typeof this.stack === "string") {
      const frames = this.stack.split("\n").filter((l) => /^\s+at /.test(l));
      this.stack = [`${this.name}: ${this.describe()}`, ...frames].join("\n");
    }
  }
  /** The full text shown to a user: message, then one hint per line. */
  describe(): string {
    return [this.message, ...this.hints.map((h) => `  ${h}`)].join("\n");
  }
}

/** True for the errors `parseArgs` (node:util) throws on bad command-line input. */
function isArgumentError(err: unknown): err is Error {
  if (!(err instanceof TypeError)) return false;
  const code: unknown = (err as unknown as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/**
 * Runs a command-line `main`, turning a `KitError` into a clean message and exit code 1, a bad
 * option (from `parseArgs`) into one line and exit code 2, and any other error into its message
 * plus stack, since that one is a bug of the kit.
 */
export async function runMain(main: () => Promise<number | void>): Promise<never> {
  try {
    const code = await main();
    Deno.exit(code ?? 0);
  } catch (err) {
    if (err instanceof KitError) {
      console.error(`error: ${err.describe()}`);
      Deno.exit(1);
    }
    if (isArgumentError(err)) {
      // node:util parseArgs: an unknown option, a missing value, `--seed -1` without `=`
      console.error(`error: ${err.message.split("\n").join(" ")} (see --help)`);
      Deno.exit(2);
    }
    console.error("internal error (a bug in the kit, please report it):");
    console.error(err);
    Deno.exit(70);
  }
}
