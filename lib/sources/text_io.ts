import { KitError } from "../util/kit_error.ts";

/** A line of a text file with its 1-based line number. */
export interface NumberedLine {
  line: number;
  text: string;
}

function isGzipPath(path: string): boolean {
  return path.endsWith(".gz");
}

async function* openText(path: string): AsyncGenerator<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new KitError(`${path}: file not found`);
    throw err;
  }
  let bytes: ReadableStream<Uint8Array> = file.readable;
  if (isGzipPath(path)) {
    bytes = bytes.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for await (const chunk of bytes) yield decoder.decode(chunk, { stream: true });
  yield decoder.decode();
}

/**
 * Streams the lines of a UTF-8 text file (gzip-compressed when the name ends in `.gz`), without
 * the line terminator (`\n` or `\r\n`). A final line without a newline is yielded; the empty
 * "line" after a final newline is not. Invalid UTF-8 throws a KitError naming the file.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLines } from "./text_io.ts";
 * const p = await Deno.makeTempFile();
 * await Deno.writeTextFile(p, "a\r\nb\nc");
 * const got: string[] = [];
 * for await (const l of readLines(p)) got.push(l.text);
 * assert(got.join(",") === "a,b,c");
 * ```
 */
export async function* readLines(path: string): AsyncGenerator<NumberedLine> {
  const stream = openText(path);
  // the pieces of the line being read: a newline is looked for in each new chunk only, so a long
  // line (COCO's caption files are one line of ~90 MB) costs linear, not quadratic, time
  let pending: string[] = [];
  let n = 0;
  try {
    for await (const chunk of stream) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf("\n", start);
        if (nl < 0) break;
        let text = chunk.slice(start, nl);
        if (pending.length > 0) {
          pending.push(text);
          text = pending.join("");
          pending = [];
        }
        if (text.endsWith("\r")) text = text.slice(0, -1);
        n += 1;
        yield { line: n, text };
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.slice(start));
    }
  } catch (err) {
    if (err instanceof TypeError && /encoded data|utf-?8/i.test(err.message)) {
      throw new KitError(`${path}: not valid UTF-8 text (somewhere after line ${n})`);
    }
    if (err instanceof Error && /gzip|deflate|corrupt|unexpected end/i.test(err.message)) {
      throw new KitError(
        `${path}: corrupt or truncated gzip data (after line ${n}): ${err.message}`,
      );
    }
    throw err;
  }
  const carry = pending.join("");
  if (carry.length > 0) {
    n += 1;
    yield { line: n, text: carry.endsWith("\r") ? carry.slice(0, -1) : carry };
  }
}

/** Reads a whole UTF-8 text file (gunzipped when the name ends in `.gz`). */
export async function readText(path: string): Promise<string> {
  const parts: string[] = [];
  for await (const l of readLines(path)) parts.push(l.text);
  return parts.join("\n");
}

/** All lines of a text file (gz-aware), as an array. */
export async function readAllLines(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(path)) out.push(l.text);
  return out;
}

/** A TSV record with the line it starts on. */
export interface TsvRecord {
  line: number;
  fields: string[];
}

/**
 * Streams the records of a tab-separated file. With `quote: '"'` a field that starts with a
 * double quote is read CSV-style (`""` is a literal quote; tabs and newlines may occur inside),
 * as pandas/polars write TSVs; with `quote: null` (default) every line is one record split on
 * tabs, which is what XNLI/SIB-200 need (their sentences may begin with a literal quote).
 */
export async function* readTsv(
  path: string,
  opts: { quote?: '"' | null } = {},
): AsyncGenerator<TsvRecord> {
  const quote = opts.quote ?? null;
  if (quote === null) {
    for await (const l of readLines(path)) yield { line: l.line, fields: l.text.split("\t") };
    return;
  }
  let pending: { line: number; text: string } | null = null;
  for await (const l of readLines(path)) {
    const text: string = pending ? `${pending.text}\n${l.text}` : l.text;
    const startLine: number = pending ? pending.line : l.line;
    const parsed = splitQuotedTsv(text);
    if (parsed === null) {
      pending = { line: startLine, text };
      continue;
    }
    pending = null;
    yield { line: startLine, fields: parsed };
  }
  if (pending) throw new KitError(`${path} line ${pending.line}: unterminated quoted field`);
}

/** Splits one CSV-quoted TSV record; null when a quoted field is still open (record continues). */
export function splitQuotedTsv(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return null;
        value += text.slice(j, q);
        if (text[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      // Anything between the closing quote and the next tab is kept verbatim.
      const tab = text.indexOf("\t", j);
      if (tab < 0) {
        fields.push(value + text.slice(j));
        return fields;
      }
      fields.push(value + text.slice(j, tab));
      i = tab + 1;
    } else {
      const tab = text.indexOf("\t", i);
      if (tab < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, tab));
      i = tab + 1;
    }
  }
}

/** Maps header names to column indices; throws a KitError naming the missing columns. */
export function headerIndex(
  path: string,
  header: string[],
  required: readonly string[],
): Map<string, number> {
  const idx = new Map<string, number>();
  header.forEach((h, i) => idx.set(h.trim(), i));
  const missing = required.filter((r) => !idx.has(r));
  if (missing.length > 0) {
    throw new KitError(
      `${path}: header lacks column(s) ${missing.join(", ")}`,
      [`found columns: ${header.join(", ")}`],
    );
  }
  return idx;
}

export { pathExists } from "../util/path_exists.ts";
