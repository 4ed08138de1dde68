import { join } from "node:path";
import { type DataRegistry, dataRegistry } from "../data/registry.ts";
import { findWitShards, loadWitCaptions } from "../sources/wit.ts";
import { downloadWitImages, type WitDownloadOptions } from "../sources/wit_image_download.ts";
import type { SourceIssue } from "../sources/source_issue.ts";
import { KitError } from "../util/kit_error.ts";
import { cacheDir } from "../util/paths.ts";

/**
 * Where the paper profile keeps D's WIT images, `<cache>/wit-images/<key>.<ext>`
 * (`KIT_CACHE_DIR` moves it with the rest of the cache). `paperWitSource` reads them from here and
 * `downloadPaperWitImages` writes them here.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { paperWitImagesDir } from "./paper_wit_images.ts";
 * assert(paperWitImagesDir().endsWith("wit-images"));
 * ```
 */
export function paperWitImagesDir(): string {
  return join(cacheDir(), "wit-images");
}

/** What `downloadPaperWitImages` did. */
export interface PaperWitImagesResult {
  /** Images of D's set (a caption in all nine languages) in the shards. */
  records: number;
  downloaded: number;
  /** Already in the folder (not requested again). */
  present: number;
  dir: string;
  /** Failed or non-image downloads (HTTP errors, HTML replies), by image key. */
  issues: SourceIssue[];
}

/**
 * The registry's WIT v1 folder and its TSV shards (train, val and test, as D reads them: `findWitShards`); a
 * missing or incomplete folder is the registry's KitError saying what to fetch.
 */
export async function paperWitShards(
  registry?: DataRegistry,
): Promise<{ root: string; tsvFiles: string[] }> {
  const reg = registry ?? dataRegistry();
  const r = await reg.resolve("wit-v1");
  try {
    return { root: r.root, tsvFiles: await findWitShards(r.root) };
  } catch (err) {
    if (!(err instanceof KitError)) throw err;
    throw reg.missingError(reg.declaration("wit-v1"), [`${r.source}: ${err.message}`]);
  }
}

/**
 * The network half of D's WIT set, run by `./kit task fetch wit-v1` (notebooks never touch the
 * network): reads the registry's WIT v1 shards with D's rules (`findWitShards`,
 * `loadWitCaptions`: the images with a reference caption in all nine languages) and downloads
 * each kept image from its `image_url` into `paperWitImagesDir()` (`downloadWitImages`: skips
 * images already there, atomic writes, HTML replies rejected). Notebook 00 then builds the set
 * from the shards and these files; an image that failed here is a rejected item of that build.
 */
export async function downloadPaperWitImages(
  opts: { registry?: DataRegistry; imagesDir?: string } & WitDownloadOptions = {},
): Promise<PaperWitImagesResult> {
  const { tsvFiles } = await paperWitShards(opts.registry);
  const wit = await loadWitCaptions(tsvFiles);
  const dir = opts.imagesDir ?? paperWitImagesDir();
  const dl = await downloadWitImages(wit.records, dir, opts);
  return { records: wit.records.length, ...dl, dir };
}
