import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { type SourceIssue, sourceIssue } from "./source_issue.ts";
import { normaliseStampLocale } from "./tuxpaint_stamps.ts";
import { pathExists } from "./text_io.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { sha256Hex } from "../util/sha256.ts";

/** The emoji drawing sets the kit reads (one image per emoji and set). */
export const EMOJI_DRAWING_SETS = ["twemoji", "noto", "fluent-emoji-flat"] as const;
export type EmojiDrawingSet = typeof EMOJI_DRAWING_SETS[number];

/**
 * The kit's concept id of an emoji code point sequence written as hex numbers separated by `-`
 * or `_` (file names of Twemoji, keys of Iconify's `chars.json`): lower-case hex without leading
 * zeros, joined by `-`, with every U+FE0F variation selector removed — so CLDR's `☺️` and a
 * drawing file `263a.svg` meet on `263a`. Throws a KitError on anything that is not hex.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { normaliseEmojiSequence } from "./cldr_emoji.ts";
 * assert(normaliseEmojiSequence("1F3F3-FE0F-200D-1F308") === "1f3f3-200d-1f308");
 * assert(normaliseEmojiSequence("00a9") === "a9");
 * ```
 */
export function normaliseEmojiSequence(seq: string): string {
  const parts = seq.trim().split(/[-_]/);
  const out: string[] = [];
  for (const p of parts) {
    if (!/^[0-9A-Fa-f]{1,6}$/.test(p)) {
      throw new KitError(`emoji sequence "${seq}": "${p}" is not a hex code point`);
    }
    const cp = parseInt(p, 16);
    if (cp !== 0xfe0f) out.push(cp.toString(16));
  }
  if (out.length === 0) throw new KitError(`emoji sequence "${seq}" holds no code point`);
  return out.join("-");
}

/**
 * The concept id of an emoji written as characters (CLDR's keys): its code points as in
 * `normaliseEmojiSequence`, U+FE0F removed.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { emojiConceptId } from "./cldr_emoji.ts";
 * assert(emojiConceptId("☺️") === "263a");
 * assert(emojiConceptId("🐈") === "1f408");
 * ```
 */
export function emojiConceptId(emoji: string): string {
  const cps = [...emoji].map((c) => c.codePointAt(0)!).filter((cp) => cp !== 0xfe0f);
  if (cps.length === 0) throw new KitError(`emoji "${emoji}" holds no code point`);
  return cps.map((cp) => cp.toString(16)).join("-");
}

/** The emoji characters of a concept id (without variation selectors). */
export function emojiFromConceptId(concept: string): string {
  return String.fromCodePoint(...concept.split("-").map((h) => parseInt(h, 16)));
}

/**
 * Normalises a CLDR locale (`zh-Hant`, `pt-PT`, `ca-ES-valencia`) with the stamps' rules:
 * `-` becomes `_`, CLDR's `ca-ES-valencia` is written `ca@valencia` as in Tux Paint, then
 * `normaliseStampLocale` (language lower-case, region upper-case, `zh_CN` → `zh`). Codes the
 * stamps' pattern does not cover (`sr_Cyrl_BA`, `es_419`) are kept as written with `_`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { normaliseCldrLocale } from "./cldr_emoji.ts";
 * assert(normaliseCldrLocale("pt-PT") === "pt_PT");
 * assert(normaliseCldrLocale("ca-ES-valencia") === "ca@valencia");
 * assert(normaliseCldrLocale("zh") === "zh");
 * ```
 */
export function normaliseCldrLocale(code: string): string {
  const u = code.replaceAll("-", "_");
  if (/^ca_ES_valencia$/i.test(u)) return "ca@valencia";
  return normaliseStampLocale(u);
}

/** CLDR's emoji annotations as the kit reads them. */
export interface CldrEmojiAnnotations {
  root: string;
  /** Normalised locales with at least one name, sorted. */
  locales: string[];
  /** Normalised locale → the CLDR folder it was read from (`pt_PT` → `pt-PT`). */
  writtenLocales: Record<string, string>;
  /** Concept id → locale → the CLDR `tts` short name. */
  names: Map<string, Record<string, string>>;
  /** Concept id → locale → CLDR keywords (`default`), the extra text beside the name. */
  keywords: Map<string, Record<string, string[]>>;
  /** Every `annotations.json` read, relative to `root`, for input checksums. */
  files: string[];
  issues: SourceIssue[];
}

