import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";

/**
 * Recipes that make a mini-profile dataset from its upstream files, byte for byte as the mirror
 * holds it (each output file is then checked against the dataset's manifest sha256, so a recipe
 * that drifts from the upstream's conversion is refused, never used silently).
 */

/** Python's `str.strip()` whitespace (str.isspace), which differs from JS `trim()`. */
const PY_SPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004" +
  "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && PY_SPACE.includes(s[a]!)) a++;
  while (b > a && PY_SPACE.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** One row as Python's `csv.writer(f, delimiter="\t")` writes it (QUOTE_MINIMAL, `\r\n`). */
export function pyCsvTabRow(fields: string[]): string {
  return fields.map((f) => /[\t"\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f).join("\t") +
    "\r\n";
}

/**
 * XTREME's `xnli_preprocess` for the dev split: `xnli.dev.tsv` (header line, then language,
 * gold label, …, sentence1 at column 7, sentence2 at column 8) becomes `dev-<lang>.tsv` per
 * language, in first-seen order, rows `premise \t hypothesis \t label` with "contradictory"
 * renamed "contradiction".
 */
export function xnliXtremeDev(xnliDevTsv: string): Map<string, string> {
  const byLang = new Map<string, string[]>();
  const lines = xnliDevTsv.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 1; i < lines.length; i++) {
    const items = pyStrip(lines[i]!).split("\t");
    if (items.length < 8) {
      throw new KitError(
        `xnli.dev.tsv line ${
          i + 1
        }: expected at least 8 tab-separated fields, found ${items.length}`,
      );
    }
    const lang = pyStrip(items[0]!);
    const gold = pyStrip(items[1]!);
    const label = gold === "contradictory" ? "contradiction" : gold;
    const row = pyCsvTabRow([pyStrip(items[6]!), pyStrip(items[7]!), label]);
    const list = byLang.get(lang) ?? [];
    list.push(row);
    byLang.set(lang, list);
  }
  const out = new Map<string, string>();
  for (const [lang, rows] of byLang) out.set(`dev-${lang}.tsv`, rows.join(""));
  return out;
}

/** `json.dumps(value)` of Python (default separators, `ensure_ascii=True`). */
export function pyJsonDumps(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`pyJsonDumps: ${value} has no JSON form`);
    return String(value);
  }
  if (typeof value === "string") {
    return JSON.stringify(value).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  if (typeof value === "object") {
    return `{${
      Object.entries(value as Record<string, unknown>).map(([k, v]) =>
        `${pyJsonDumps(k)}: ${pyJsonDumps(v)}`
      ).join(", ")
    }}`;
  }
  throw new Error(`pyJsonDumps: unsupported ${typeof value}`);
}

interface CocoCaptions {
  licenses: unknown[];
  images: ({ id: number; file_name: string } & Record<string, unknown>)[];
  annotations: ({ id: number; image_id: number } & Record<string, unknown>)[];
}

/** The pins of coco-subset's derivation (`data/derivations/coco-subset.json`). */
interface CocoSubsetDerivation {
  info: Record<string, unknown>;
  images: [number, string][];
  annotations: number[];
}

async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (err) {
    throw new KitError(`${path}: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * `captions_subset.json` of coco-subset from COCO's caption annotations (a folder holding
 * captions_train2017.json and captions_val2017.json), plus the image files to download
 * (`images/<file>` from `<split>/<file>`).
 */
export async function cocoSubsetCaptions(
  annotationsDir: string,
): Promise<{ json: string; images: { path: string; remote: string }[] }> {
  const d = await readJson<CocoSubsetDerivation>(
    join(PROJECT_ROOT, "data", "derivations", "coco-subset.json"),
  );
  const train = await readJson<CocoCaptions>(join(annotationsDir, "captions_train2017.json"));
  const val = await readJson<CocoCaptions>(join(annotationsDir, "captions_val2017.json"));
  const images = new Map<number, CocoCaptions["images"][number]>();
  const annotations = new Map<number, CocoCaptions["annotations"][number]>();
  for (const src of [train, val]) {
    for (const i of src.images) images.set(i.id, i);
    for (const a of src.annotations) annotations.set(a.id, a);
  }
  const outImages = d.images.map(([id, split]) => {
    const i = images.get(id);
    if (!i) throw new KitError(`COCO captions: image ${id} (${split}) not found`);
    return { ...i, split };
  });
  const outAnnotations = d.annotations.map((id) => {
    const a = annotations.get(id);
    if (!a) throw new KitError(`COCO captions: caption annotation ${id} not found`);
    return a;
  });
  const json = pyJsonDumps({
    info: d.info,
    licenses: val.licenses,
    images: outImages,
    annotations: outAnnotations,
  });
  return {
    json,
    images: outImages.map((i) => ({
      path: `images/${i.file_name}`,
      remote: `${i.split}/${i.file_name}`,
    })),
  };
}
