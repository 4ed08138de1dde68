import { KitError } from "../util/kit_error.ts";
import type { CocoCaptions } from "./coco_captions.ts";
import { type SourceIssue, sourceIssue } from "./source_issue.ts";
import { readLines, readText } from "./text_io.ts";

/**
 * K's caption record (their code reads a JSON list of these): one COCO caption with its
 * translations, `{image_id, captions: {en, es, ja, hi, qu?}}`. An image usually has five.
 */
export interface CaptionRecord {
  imageId: number | string;
  captions: Record<string, string>;
}

/** Validates one raw record; returns the record or an issue. */
function toRecord(
  raw: unknown,
  file: string,
  where: { line?: number; index: number },
  source: string,
): CaptionRecord | SourceIssue {
  const at = where.line !== undefined ? { line: where.line } : {};
  if (typeof raw !== "object" || raw === null) {
    return sourceIssue(source, file, "malformed record", {
      ...at,
      detail: `record ${where.index} is not an object`,
    });
  }
  const r = raw as Record<string, unknown>;
  const id = r.image_id;
  if (!(typeof id === "number" && Number.isFinite(id)) && !(typeof id === "string" && id !== "")) {
    return sourceIssue(source, file, "malformed record", {
      ...at,
      detail: `record ${where.index}: image_id missing`,
    });
  }
  if (typeof r.captions !== "object" || r.captions === null || Array.isArray(r.captions)) {
    return sourceIssue(source, file, "malformed record", {
      ...at,
      detail: `record ${where.index}: captions must be {lang: text}`,
    });
  }
  const captions: Record<string, string> = {};
  for (const [lang, text] of Object.entries(r.captions as Record<string, unknown>)) {
    if (typeof text === "string" && text.trim() !== "") captions[lang] = text.trim();
  }
  if (Object.keys(captions).length === 0) {
    return sourceIssue(source, file, "empty caption", {
      ...at,
      detail: `record ${where.index} (image ${id}) has no non-empty caption`,
    });
  }
  return { imageId: id as number | string, captions };
}

/**
 * Reads K's caption records from a JSON array (`.json`) or one record per line (`.jsonl`),
 * plain or gzipped. Malformed records become issues; the rest load.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCaptionRecords } from "./caption_records.ts";
 * const p = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(p, JSON.stringify([{ image_id: 7, captions: { en: "A dog.", es: "Un perro." } }]));
 * const { records } = await loadCaptionRecords(p);
 * assert(records[0]!.captions.es === "Un perro.");
 * ```
 */
export async function loadCaptionRecords(
  path: string,
  source = "caption-records",
): Promise<{ records: CaptionRecord[]; issues: SourceIssue[] }> {
  const records: CaptionRecord[] = [];
  const issues: SourceIssue[] = [];
  const push = (x: CaptionRecord | SourceIssue) => {
    if ("reason" in x) issues.push(x);
    else records.push(x);
  };
  if (/\.jsonl(\.gz)?$/.test(path)) {
    let index = 0;
    for await (const { line, text } of readLines(path)) {
      if (text.trim() === "") continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        issues.push(
          sourceIssue(source, path, "malformed record", { line, detail: "not valid JSON" }),
        );
        continue;
      }
      push(toRecord(raw, path, { line, index: index++ }, source));
    }
  } else {
    let raw: unknown;
    try {
      raw = JSON.parse(await readText(path));
    } catch (err) {
      throw new KitError(`${path}: not valid JSON (${err instanceof Error ? err.message : err})`);
    }
    if (!Array.isArray(raw)) {
      throw new KitError(`${path}: expected a JSON array of {image_id, captions} records`);
    }
    raw.forEach((r, index) => push(toRecord(r, path, { index }, source)));
  }
  return { records, issues };
}

/** Groups caption records by image: image id → language → captions in record order. */
export function groupCaptionRecords(
  records: readonly CaptionRecord[],
): Map<string, Record<string, string[]>> {
  const out = new Map<string, Record<string, string[]>>();
  for (const r of records) {
    const key = String(r.imageId);
    const g = out.get(key) ?? {};
    for (const [lang, text] of Object.entries(r.captions)) (g[lang] ??= []).push(text);
    out.set(key, g);
  }
  return out;
}

/** Turns a COCO caption file into K's records with English only (`{image_id, captions: {en}}`). */
export function cocoToCaptionRecords(coco: CocoCaptions): CaptionRecord[] {
  const out: CaptionRecord[] = [];
  for (const im of coco.images) {
    for (const c of im.captions) out.push({ imageId: im.id, captions: { en: c.caption } });
  }
  return out;
}