interface CldrAnnotationFile {
  annotations?: {
    identity?: unknown;
    annotations?: Record<string, { default?: unknown; tts?: unknown }>;
  };
}

function stringList(v: unknown): string[] {
  return Array.isArray(v)
    ? v.filter((x): x is string => typeof x === "string" && x.trim() !== "").map((x) => x.trim())
    : [];
}

/**
 * Reads CLDR's emoji annotations (`<root>/annotations/<locale>/annotations.json`, the layout of
 * npm `cldr-annotations-full`): per locale, the `tts` short name and the `default` keywords of
 * every annotated character, keyed by concept id (`emojiConceptId`). Locales are normalised
 * (`normaliseCldrLocale`). A locale folder without a file, a locale with no names (CLDR's root
 * `und`), the entries of a file without a `tts` name (one issue per file, with their count) and a
 * second entry of the same concept in a locale (the first is kept) are issues; a file that is
 * not JSON is a KitError naming it.
 */
export async function loadCldrEmojiAnnotations(
  root: string,
  source = "cldr-emoji",
): Promise<CldrEmojiAnnotations> {
  const dir = join(root, "annotations");
  if (!(await pathExists(dir))) {
    throw new KitError(`CLDR annotations: ${dir} does not exist`, [
      "expected the layout of npm cldr-annotations-full: annotations/<locale>/annotations.json",
    ]);
  }
  const folders: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) folders.push(e.name);
  folders.sort();
  const names = new Map<string, Record<string, string>>();
  const keywords = new Map<string, Record<string, string[]>>();
  const writtenLocales: Record<string, string> = {};
  const files: string[] = [];
  const issues: SourceIssue[] = [];
  for (const folder of folders) {
    const rel = `annotations/${folder}/annotations.json`;
    const path = join(root, rel);
    if (!(await pathExists(path))) {
      issues.push(sourceIssue(source, `annotations/${folder}`, "locale without annotations.json"));
      continue;
    }
    files.push(rel);
    let parsed: CldrAnnotationFile;
    try {
      parsed = JSON.parse(await Deno.readTextFile(path)) as CldrAnnotationFile;
    } catch (err) {
      throw new KitError(
        `CLDR annotations ${path}: not valid JSON (${err instanceof Error ? err.message : err})`,
      );
    }
    const entries = parsed.annotations?.annotations;
    const locale = normaliseCldrLocale(folder);
    if (!entries || Object.keys(entries).length === 0) {
      issues.push(sourceIssue(source, rel, "locale without names", {
        action: "skipped",
        detail: `${folder} has no annotations (CLDR's root locale, or empty)`,
      }));
      continue;
    }
    if (writtenLocales[locale] !== undefined) {
      issues.push(sourceIssue(source, rel, "duplicate locale", {
        detail: `${folder} normalises to ${locale}, already read from ${
          writtenLocales[locale]
        }; the first is kept`,
      }));
      continue;
    }
    writtenLocales[locale] = folder;
    const seen = new Map<string, string>();
    const noName: string[] = [];
    for (const [chars, v] of Object.entries(entries)) {
      const concept = emojiConceptId(chars);
      const tts = stringList(v.tts);
      if (tts.length === 0) {
        noName.push(chars);
        continue;
      }
      const prev = seen.get(concept);
      if (prev !== undefined) {
        issues.push(sourceIssue(source, rel, "duplicate emoji", {
          detail:
            `${chars} and ${prev} are both ${concept} without variation selectors; the first is kept`,
        }));
        continue;
      }
      seen.set(concept, chars);
      const n = names.get(concept) ?? {};
      n[locale] = tts[0]!;
      names.set(concept, n);
      const kw = stringList(v.default);
      if (kw.length > 0) {
        const k = keywords.get(concept) ?? {};
        k[locale] = kw;
        keywords.set(concept, k);
      }
    }
    if (noName.length > 0) {
      // One issue per locale file: regional locales (en-GB, de-CH) override keywords only.
      issues.push(sourceIssue(source, rel, "entries without tts name", {
        action: "skipped",
        detail: `${noName.length} entries with keywords but no short name, e.g. ${
          noName.slice(0, 8).join(" ")
        }`,
      }));
    }
  }
  const named = new Set<string>();
  for (const n of names.values()) for (const l of Object.keys(n)) named.add(l);
  const locales = Object.keys(writtenLocales).filter((l) => named.has(l)).sort();
  return { root, locales, writtenLocales, names, keywords, files, issues };
}

