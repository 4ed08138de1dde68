import { basename, join, relative, resolve } from "node:path";
import { type DataRegistry, dataRegistry } from "../data/registry.ts";
import { KitError } from "../util/kit_error.ts";
import { loadTuxPaintStamps } from "../sources/tuxpaint_stamps.ts";
import { cocoFileName, loadCocoCaptions } from "../sources/coco_captions.ts";
import { groupCaptionRecords, loadCaptionRecords } from "../sources/caption_records.ts";
import { D_LANGUAGES, loadWitCaptions, type WitRecord } from "../sources/wit.ts";
import { type SourceIssue, sourceIssue } from "../sources/source_issue.ts";
import { sha256Hex } from "../util/sha256.ts";
import { paperWitImagesDir, paperWitShards } from "./paper_wit_images.ts";
import { pathExists } from "../sources/text_io.ts";
import {
  type CandidateSample,
  type DatasetSource,
  type LoadedSource,
  sampleKey,
} from "./sample.ts";

function rel(root: string, p: string): string {
  return relative(root, p).split("\\").join("/");
}

/**
 * Tux Paint stamps as a dataset source: one sample per stamp with an image, captions from its
 * `.txt` (one per language, codes normalised: `zh_CN` → `zh`), key = sampleKey(source, stamp
 * path). `root` defaults to the registry's `tuxpaint-stamps` (cache, then mirror).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tuxPaintSource } from "./dataset_sources.ts";
 * const loaded = await tuxPaintSource().load(); // the mini data's stamps, through the registry
 * assert.equal(loaded.dataset, "tuxpaint-stamps");
 * assert(loaded.candidates.length > 100);
 * assert(loaded.candidates.every((c) => c.key.length === 20 && c.captions.en !== undefined));
 * ```
 */
export function tuxPaintSource(
  opts: { root?: string; registry?: DataRegistry; name?: string } = {},
): DatasetSource {
  const name = opts.name ?? "tuxpaint-stamps";
  return {
    name,
    async load(): Promise<LoadedSource> {
      const root = resolve(
        opts.root ?? (await (opts.registry ?? dataRegistry()).resolve("tuxpaint-stamps")).root,
      );
      const t = await loadTuxPaintStamps(root);
      const candidates: CandidateSample[] = t.stamps.map((s) => ({
        key: sampleKey(name, s.id),
        source: name,
        sourceId: s.id,
        imagePath: join(root, s.imagePath),
        imageFile: s.imagePath,
        captions: Object.fromEntries(Object.entries(s.captions).map(([l, c]) => [l, [c]])),
        meta: { category: s.category, description: s.descriptionPath },
      }));
      return {
        name,
        dataset: opts.root ? null : "tuxpaint-stamps",
        root,
        candidates,
        issues: t.issues.map((i) => ({ ...i, source: name })),
        inputFiles: t.descriptionFiles.map((f) => join(root, f)),
        options: { kind: "tuxpaint-stamps", prefer: "png" },
      };
    },
  };
}

/**
 * MS-COCO images with their English captions (official caption JSON), e.g. the mirror's 51
 * CC-licensed images (`coco-subset`: `captions_subset.json` + `images/`). Images are looked up
 * as `<imagesDir>/<file_name>`, then `<imagesDir>/<split>/<file_name>`; a missing image is a
 * rejected issue. Key = sampleKey(source, COCO id).
 */
export function cocoSource(opts: {
  root?: string;
  captionsFile?: string;
  imagesDir?: string;
  registry?: DataRegistry;
  name?: string;
} = {}): DatasetSource {
  const name = opts.name ?? "coco";
  return {
    name,
    async load(): Promise<LoadedSource> {
      const root = resolve(
        opts.root ?? (await (opts.registry ?? dataRegistry()).resolve("coco-subset")).root,
      );
      const captionsPath = resolve(root, opts.captionsFile ?? "captions_subset.json");
      const imagesDir = resolve(root, opts.imagesDir ?? "images");
      const coco = await loadCocoCaptions(captionsPath, name);
      const issues = coco.issues.map((i) => ({ ...i, file: rel(root, captionsPath) }));
      const candidates: CandidateSample[] = [];
      for (const im of coco.images) {
        if (im.captions.length === 0) {
          issues.push(
            sourceIssue(name, rel(root, captionsPath), "image without captions", {
              detail: `image ${im.id}`,
            }),
          );
          continue;
        }
        const tries = [
          join(imagesDir, im.fileName),
          ...(im.split ? [join(imagesDir, im.split, im.fileName)] : []),
        ];
        let path: string | null = null;
        for (const p of tries) {
          if (await pathExists(p)) {
            path = p;
            break;
          }
        }
        if (!path) {
          issues.push(
            sourceIssue(name, rel(root, tries[0]!), "image file missing", {
              detail: `COCO image ${im.id}`,
            }),
          );
          continue;
        }
        const lic = im.license === null ? undefined : coco.licenses.get(im.license);
        candidates.push({
          key: sampleKey(name, String(im.id)),
          source: name,
          sourceId: String(im.id),
          imagePath: path,
          imageFile: rel(root, path),
          captions: { en: im.captions.map((c) => c.caption) },
          meta: {
            cocoId: im.id,
            split: im.split,
            license: lic?.name ?? null,
            licenseUrl: lic?.url ?? null,
            flickrUrl: im.flickrUrl,
          },
        });
      }
      return {
        name,
        dataset: opts.root ? null : "coco-subset",
        root,
        candidates,
        issues,
        inputFiles: [captionsPath],
        options: {
          kind: "coco",
          captionsFile: rel(root, captionsPath),
          imagesDir: rel(root, imagesDir),
        },
      };
    },
  };
}

