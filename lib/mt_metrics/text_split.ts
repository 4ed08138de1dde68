/**
 * Python's `str.split()` with no argument: splits on runs of Unicode whitespace (the characters
 * for which `str.isspace()` is true) and drops empty pieces. sacrebleu's tokenizers and chrF's
 * whitespace removal rely on exactly this set (it differs from JS `\s`: it includes U+001C–U+001F
 * and U+0085, and excludes U+FEFF).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { pythonSplit } from "./text_split.ts";
 * assert(pythonSplit("  a\u00a0b\tc ").join("|") === "a|b|c");
 * ```
 */
export function pythonSplit(line: string): string[] {
  return line.split(PY_WHITESPACE).filter((t) => t !== "");
}

/** Python's whitespace characters (`str.isspace()`), as a global regex of runs. */
// deno-lint-ignore no-control-regex
export const PY_WHITESPACE = new RegExp(
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+",
  "gu",
);

/** The text's Unicode code points (what a Python `str` indexes), not UTF-16 units. */
export function codePoints(text: string): string[] {
  return Array.from(text);
}
