import { KitError } from "../util/kit_error.ts";

/**
 * The records of a rehearsal log written one JSON object a line (the embed-limit and K step-cap
 * logs), each passed to `check` with its 1-based line number; a missing file is no records, a
 * line that is not JSON a `KitError` naming the file and line. `check` returns the record or
 * throws its own error (which should name `path:line` too).
 */
export async function readJsonLinesLog<T>(
  path: string,
  check: (value: Record<string, unknown>, line: number) => T,
): Promise<T[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: T[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new KitError(`${path}:${i + 1}: not valid JSON`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new KitError(`${path}:${i + 1}: expected a JSON object`);
    }
    out.push(check(value as Record<string, unknown>, i + 1));
  });
  return out;
}
