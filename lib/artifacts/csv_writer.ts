import type { Cell, Row } from "./table_render.ts";

/**
 * The CSV form of a table (RFC 4180: comma-separated, `\n`-terminated lines, a field quoted
 * when it holds a comma, a quote, CR or LF, quotes doubled). Each column gets one type from its
 * non-null values, and its cells are written as the kit's CSV files have always been (they were
 * written by nodejs-polars, and the committed artifacts' bytes are kept):
 *
 * - integers only: `1`, `-2`;
 * - numbers: floats in their shortest round-trip digits, always with a decimal point or an
 *   exponent (`1.0`, `0.25`, `0.00001`, `1.5e-7`, `1e+16`, `-0.0`, `NaN`, `inf`, `-inf`);
 * - booleans only: `true`, `false`;
 * - anything else: text (`String(value)`), the empty string as `""`;
 * - `null`: an empty field.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableCsv } from "./csv_writer.ts";
 * const csv = tableCsv(["lang", "R@1", "n"], [
 *   { lang: "en", "R@1": 0.5, n: 554 },
 *   { lang: "a, \"b\"", "R@1": 1, n: null },
 * ]);
 * assert.equal(csv, 'lang,R@1,n\nen,0.5,554\n"a, ""b""",1.0,\n');
 * ```
 */
export function tableCsv(columns: readonly string[], rows: readonly Row[]): string {
  const writers = columns.map((c) => cellWriter(rows.map((r) => r[c] ?? null)));
  const lines = [columns.map(quoteField).join(",")];
  for (const r of rows) {
    lines.push(columns.map((c, i) => writers[i]!(r[c] ?? null)).join(","));
  }
  return lines.join("\n") + "\n";
}

type CellWriter = (v: Cell) => string;

/** How one column's cells are written, from the types of its non-null values. */
function cellWriter(values: readonly Cell[]): CellWriter {
  const present = values.filter((v) => v !== null);
  const allNumbers = present.every((v) => typeof v === "number");
  if (present.length > 0 && allNumbers && present.every((v) => Number.isInteger(v))) {
    return (v) => (v === null ? "" : BigInt(v as number).toString());
  }
  if (allNumbers) return (v) => (v === null ? "" : formatFloat(v as number));
  if (present.every((v) => typeof v === "boolean")) {
    return (v) => (v === null ? "" : v ? "true" : "false");
  }
  return (v) => (v === null ? "" : v === "" ? '""' : quoteField(String(v)));
}

/** A field quoted when it must be (RFC 4180), quotes doubled. */
function quoteField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A float in its shortest round-trip digits: positional for 1e-5 ≤ |x| < 1e16 (with `.0` when
 * integral), otherwise `d.ddde±x`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFloat } from "./csv_writer.ts";
 * assert.deepEqual([1, 0.00001, 1.5e-7, 1e16, 123456789012345680000, -0].map(formatFloat),
 *   ["1.0", "0.00001", "1.5e-7", "1e+16", "1.2345678901234568e+20", "-0.0"]);
 * ```
 */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const a = Math.abs(x);
  // JavaScript's exponential form has the shortest round-trip digits: "d.ddde±x"
  const [mantissa, exp] = a.toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const e = Number(exp);
  if (a >= 1e-5 && a < 1e16) {
    if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
    const intLen = e + 1;
    if (digits.length <= intLen) return `${sign}${digits}${"0".repeat(intLen - digits.length)}.0`;
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  return `${sign}${mantissa}e${e < 0 ? "-" : "+"}${Math.abs(e)}`;
}
