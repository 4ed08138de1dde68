import { KitError } from "../util/kit_error.ts";

/** The longest line {@link readTextLines} accepts by default: 100 000 bytes of UTF-8. */
export const MAX_TEXT_LINE_BYTES = 100_000;

/**
 * Reads a UTF-8 text file as lines (`\n` or `\r\n`; a trailing newline does not add a line;
 * empty lines kept). Checked before anything is tokenised: a line longer than `maxLineBytes`
 * (default {@link MAX_TEXT_LINE_BYTES}) or bytes that are not UTF-8 are a KitError naming the
 * file and the line (1-based), so one huge or binary line cannot exhaust memory downstream.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTextLines } from "./text_lines.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "a\nb\n");
 * assert.deepEqual(await readTextLines(p), ["a", "b"]);
 * await Deno.writeFile(p, new Uint8Array([0x61, 0xff, 0x0a]));
 * await assert.rejects(() => readTextLines(p), /line 1/);
 * await Deno.remove(p);
 * ```
 */
export async function readTextLines(
  path: string,
  opts: { maxLineBytes?: number; what?: string } = {},
): Promise<string[]> {
  const max = opts.maxLineBytes ?? MAX_TEXT_LINE_BYTES;
  const what = opts.what ?? "the texts file";
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new KitError(
      `${path}: cannot read ${what} (${err instanceof Error ? err.message : err})`,
    );
  }
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const lines: string[] = [];
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const n = end - start;
    if (n > max) {
      throw new KitError(
        `${path} line ${line}: ${n} bytes, more than the ${max} a line may have`,
        ["one text a line; split or shorten the line (the model reads at most a few hundred tokens)"],
      );
    }
    let raw = bytes.subarray(start, end);
    if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
    try {
      lines.push(decoder.decode(raw));
    } catch {
      const bad = firstInvalidUtf8(raw);
      throw new KitError(
        `${path} line ${line}: not valid UTF-8 (byte ${bad + 1} of the line)`,
        ["save the file as UTF-8"],
      );
    }
    start = end + 1;
  }
  return lines;
}

/** Offset of the first byte where `b` stops being valid UTF-8 (found by decoding prefixes). */
function firstInvalidUtf8(b: Uint8Array): number {
  let lo = 0, hi = b.length; // the prefix of length lo decodes (in whole characters)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid;
    }
  }
  return lo;
}
