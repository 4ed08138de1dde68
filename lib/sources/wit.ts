import { sha256Hex } from "../util/sha256.ts";
import { KitError } from "../util/kit_error.ts";
import { clipText, type SourceIssue, sourceIssue } from "./source_issue.ts";
import { headerIndex, readTsv } from "./text_io.ts";

/** D's nine languages ([D] §4.1), in the order of its tables. */
export const D_LANGUAGES = ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"] as const;

/** The columns of a WIT v1 TSV (`wit_v1.train.all-0000X-of-00010.tsv.gz`), in file order. */
export const WIT_COLUMNS = [
  "language",
  "page_url",
  "image_url",
  "page_title",
  "section_title",
  "hierarchical_section_title",
  "caption_reference_description",
  "caption_attribution_description",
  "caption_alt_text_description",
  "mime_type",
  "original_height",
  "original_width",
  "is_main_image",
  "attribution_passes_lang_id",
  "page_changed_recently",
  "context_page_description",
  "context_section_description",
] as const;

/** WIT v1's published splits; D's `build_webdataset.py` reads all three (`SPLIT_PATTERNS["full"]`). */
export const WIT_SPLITS = ["train", "val", "test"] as const;
export type WitSplit = (typeof WIT_SPLITS)[number];

/** Shards per split as published (`wit_v1.<split>.all-0000i-of-0000n.tsv.gz`). */
export const WIT_SHARDS: Readonly<Record<WitSplit, number>> = { train: 10, val: 5, test: 5 };

/** The published file name of one WIT v1 shard, e.g. `wit_v1.val.all-00003-of-00005.tsv.gz`. */
export function witShardFileName(split: WitSplit, index: number): string {
  const n = WIT_SHARDS[split];
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new KitError(`WIT ${split} has shards 0..${n - 1}, got ${index}`);
  }
  const pad = (i: number) => String(i).padStart(5, "0");
  return `wit_v1.${split}.all-${pad(index)}-of-${pad(n)}.tsv.gz`;
}

/** Every published shard file name, train then val then test (D's order). */
export function witShardFileNames(): string[] {
  return WIT_SPLITS.flatMap((s) =>
    Array.from({ length: WIT_SHARDS[s] }, (_, i) => witShardFileName(s, i))
  );
}

const SHARD_RE = /^wit_v1\.(train|val|test)\.all-\d+-of-\d+\.tsv(\.gz)?$/;

/**
 * The WIT v1 TSV shards in `dir` (plain or `.gz`) in D's reading order: the train shards, then
 * val, then test, each sorted by name (D's `list_tsvs_for_split("full")`). D builds its set from
 * all three splits, so a folder without a shard of one of them is an error naming the split and
 * the files to download (D's N = 2770, [D] §4.1, needs all of them).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { findWitShards, witShardFileNames } from "./wit.ts";
 * // the paper profile's `.cache/data/wit-v1` holds the published shards; here, empty stand-ins
 * const dir = await Deno.makeTempDir();
 * for (const name of witShardFileNames()) await Deno.writeFile(`${dir}/${name}`, new Uint8Array());
 * const files = await findWitShards(dir);
 * assert.deepEqual(files, witShardFileNames().map((n) => `${dir}/${n}`)); // train, val, test
 * for (const f of files.filter((f) => f.includes(".test."))) await Deno.remove(f);
 * await assert.rejects(() => findWitShards(dir), /holds no wit_v1\.test\.all-/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function findWitShards(dir: string): Promise<string[]> {
  const bySplit: Record<WitSplit, string[]> = { train: [], val: [], test: [] };
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = SHARD_RE.exec(e.name);
      if ((e.isFile || e.isSymlink) && m) bySplit[m[1] as WitSplit].push(e.name);
    }
  } catch (err) {
    throw new KitError(`WIT: cannot list ${dir} (${err instanceof Error ? err.message : err})`);
  }
  const missing = WIT_SPLITS.filter((s) => bySplit[s].length === 0);
  if (missing.length > 0) {
    throw new KitError(
      `WIT: ${dir} holds no ${missing.map((s) => `wit_v1.${s}.all-*.tsv(.gz)`).join(", ")}; ` +
        `paper D builds its set from the train, val and test shards`,
      missing.map((s) =>
        `download ${
          WIT_SHARDS[s]
        } ${s} shard(s), e.g. https://storage.googleapis.com/gresearch/wit/${
          witShardFileName(s, 0)
        }`
      ),
    );
  }
  return WIT_SPLITS.flatMap((s) => bySplit[s].sort().map((n) => `${dir}/${n}`));
}

/**
 * The URL D hashes: `http://upload.wikimedia.org/...` upgraded to `https://` (their
 * `normalize_url`); every other URL unchanged. WIT v1 URLs are already https, so this equals
 * D's `sha256(image_url)` key (mattiadri/crosslingual-contrastive@e2a8979 `build_webdataset.py`) on real data.
 */
export function normaliseWitUrl(url: string): string {
  return url.startsWith("http://upload.wikimedia.org/") ? `https://${url.slice(7)}` : url;
}

/**
 * D's stable image key: the first 20 hex characters of sha256 of the (normalised) image URL.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { witImageKey } from "./wit.ts";
 * assert(witImageKey("https://upload.wikimedia.org/a.jpg").length === 20);
 * ```
 */
export function witImageKey(imageUrl: string): string {
  return sha256Hex(normaliseWitUrl(imageUrl)).slice(0, 20);
}