/**
 * K's translated caption records (`{image_id, captions: {en, es, ja, hi, qu?}}`, JSON or JSONL)
 * with a folder of COCO images named by id (`000000123456.jpg`, as K's code expects). Captions
 * of all records of an image are merged per language. Key = sampleKey(source, image id).
 */
export function captionRecordsSource(opts: {
  recordsFile: string;
  imagesDir: string;
  name?: string;
  languages?: readonly string[];
}): DatasetSource {
  const name = opts.name ?? "coco-translated";
  return {
    name,
    async load(): Promise<LoadedSource> {
      const recordsPath = resolve(opts.recordsFile);
      const root = resolve(opts.imagesDir);
      const { records, issues } = await loadCaptionRecords(recordsPath, name);
      const byFile = new Map<string, string>();
      for await (const e of Deno.readDir(root)) {
        const m = /^0*(\d+)\.(jpe?g|png)$/i.exec(e.name);
        if (e.isFile && m) byFile.set(m[1]!, e.name);
      }
      const candidates: CandidateSample[] = [];
      for (const [id, captions] of groupCaptionRecords(records)) {
        const kept = opts.languages
          ? Object.fromEntries(
            Object.entries(captions).filter(([l]) => opts.languages!.includes(l)),
          )
          : captions;
        const file = byFile.get(String(Number(id))) ??
          (/^\d+$/.test(id) ? undefined : byFile.get(id));
        if (!file) {
          issues.push(
            sourceIssue(name, cocoFileName(Number(id)), "image file missing", {
              detail: `no image for image_id ${id} in ${root}`,
            }),
          );
          continue;
        }
        candidates.push({
          key: sampleKey(name, id),
          source: name,
          sourceId: id,
          imagePath: join(root, file),
          imageFile: file,
          captions: kept,
          meta: { imageId: id },
        });
      }
      return {
        name,
        dataset: null,
        root,
        candidates,
        issues,
        inputFiles: [recordsPath],
        options: {
          kind: "caption-records",
          records: basename(recordsPath),
          languages: opts.languages ?? null,
        },
      };
    },
  };
}

/**
 * D's WIT set: WIT v1 TSVs read with D's rules (`loadWitCaptions`), or records already loaded
 * that way, with images taken from `imagesDir/<key>.<ext>` (see `downloadWitImages`). A record
 * without a downloaded image is a rejected issue (`image not downloaded`).
 */
