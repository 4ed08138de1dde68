import { join, relative } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { clipText, type SourceIssue, sourceIssue } from "./source_issue.ts";
import { pathExists } from "./text_io.ts";

/** Locale codes of Tux Paint that the kit renames; every other code is kept as written. */
export const STAMP_LOCALE_ALIASES: Readonly<Record<string, string>> = {
  // Simplified Chinese is "zh" in WIT and in both papers; zh_TW stays distinct.
  zh_CN: "zh",
};

/**
 * Normalises a Tux Paint locale code: language lower-case, region upper-case, `@variant` kept,
 * then `STAMP_LOCALE_ALIASES` (`zh_CN` → `zh`). `pt` and `pt_BR`, `en_GB`, `ca@valencia` stay
 * distinct.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { normaliseStampLocale } from "./tuxpaint_stamps.ts";
 * assert(normaliseStampLocale("zh_CN") === "zh");
 * assert(normaliseStampLocale("pt_br") === "pt_BR");
 * assert(normaliseStampLocale("ca@valencia") === "ca@valencia");
 * ```
 */
export function normaliseStampLocale(code: string): string {
  const m = /^([A-Za-z]{2,3})(?:_([A-Za-z]{2,4}))?(?:@([A-Za-z]+))?$/.exec(code);
  if (!m) return code;
  let out = m[1]!.toLowerCase();
  if (m[2]) out += `_${m[2].length === 2 ? m[2].toUpperCase() : m[2]}`;
  if (m[3]) out += `@${m[3].toLowerCase()}`;
  return STAMP_LOCALE_ALIASES[out] ?? out;
}

/** The parsed content of one stamp description (`.txt`). */
export interface StampDescription {
  /** Normalised language code → caption (English from line 1 under `en`). */
  captions: Record<string, string>;
  /** Normalised code → the code as written in the file (e.g. `zh` → `zh_CN`). */
  writtenCodes: Record<string, string>;
  /** Malformed, empty or duplicate lines of this file (the rest of the file still loads). */
  issues: SourceIssue[];
}

const LANG_LINE =
  /^([A-Za-z]{2,3}(?:_[A-Za-z]{2,4})?(?:@[A-Za-z]+)?)\.(?:utf8|utf-8|UTF8|UTF-8)=(.*)$/;

/**
 * Parses a Tux Paint stamp description: line 1 is the English text, then one `LANG.utf8=text`
 * line per translation. Blank lines are ignored; any other line that does not match is a
 * `malformed line` issue with its line number, as are empty captions and repeated languages
 * (the first is kept) — the rest of the file still loads.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStampDescription } from "./tuxpaint_stamps.ts";
 * const d = parseStampDescription("A cat.\nes.utf8=Un gato.\nzh_CN.utf8=猫。\noops\n", "cat.txt");
 * assert(d.captions.es === "Un gato." && d.captions.zh === "猫。");
 * assert(d.issues.length === 1 && d.issues[0]!.line === 4);
 * ```
 */
export function parseStampDescription(
  text: string,
  file: string,
  source = "tuxpaint-stamps",
): StampDescription {
  const captions: Record<string, string> = {};
  const writtenCodes: Record<string, string> = {};
  const firstLine: Record<string, number> = {};
  const issues: SourceIssue[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n").map((l) => l.replace(/\r$/, ""));
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === "") {
      if (lineNo === 1) {
        issues.push(sourceIssue(source, file, "empty English description", { line: 1 }));
      }
      return;
    }
    if (lineNo === 1) {
      if (LANG_LINE.test(line)) {
        issues.push(sourceIssue(source, file, "malformed line", {
          line: 1,
          detail: `line 1 must be the English description, found a LANG.utf8= line: ${
            clipText(line)
          }`,
        }));
      } else {
        captions.en = line;
        writtenCodes.en = "en";
        firstLine.en = 1;
        return;
      }
    }
    const m = LANG_LINE.exec(line);
    if (!m) {
      issues.push(sourceIssue(source, file, "malformed line", {
        line: lineNo,
        detail: `expected LANG.utf8=text, found: ${clipText(line)}`,
      }));
      return;
    }
    const code = normaliseStampLocale(m[1]!);
    const value = m[2]!.trim();
    if (value === "") {
      issues.push(
        sourceIssue(source, file, "empty caption", {
          line: lineNo,
          detail: `${m[1]}.utf8= has no text`,
        }),
      );
      return;
    }
    if (code in captions) {
      issues.push(sourceIssue(source, file, "duplicate language", {
        line: lineNo,
        detail: `${m[1]} (as ${code}) already given on line ${firstLine[code]}; the first is kept`,
      }));
      return;
    }
    captions[code] = value;
    writtenCodes[code] = m[1]!;
    firstLine[code] = lineNo;
  });
  return { captions, writtenCodes, issues };
}