/** One drawing set: concept id → its SVG (a file, or markup built from Iconify JSON). */
export interface EmojiDrawings {
  set: EmojiDrawingSet;
  root: string;
  /** Concept id → SVG markup or file path (see `kind`). */
  drawings: Map<string, string>;
  /** `file`: values are file paths relative to `root`; `markup`: values are SVG documents. */
  kind: "file" | "markup";
  /** Files read (relative to `root`), for input checksums. */
  files: string[];
  issues: SourceIssue[];
}

/**
 * Lists Twemoji's SVG files (`<root>/<hex>-<hex>.svg`, npm `@twemoji/svg`) by concept id. Two
 * files of the same concept (one with `-fe0f`, one without) keep the first by name; a file name
 * that is not a code point sequence is an issue.
 */
export async function loadTwemojiSvgs(root: string, source = "cldr-emoji"): Promise<EmojiDrawings> {
  if (!(await pathExists(root))) throw new KitError(`Twemoji SVGs: ${root} does not exist`);
  const names: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isFile && e.name.endsWith(".svg")) names.push(e.name);
  }
  names.sort();
  const drawings = new Map<string, string>();
  const issues: SourceIssue[] = [];
  for (const name of names) {
    let concept: string;
    try {
      concept = normaliseEmojiSequence(name.slice(0, -4));
    } catch {
      issues.push(sourceIssue(source, `twemoji/${name}`, "file name not an emoji sequence"));
      continue;
    }
    if (drawings.has(concept)) {
      issues.push(sourceIssue(source, `twemoji/${name}`, "duplicate drawing", {
        action: "skipped",
        detail: `${drawings.get(concept)} is also ${concept}; the first is kept`,
      }));
      continue;
    }
    drawings.set(concept, name);
  }
  return { set: "twemoji", root, drawings, kind: "file", files: [...drawings.values()], issues };
}

interface IconifyIcon {
  body?: unknown;
  width?: unknown;
  height?: unknown;
  left?: unknown;
  top?: unknown;
  hFlip?: unknown;
  vFlip?: unknown;
  rotate?: unknown;
}

/**
 * Builds a standalone SVG document from an Iconify icon (`body` inside a `viewBox` of the icon's
 * or the set's `left top width height`); `hFlip`/`vFlip` become a mirroring transform.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { iconifySvg } from "./cldr_emoji.ts";
 * const s = iconifySvg({ body: "<circle cx='8' cy='8' r='8'/>" }, { width: 16, height: 16 });
 * assert(s.startsWith("<svg") && s.includes('viewBox="0 0 16 16"'));
 * ```
 */
