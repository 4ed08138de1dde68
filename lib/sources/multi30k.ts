import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { pathExists, readAllLines } from "./text_io.ts";

/** Splits of Multi30k task 1 (file stems of `raw/<split>.<lang>.gz` and `image_splits/<split>.txt`). */
export const MULTI30K_SPLITS = [
  "train",
  "val",
  "test_2016_flickr",
  "test_2017_flickr",
  "test_2017_mscoco",
  "test_2018_flickr",
] as const;
export type Multi30kSplit = (typeof MULTI30K_SPLITS)[number];

/** One Multi30k split: image file names and, per language, the caption of each image (aligned by index). */
export interface Multi30kSplitData {
  split: string;
  images: string[];
  captions: Record<string, string[]>;
}

/**
 * Loads one Multi30k task-1 split from the upstream layout (`raw/<split>.<lang>.gz`, one caption
 * a line, and `image_splits/<split>.txt`, one image name a line). Languages default to those
 * present for the split (en, de, fr, cs; not every split has every language). A language whose
 * line count differs from the image list is an error (the files would be misaligned).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadMulti30k } from "./multi30k.ts";
 * import { dataRegistry } from "../data/registry.ts";
 * const root = (await dataRegistry().resolve("multi30k")).root; // cache or mirror
 * const val = await loadMulti30k(root, "val", ["en", "de"]);
 * assert.equal(val.images.length, 1014); // Multi30k's validation split
 * assert.equal(val.captions.de?.length, val.images.length); // captions.de[i] describes images[i]
 * assert.match(val.images[0]!, /\.jpg$/);
 * ```
 */
export async function loadMulti30k(
  root: string,
  split: string,
  languages?: readonly string[],
): Promise<Multi30kSplitData> {
  const imagesPath = join(root, "image_splits", `${split}.txt`);
  if (!(await pathExists(imagesPath))) {
    throw new KitError(`Multi30k: no image list ${imagesPath}`, [
      `known splits: ${MULTI30K_SPLITS.join(", ")}`,
    ]);
  }
  const images = (await readAllLines(imagesPath)).map((l) => l.trim()).filter((l) => l !== "");
  const langs: string[] = [];
  if (languages) langs.push(...languages);
  else {
    for (const l of ["en", "de", "fr", "cs"]) {
      if (await pathExists(join(root, "raw", `${split}.${l}.gz`))) langs.push(l);
    }
  }
  const captions: Record<string, string[]> = {};
  for (const lang of langs) {
    let path = join(root, "raw", `${split}.${lang}.gz`);
    if (!(await pathExists(path))) path = join(root, "raw", `${split}.${lang}`);
    if (!(await pathExists(path))) {
      throw new KitError(`Multi30k: split ${split} has no ${lang} captions (${path}[.gz])`);
    }
    const lines = await readAllLines(path);
    while (lines.length > images.length && lines[lines.length - 1]!.trim() === "") lines.pop();
    if (lines.length !== images.length) {
      throw new KitError(
        `Multi30k: ${path} has ${lines.length} lines but ${imagesPath} lists ${images.length} images`,
      );
    }
    captions[lang] = lines.map((l) => l.trim());
  }
  return { split, images, captions };
}