/** One stamp: its description and the image chosen for it. */
export interface StampRecord {
  /** Path of the stamp inside the stamps folder without extension, e.g. `animals/mammals/badger`. */
  id: string;
  /** The folder of the stamp inside the stamps folder, e.g. `animals/mammals`. */
  category: string;
  /** The `.txt`, relative to the dataset root, e.g. `stamps/animals/mammals/badger.txt`. */
  descriptionPath: string;
  /** The chosen image relative to the dataset root (`.png` preferred, else `.svg`). */
  imagePath: string;
  imageFormat: "png" | "svg";
  /** Other images of the same stamp (the `.svg` beside a chosen `.png`, `_mirror` variants). */
  alternateImages: string[];
  /** Normalised language code → caption. */
  captions: Record<string, string>;
}

/** What `loadTuxPaintStamps` returns. */
export interface TuxPaintStamps {
  /** The dataset root the relative paths start from. */
  root: string;
  /** Stamps with a description and an image, sorted by `id`. */
  stamps: StampRecord[];
  /** Lines, descriptions and images that could not be used, each with file and reason. */
  issues: SourceIssue[];
  /** Every `.txt` read (relative to `root`), for input checksums. */
  descriptionFiles: string[];
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory) await walk(p, out);
    else if (e.isFile) out.push(p);
  }
}

/**
 * Loads the Tux Paint stamps under `root` (a folder holding `stamps/`, as the mirror and the
 * Debian package `/usr/share/tuxpaint` do, or the `stamps` folder itself). Each `.txt` is paired
 * with the image of the same name: `.png` when there is one (the mirror has 83 stamps with both
 * and 165 with an SVG only), else `.svg`. `NAME_mirror.png` files are Tux Paint's pre-mirrored
 * variants of `NAME`, not stamps of their own: they are recorded as `skipped`. A `.txt` without
 * an image, or an image without a `.txt`, is `rejected` with the reason.
 */
export async function loadTuxPaintStamps(root: string): Promise<TuxPaintStamps> {
  const stampsDir = (await pathExists(join(root, "stamps"))) ? join(root, "stamps") : root;
  if (!(await pathExists(stampsDir))) {
    throw new KitError(`Tux Paint stamps: folder ${root} does not exist`);
  }
  const files: string[] = [];
  await walk(stampsDir, files);
  const rel = (p: string) => relative(root, p).split("\\").join("/");
  const byStem = new Map<string, { txt?: string; png?: string; svg?: string }>();
  const mirrors: string[] = [];
  for (const f of files) {
    const m = /^(.*)\.(txt|png|svg)$/i.exec(f);
    if (!m) continue;
    const stem = m[1]!;
    const ext = m[2]!.toLowerCase() as "txt" | "png" | "svg";
    if (ext !== "txt" && /_mirror$/.test(stem)) {
      mirrors.push(f);
      continue;
    }
    const entry = byStem.get(stem) ?? {};
    entry[ext] = f;
    byStem.set(stem, entry);
  }
  const issues: SourceIssue[] = [];
  const stamps: StampRecord[] = [];
  const descriptionFiles: string[] = [];
  const source = "tuxpaint-stamps";
  const stems = [...byStem.keys()].sort();
  for (const stem of stems) {
    const e = byStem.get(stem)!;
    if (!e.txt) {
      const img = (e.png ?? e.svg)!;
      issues.push(sourceIssue(source, rel(img), "image without description", {
        detail: `no ${rel(stem)}.txt beside the image`,
      }));
      continue;
    }
    descriptionFiles.push(rel(e.txt));
    const bytes = await Deno.readFile(e.txt);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      issues.push(sourceIssue(source, rel(e.txt), "description not UTF-8"));
      continue;
    }
    const desc = parseStampDescription(text, rel(e.txt), source);
    issues.push(...desc.issues);
    const image = e.png ?? e.svg;
    if (!image) {
      issues.push(sourceIssue(source, rel(e.txt), "description without image", {
        detail: `no ${rel(stem)}.png or .svg`,
      }));
      continue;
    }
    if (Object.keys(desc.captions).length === 0) {
      issues.push(sourceIssue(source, rel(e.txt), "no usable caption"));
      continue;
    }
    const id = relative(stampsDir, stem).split("\\").join("/");
    const alternates: string[] = [];
    if (e.png && e.svg) alternates.push(rel(e.svg));
    for (const ext of ["png", "svg"]) {
      const mirror = `${stem}_mirror.${ext}`;
      if (mirrors.includes(mirror)) alternates.push(rel(mirror));
    }
    stamps.push({
      id,
      category: id.includes("/") ? id.slice(0, id.lastIndexOf("/")) : "",
      descriptionPath: rel(e.txt),
      imagePath: rel(image),
      imageFormat: e.png ? "png" : "svg",
      alternateImages: alternates,
      captions: desc.captions,
    });
  }
  for (const m of mirrors) {
    const base = m.replace(/_mirror\.(png|svg)$/i, "");
    issues.push(sourceIssue(source, rel(m), "mirror variant", {
      action: "skipped",
      detail: `Tux Paint's pre-mirrored copy of ${rel(base)}; not a stamp of its own`,
    }));
  }
  return { root, stamps, issues, descriptionFiles };
}