export function iconifySvg(
  icon: {
    body: string;
    width?: number;
    height?: number;
    left?: number;
    top?: number;
    hFlip?: boolean;
    vFlip?: boolean;
  },
  defaults: { width: number; height: number },
): string {
  const w = icon.width ?? defaults.width;
  const h = icon.height ?? defaults.height;
  const l = icon.left ?? 0;
  const t = icon.top ?? 0;
  let body = icon.body;
  if (icon.hFlip || icon.vFlip) {
    const sx = icon.hFlip ? -1 : 1;
    const sy = icon.vFlip ? -1 : 1;
    const tx = icon.hFlip ? 2 * l + w : 0;
    const ty = icon.vFlip ? 2 * t + h : 0;
    body = `<g transform="translate(${tx} ${ty}) scale(${sx} ${sy})">${body}</g>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}" viewBox="${l} ${t} ${w} ${h}">${body}</svg>`;
}

/**
 * Reads an Iconify emoji set (`<root>/icons.json` + `chars.json`, npm `@iconify-json/<set>`):
 * concept id → standalone SVG. Aliases resolve to their parent (with `hFlip`/`vFlip`); an alias
 * with a rotation, an icon without a body, or a second code point sequence of the same concept
 * (the first by sequence is kept) is an issue.
 */
export async function loadIconifyEmojiSet(
  root: string,
  set: EmojiDrawingSet,
  source = "cldr-emoji",
): Promise<EmojiDrawings> {
  const read = async (f: string) => {
    try {
      return JSON.parse(await Deno.readTextFile(join(root, f)));
    } catch (err) {
      throw new KitError(`Iconify set ${set}: cannot read ${join(root, f)} as JSON`, [
        err instanceof Error ? err.message : String(err),
      ]);
    }
  };
  const icons = await read("icons.json") as {
    icons?: Record<string, IconifyIcon>;
    aliases?: Record<string, IconifyIcon & { parent?: unknown }>;
    width?: unknown;
    height?: unknown;
  };
  const chars = await read("chars.json") as Record<string, unknown>;
  if (!icons.icons) {
    throw new KitError(`Iconify set ${set}: ${join(root, "icons.json")} has no "icons"`);
  }
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const defaults = { width: num(icons.width) ?? 16, height: num(icons.height) ?? 16 };
  const drawings = new Map<string, string>();
  const issues: SourceIssue[] = [];
  const file = `${set}/chars.json`;
  for (const seq of Object.keys(chars).sort()) {
    const name = chars[seq];
    if (typeof name !== "string") continue;
    let concept: string;
    try {
      concept = normaliseEmojiSequence(seq);
    } catch {
      issues.push(sourceIssue(source, file, "key not an emoji sequence", { detail: seq }));
      continue;
    }
    if (drawings.has(concept)) {
      issues.push(sourceIssue(source, file, "duplicate drawing", {
        action: "skipped",
        detail: `${seq} (${name}) is also ${concept}; the first is kept`,
      }));
      continue;
    }
    let icon = icons.icons[name];
    let hFlip = false, vFlip = false;
    if (!icon) {
      const alias = icons.aliases?.[name];
      const parent = typeof alias?.parent === "string" ? icons.icons[alias.parent] : undefined;
      if (!alias || !parent) {
        issues.push(sourceIssue(source, file, "icon missing", { detail: `${seq} → ${name}` }));
        continue;
      }
      if (alias.rotate) {
        issues.push(sourceIssue(source, file, "unsupported alias transform", {
          detail: `${name}: rotate ${alias.rotate}`,
        }));
        continue;
      }
      hFlip = alias.hFlip === true;
      vFlip = alias.vFlip === true;
      icon = parent;
    }
    if (typeof icon.body !== "string" || icon.body.trim() === "") {
      issues.push(sourceIssue(source, file, "icon without body", { detail: name }));
      continue;
    }
    const svg = iconifySvg({
      body: icon.body,
      ...(num(icon.width) !== undefined ? { width: num(icon.width) } : {}),
      ...(num(icon.height) !== undefined ? { height: num(icon.height) } : {}),
      ...(num(icon.left) !== undefined ? { left: num(icon.left) } : {}),
      ...(num(icon.top) !== undefined ? { top: num(icon.top) } : {}),
      hFlip: hFlip !== (icon.hFlip === true),
      vFlip: vFlip !== (icon.vFlip === true),
    }, defaults);
    drawings.set(concept, svg);
  }
  return { set, root, drawings, kind: "markup", files: ["icons.json", "chars.json"], issues };
}

/**
 * CLDR names of the given concepts as **monolingual** text: locale → the names of those concepts
 * that the locale has, each locale's list shuffled with its own seeded order (seed and locale),
 * so that no position pairs a name with its translation in another locale — a pretraining corpus
 * must not learn from translations. Locales with fewer than `minNames` names are left out
 * (default 1). Same seed → same lists.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { monolingualEmojiNames } from "./cldr_emoji.ts";
 * const names = new Map<string, Record<string, string>>([["1f408", { en: "cat", de: "Katze" }]]);
 * names.set("1f415", { en: "dog" });
 * const a = { names };
 * const m = monolingualEmojiNames(a, ["1f408", "1f415"], { seed: 1 });
 * assert(m.en!.length === 2 && m.de!.length === 1);
 * ```
 */
export function monolingualEmojiNames(
  annotations: Pick<CldrEmojiAnnotations, "names">,
  concepts: Iterable<string>,
  opts: { seed: number; minNames?: number },
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of [...new Set(concepts)].sort()) {
    const n = annotations.names.get(c);
    if (!n) continue;
    for (const [locale, name] of Object.entries(n)) (out[locale] ??= []).push(name);
  }
  const min = opts.minNames ?? 1;
  const result: Record<string, string[]> = {};
  for (const locale of Object.keys(out).sort()) {
    const list = out[locale]!;
    if (list.length < min) continue;
    const seed = parseInt(sha256Hex(`${opts.seed}:${locale}`).slice(0, 8), 16) | 0;
    const rng = new SeededRandom(seed);
    for (let i = list.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    result[locale] = list;
  }
  return result;
}