export function witSource(opts: {
  /** WIT TSV files to scan (ignored when `records` are given). */
  tsvFiles?: readonly string[];
  /** Records from `loadWitCaptions` (saves scanning the TSVs twice). */
  records?: readonly WitRecord[];
  imagesDir: string;
  languages?: readonly string[];
  name?: string;
}): DatasetSource {
  const name = opts.name ?? "wit";
  return {
    name,
    async load(): Promise<LoadedSource> {
      const root = resolve(opts.imagesDir);
      const languages = opts.languages ?? D_LANGUAGES;
      let records: readonly WitRecord[];
      let stats: Record<string, number> | undefined;
      const issues: SourceIssue[] = [];
      if (opts.records) {
        records = opts.records;
      } else {
        if (!opts.tsvFiles || opts.tsvFiles.length === 0) {
          throw new KitError("WIT: give tsvFiles or records");
        }
        const wit = await loadWitCaptions(opts.tsvFiles.map((p) => resolve(p)), {
          languages,
          source: name,
        });
        records = wit.records;
        stats = { ...wit.stats };
        issues.push(...wit.issues);
      }
      const byKey = new Map<string, string>();
      if (await pathExists(root)) {
        for await (const e of Deno.readDir(root)) {
          const m = /^([0-9a-f]{20})\.[A-Za-z0-9]+$/.exec(e.name);
          if (e.isFile && m) byKey.set(m[1]!, e.name);
        }
      }
      const candidates: CandidateSample[] = [];
      for (const r of records) {
        const file = byKey.get(r.key);
        if (!file) {
          issues.push(
            sourceIssue(name, `${r.key}.*`, "image not downloaded", { detail: r.imageUrl }),
          );
          continue;
        }
        candidates.push({
          key: r.key,
          source: name,
          sourceId: r.imageUrl,
          imagePath: join(root, file),
          imageFile: file,
          captions: Object.fromEntries(Object.entries(r.captions).map(([l, c]) => [l, [c]])),
          meta: { imageUrl: r.imageUrl, mimeType: r.mimeType },
        });
      }
      const loaded: LoadedSource = {
        name,
        dataset: null,
        root,
        candidates,
        issues,
        inputFiles: opts.records ? [] : (opts.tsvFiles ?? []).map((p) => resolve(p)),
        options: { kind: "wit", tsv: (opts.tsvFiles ?? []).map((p) => basename(p)), languages },
      };
      if (opts.records) loaded.inputDigest = sha256Hex(canonicalRecords(records));
      if (stats) loaded.stats = stats;
      return loaded;
    },
  };
}

function canonicalRecords(records: readonly WitRecord[]): string {
  return records.map((r) =>
    JSON.stringify([
      r.key,
      r.imageUrl,
      Object.entries(r.captions).sort(([a], [b]) => (a < b ? -1 : 1)),
    ])
  ).join("\n");
}

/**
 * Paper profile, K's images: MS-COCO 2017 (`./kit task fetch mscoco-2017`) with the English
 * captions of `split`, or — when `translatedRecords` is given — K's translated caption records
 * (`{image_id, captions: {en, es, ja, hi, qu?}}`) over the same images. Throws the registry's
 * KitError (what to download, where to put it) when COCO is not there.
 */
export async function paperCocoSource(opts: {
  registry?: DataRegistry;
  split?: "train2017" | "val2017";
  translatedRecords?: string;
} = {}): Promise<DatasetSource> {
  const split = opts.split ?? "train2017";
  const reg = opts.registry ?? dataRegistry();
  const r = await reg.resolve("mscoco-2017", {
    requiredPaths: [`annotations/captions_${split}.json`, split],
  });
  if (opts.translatedRecords) {
    return captionRecordsSource({
      recordsFile: opts.translatedRecords,
      imagesDir: join(r.root, split),
      name: `coco-${split}-translated`,
    });
  }
  return cocoSource({
    root: r.root,
    captionsFile: `annotations/captions_${split}.json`,
    imagesDir: split,
    name: `coco-${split}`,
  });
}

/**
 * Paper profile, D's images: the WIT v1 TSVs of the registry (`./kit task fetch wit-v1`) — the
 * train, val and test shards, all three as D reads them (`findWitShards`) — with images from
 * `imagesDir` (default `paperWitImagesDir()`, `<cache>/wit-images`, where `./kit task fetch
 * wit-v1` downloads them: `downloadPaperWitImages`). Throws the registry's KitError when the TSVs
 * are not there.
 */
export async function paperWitSource(
  opts: { registry?: DataRegistry; imagesDir?: string } = {},
): Promise<DatasetSource> {
  const { root, tsvFiles } = await paperWitShards(opts.registry);
  const imagesDir = opts.imagesDir ?? paperWitImagesDir();
  const source = witSource({ tsvFiles, imagesDir });
  return {
    ...source,
    async load(): Promise<LoadedSource> {
      const loaded = await source.load();
      const kept = loaded.candidates.length +
        loaded.issues.filter((i) => i.reason === "image not downloaded").length;
      if (kept > 0 && loaded.candidates.length === 0) {
        // a set without images is never D's: say how to get them instead of building it
        throw new KitError(
          `WIT: none of the ${kept} images of D's set (a caption in all nine languages in ${root}) is in ${imagesDir}`,
          [
            "download them with `./kit task fetch wit-v1` (from each row's image_url; rerun to resume)",
            "or put them there yourself as <key>.<ext>, key = sha256(image_url)[:20] (witImageKey)",
          ],
        );
      }
      return loaded;
    },
  };
}
