import { basename } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { type CaptionOrigin, K_CAPTION_LANGS, type KCaptionLang } from "./k_caption_records.ts";

/** One line of a translations file: an image and its caption in K's languages. */
export interface KTranslationLine {
  /** 1-based line number in the file. */
  line: number;
  image_id: string;
  captions: Partial<Record<KCaptionLang, string>>;
  origin: Partial<Record<KCaptionLang, CaptionOrigin>>;
}

/**
 * Reads a user-provided translations file in K's caption-record format: one JSON object a line,
 * `{"image_id": 139, "captions": {"en": "…", "es": "…", "ja": "…", "hi": "…", "qu": "…"}}`
 * (`qu` optional; `en` required; `image_id` a COCO id, number or digit string; blank lines
 * skipped). The English caption counts as human, the others as machine translations from English
 * by this file. Anything else is a `KitError` naming the file and line, as is a record that
 * repeats an earlier one exactly (same image and captions: it would be trained on twice).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readKTranslationsFile } from "./k_translations_file.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"image_id": 139, "captions": {"en": "A dog.", "es": "Un perro."}}\n');
 * const lines = await readKTranslationsFile(path);
 * assert.equal(lines.length, 1);
 * assert.deepEqual(lines[0]!.captions, { en: "A dog.", es: "Un perro." });
 * await Deno.remove(path);
 * ```
 */
export async function readKTranslationsFile(path: string): Promise<KTranslationLine[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new KitError(
      `${path}: cannot read the translations file (${err instanceof Error ? err.message : err})`,
      ['one JSON object a line: {"image_id": 139, "captions": {"en": …, "es": …, "ja": …, "hi": …}}'],
    );
  }
  return parseKTranslations(text, path);
}

/** Parses the text of a translations file (see {@link readKTranslationsFile}); `path` for errors. */
export function parseKTranslations(text: string, path: string): KTranslationLine[] {
  const out: KTranslationLine[] = [];
  const seen = new Map<string, number>();
  const engine = `translations file ${basename(path)}`;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1, where = `${path}:${line}`;
    if (raw.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      throw new KitError(`${where}: not JSON (${err instanceof Error ? err.message : err})`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new KitError(`${where}: expected an object {"image_id", "captions"}`);
    }
    const o = v as Record<string, unknown>;
    const id = o.image_id;
    if (
      !(typeof id === "number" && Number.isInteger(id) && id >= 0) &&
      !(typeof id === "string" && /^\d+$/.test(id))
    ) {
      throw new KitError(
        `${where}: "image_id" must be a COCO image id (integer), got ${JSON.stringify(id)}`,
      );
    }
    const c = o.captions;
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
      throw new KitError(`${where}: "captions" must be an object of language → caption`);
    }
    const captions: Partial<Record<KCaptionLang, string>> = {};
    const origin: Partial<Record<KCaptionLang, CaptionOrigin>> = {};
    for (const [lang, cap] of Object.entries(c as Record<string, unknown>)) {
      if (!(K_CAPTION_LANGS as readonly string[]).includes(lang)) {
        throw new KitError(
          `${where}: caption language "${lang}" is not one of K's (${K_CAPTION_LANGS.join(", ")})`,
        );
      }
      if (typeof cap !== "string" || cap.trim() === "") {
        throw new KitError(`${where}: captions.${lang} must be a non-empty string`);
      }
      const l = lang as KCaptionLang;
      captions[l] = cap.trim();
      origin[l] = l === "en" ? { kind: "human" } : { kind: "machine", engine, from: "en" };
    }
    if (!captions.en) throw new KitError(`${where}: captions.en (the English caption) is missing`);
    const key = JSON.stringify([
      String(Number(id)),
      K_CAPTION_LANGS.map((l) => captions[l] ?? null),
    ]);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new KitError(
        `${where}: the same record as line ${first} (image ${Number(id)}, same captions)`,
        ["each caption record once: remove the repeated line"],
      );
    }
    seen.set(key, line);
    out.push({ line, image_id: String(Number(id)), captions, origin });
  });
  if (out.length === 0) throw new KitError(`${path}: no records (one JSON object a line)`);
  return out;
}
