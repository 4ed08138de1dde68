import { join } from "node:path";
import { kitConfig } from "../config/kit_config.ts";
import type { Partition, SampleRecord } from "../dataset_build/sample.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/sha256.ts";
import { KitError } from "../util/kit_error.ts";
import { translationCacheDir } from "./translation_cache.ts";
import type { Translator } from "./translator.ts";

/** K's caption languages. */
export type CaptionLang = "en" | "es" | "ja" | "hi" | "qu";
export const CAPTION_LANGUAGES: readonly CaptionLang[] = ["en", "es", "ja", "hi", "qu"];

/** Where a caption came from: the dataset's human caption, or an engine (its signature) translating language `from`. */
export type CaptionOrigin = { kind: "human" } | { kind: "machine"; engine: string; from: string };

/**
 * K's caption record as notebook 01 writes it for training (the shared contract): one image
 * (dataset key) with its partition, its captions per language and where each came from.
 */
export interface CaptionRecord {
  image_id: string;
  partition: Partition;
  captions: Partial<Record<CaptionLang, string>>;
  origin: Partial<Record<CaptionLang, CaptionOrigin>>;
}

/** How one language's captions are obtained. */
export type CaptionSource =
  | { kind: "human" }
  | { kind: "machine"; translator: Translator; from: CaptionLang };

/** The parts of a dataset sample the records need. */
export type CaptionedSample = Pick<SampleRecord, "key" | "partition" | "captions">;

/**
 * Builds caption records from dataset samples: a `human` language copies the sample's own first
 * caption in it (absent when it has none); a `machine` language translates the sample's human
 * caption in `from` with `translator` (one batched call per language; pass a cached translator so
 * a rerun calls no engine). Records are sorted by image key.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildCaptionRecords } from "./caption_records.ts";
 * const recs = await buildCaptionRecords(
 *   [{ key: "k1", partition: "train", captions: { en: ["A cat."] } }],
 *   { en: { kind: "human" } },
 * );
 * assert(recs[0]!.captions.en === "A cat." && recs[0]!.origin.en!.kind === "human");
 * ```
 */
export async function buildCaptionRecords(
  samples: readonly CaptionedSample[],
  plan: Partial<Record<CaptionLang, CaptionSource>>,
): Promise<CaptionRecord[]> {
  const sorted = [...samples].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const records: CaptionRecord[] = sorted.map((s) => ({
    image_id: s.key,
    partition: s.partition,
    captions: {},
    origin: {},
  }));
  for (const lang of CAPTION_LANGUAGES) {
    const src = plan[lang];
    if (!src) continue;
    if (src.kind === "human") {
      sorted.forEach((s, i) => {
        const text = s.captions[lang]?.[0]?.trim();
        if (text) {
          records[i]!.captions[lang] = text;
          records[i]!.origin[lang] = { kind: "human" };
        }
      });
      continue;
    }
    const idx: number[] = [];
    const texts: string[] = [];
    sorted.forEach((s, i) => {
      const text = s.captions[src.from]?.[0]?.trim();
      if (text) {
        idx.push(i);
        texts.push(text);
      }
    });
    const out = await src.translator.translate(texts, src.from, lang, {
      progress: `captions ${src.from}→${lang}`,
    });
    idx.forEach((i, j) => {
      const t = out[j]!.trim();
      if (t === "") return;
      records[i]!.captions[lang] = t;
      records[i]!.origin[lang] = {
        kind: "machine",
        engine: src.translator.signature,
        from: src.from,
      };
    });
  }
  return records;
}

/** The file notebook 01 writes the records to: `<cache>/translation/records/<profile>[-smoke]/caption_records.json`. */
export function captionRecordsPath(opts: { smoke?: boolean; profile?: string } = {}): string {
  const cfg = kitConfig();
  const smoke = opts.smoke ?? cfg.smoke;
  const profile = opts.profile ?? cfg.profile;
  return join(
    translationCacheDir(),
    "records",
    `${profile}${smoke ? "-smoke" : ""}`,
    "caption_records.json",
  );
}