/** One image of the WIT set: its key, URL and one caption per language. */
export interface WitRecord {
  key: string;
  imageUrl: string;
  /** Language → caption (the `field` column, trimmed). */
  captions: Record<string, string>;
  /** Language → page title of the row the caption came from. */
  pageTitles: Record<string, string>;
  /** The `mime_type` column of the first row kept. */
  mimeType: string;
}

/** Counts from a WIT scan (reported in DATA-T1 for the paper profile). */
export interface WitStats {
  rows: number;
  /** Rows in one of the languages with a non-empty caption in `field`. */
  usableRows: number;
  /** Distinct images with at least one usable row. */
  images: number;
  /** Images with a usable row in every language (the set kept). */
  imagesInAllLanguages: number;
  /** Usable rows that repeat an (image, language) pair; the first in file order is kept. */
  duplicateRows: number;
}

export interface WitOptions {
  /** Languages required (default D's nine). */
  languages?: readonly string[];
  /** Caption column (default `caption_reference_description`, as D). */
  field?: string;
  /** Source name in issues. */
  source?: string;
}

const MAX_LISTED = 1000;

/**
 * Reads WIT v1 TSV files (plain or `.gz`, streamed twice: first the language coverage of every
 * image, then the captions of the images kept) with D's rules: rows whose `language` is one of
 * the nine and whose `caption_reference_description` is non-empty after trimming; only images
 * with such a row in **all** languages; key = `sha256(image_url)[:20]`; records sorted by key,
 * so row i is the same image in every language. Where an image has several rows in a language
 * the first (files in the given order, then rows) is kept — D's code keeps an arbitrary one.
 */
export async function loadWitCaptions(
  paths: readonly string[],
  opts: WitOptions = {},
): Promise<{ records: WitRecord[]; stats: WitStats; issues: SourceIssue[] }> {
  const languages = opts.languages ?? D_LANGUAGES;
  const field = opts.field ?? "caption_reference_description";
  const source = opts.source ?? "wit";
  if (languages.length > 31) {
    throw new KitError(`WIT: at most 31 languages at once, got ${languages.length}`);
  }
  const bit = new Map(languages.map((l, i) => [l, 1 << i]));
  const full = (1 << languages.length) - 1;
  const issues: SourceIssue[] = [];
  const listed = new Map<string, number>();
  const issue = (file: string, reason: string, line: number, detail: string) => {
    const n = (listed.get(reason) ?? 0) + 1;
    listed.set(reason, n);
    if (n <= MAX_LISTED) issues.push(sourceIssue(source, file, reason, { line, detail }));
  };
  const stats: WitStats = {
    rows: 0,
    usableRows: 0,
    images: 0,
    imagesInAllLanguages: 0,
    duplicateRows: 0,
  };

  async function* usableRows(pass: 1 | 2) {
    for (const path of paths) {
      let idx: Map<string, number> | null = null;
      for await (const rec of readTsv(path, { quote: '"' })) {
        if (idx === null) {
          idx = headerIndex(path, rec.fields, ["language", "image_url", field]);
          continue;
        }
        if (pass === 1) stats.rows++;
        if (rec.fields.length < idx.size) {
          if (pass === 1) {
            issue(
              path,
              "malformed row",
              rec.line,
              `${rec.fields.length} fields, header has ${idx.size}`,
            );
          }
          continue;
        }
        const lang = rec.fields[idx.get("language")!]!.trim();
        if (!bit.has(lang)) continue;
        const url = rec.fields[idx.get("image_url")!]!.trim();
        const caption = rec.fields[idx.get(field)!]!.trim();
        if (url === "" || caption === "") continue;
        yield { path, line: rec.line, lang, url, caption, fields: rec.fields, idx };
      }
    }
  }

  const masks = new Map<string, number>();
  for await (const r of usableRows(1)) {
    stats.usableRows++;
    const key = witImageKey(r.url);
    const m = masks.get(key) ?? 0;
    const b = bit.get(r.lang)!;
    if (m & b) stats.duplicateRows++;
    masks.set(key, m | b);
  }
  stats.images = masks.size;
  const keep = new Set<string>();
  for (const [k, m] of masks) if (m === full) keep.add(k);
  masks.clear();
  stats.imagesInAllLanguages = keep.size;

  const records = new Map<string, WitRecord>();
  for await (const r of usableRows(2)) {
    const key = witImageKey(r.url);
    if (!keep.has(key)) continue;
    let rec = records.get(key);
    if (!rec) {
      const mime = r.idx.get("mime_type");
      rec = {
        key,
        imageUrl: r.url,
        captions: {},
        pageTitles: {},
        mimeType: mime === undefined ? "" : r.fields[mime] ?? "",
      };
      records.set(key, rec);
    } else if (normaliseWitUrl(rec.imageUrl) !== normaliseWitUrl(r.url)) {
      issue(
        r.path,
        "key collision",
        r.line,
        `${clipText(r.url)} and ${clipText(rec.imageUrl)} share key ${key}`,
      );
      continue;
    }
    if (r.lang in rec.captions) continue;
    rec.captions[r.lang] = r.caption;
    const pt = r.idx.get("page_title");
    rec.pageTitles[r.lang] = pt === undefined ? "" : (r.fields[pt] ?? "").trim();
  }
  for (const [reason, n] of listed) {
    if (n > MAX_LISTED) {
      issues.push(
        sourceIssue(source, paths.join(", "), reason, {
          detail: `${n - MAX_LISTED} more not listed`,
        }),
      );
    }
  }
  const sorted = [...records.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { records: sorted, stats, issues };
}