/** The records file's content. */
export interface CaptionRecordsFile {
  format: 1;
  /** The dataset the records come from (its config hash). */
  dataset: string;
  /** Language → engine signature or `human`. */
  sources: Record<string, string>;
  records: CaptionRecord[];
  /**
   * sha256 (hex) of `JSON.stringify({dataset, sources, records})`: checked on load, so a damaged
   * file is named instead of silently training other models. Absent in files written before it.
   */
  content_sha256?: string;
}

/** The hash stored in (and checked against) a records file. */
function recordsContentHash(
  f: Pick<CaptionRecordsFile, "dataset" | "sources" | "records">,
): string {
  return sha256Hex(JSON.stringify({ dataset: f.dataset, sources: f.sources, records: f.records }));
}

/** Writes the records atomically (for `loadCaptionRecords`); returns the path. */
export async function writeCaptionRecords(
  records: CaptionRecord[],
  meta: { dataset: string; sources: Record<string, string> },
  opts: { smoke?: boolean; profile?: string; path?: string } = {},
): Promise<string> {
  const path = opts.path ?? captionRecordsPath(opts);
  const file: CaptionRecordsFile = {
    format: 1,
    dataset: meta.dataset,
    sources: meta.sources,
    records,
  };
  file.content_sha256 = recordsContentHash(file);
  await atomicWriteJson(path, file);
  return path;
}

/**
 * K's caption records written by notebook 01 (mini: en/ja/hi human stamp captions, es by
 * Apertium, qu by the gloss engine through Spanish; each caption marked human or machine with the
 * engine signature; partition from the dataset). Throws a KitError "run notebook 01 first" when
 * the file is absent.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CaptionRecord } from "./caption_records.ts";
 * import { loadCaptionRecords, writeCaptionRecords } from "./caption_records.ts";
 * // in a notebook after 01: `await loadCaptionRecords()`; here a file this example writes
 * const path = `${await Deno.makeTempDir()}/caption_records.json`;
 * await assert.rejects(() => loadCaptionRecords({ path }), /run notebook 01 first/);
 * const record: CaptionRecord = {
 *   image_id: "0123456789abcdef0123",
 *   partition: "train",
 *   captions: { en: "a red car", es: "un coche rojo" },
 *   origin: { en: { kind: "human" }, es: { kind: "machine", engine: "toy", from: "en" } },
 * };
 * await writeCaptionRecords([record], { dataset: "toy", sources: {} }, { path });
 * const records = await loadCaptionRecords({ path });
 * assert.deepEqual(records, [record]);
 * assert.equal(records.filter((r) => r.partition === "train" && r.captions.qu).length, 0);
 * await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
 * ```
 */
export async function loadCaptionRecords(
  opts: { smoke?: boolean; profile?: string; path?: string } = {},
): Promise<CaptionRecord[]> {
  const path = opts.path ?? captionRecordsPath(opts);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new KitError(`caption records not found at ${path}: run notebook 01 first`, [
        `./kit task reproduce --only 01${(opts.smoke ?? kitConfig().smoke) ? " --smoke" : ""}`,
      ]);
    }
    throw err;
  }
  let file: CaptionRecordsFile;
  try {
    file = JSON.parse(text);
  } catch {
    throw new KitError(`${path}: not valid JSON; delete it and run notebook 01 again`);
  }
  if (file.format !== 1 || !Array.isArray(file.records)) {
    throw new KitError(
      `${path}: expected {format: 1, records: [...]}; delete it and run notebook 01 again`,
    );
  }
  if (file.content_sha256 === undefined) {
    console.error(`${path}: written before content hashes (notebook 01 adds one when it reruns)`);
  } else if (recordsContentHash(file) !== file.content_sha256) {
    throw new KitError(
      `${path}: damaged (its records do not match the content_sha256 written with them)`,
      [`delete it and run notebook 01 again: ./kit task reproduce --only 01`],
    );
  }
  return file.records;
}
