import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { pathExists, readAllLines } from "./text_io.ts";

/** Where each XTD10 language lives upstream (`jp` is Japanese from STAIR; de/fr from MIC). */
export const XTD10_FILES: Readonly<Record<string, string>> = {
  en: "XTD10/test_1kcaptions_en.txt",
  es: "XTD10/test_1kcaptions_es.txt",
  it: "XTD10/test_1kcaptions_it.txt",
  ko: "XTD10/test_1kcaptions_ko.txt",
  pl: "XTD10/test_1kcaptions_pl.txt",
  ru: "XTD10/test_1kcaptions_ru.txt",
  tr: "XTD10/test_1kcaptions_tr.txt",
  zh: "XTD10/test_1kcaptions_zh.txt",
  de: "MIC/test_1kcaptions_de.txt",
  fr: "MIC/test_1kcaptions_fr.txt",
  ja: "STAIR/test_1kcaptions_jp.txt",
};

/** XTD10: 1000 COCO 2014 images, one caption per language, aligned by index. */
export interface Xtd10Data {
  /** COCO 2014 file names, e.g. `COCO_train2014_000000061844.jpg`. */
  images: string[];
  /** COCO image ids parsed from the names. */
  cocoIds: number[];
  captions: Record<string, string[]>;
}

/**
 * Loads XTD10 from the upstream repository layout (`XTD10/`, `MIC/`, `STAIR/` folders and
 * `XTD10/test_image_names.txt`). Languages use ISO codes (`ja`, not the file's `jp`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadXtd10 } from "./xtd10.ts";
 * import { dataRegistry } from "../data/registry.ts";
 * const root = (await dataRegistry().resolve("xtd10")).root; // cache or mirror
 * const x = await loadXtd10(root, ["en", "ja"]);
 * assert.equal(x.images.length, 1000); // XTD10: 1000 COCO images
 * assert.equal(x.captions.ja?.length, 1000); // captions.ja[i] describes images[i]
 * assert.match(x.images[0]!, new RegExp(`^COCO_\\w+_0*${x.cocoIds[0]}\\.jpg$`));
 * ```
 */
export async function loadXtd10(root: string, languages?: readonly string[]): Promise<Xtd10Data> {
  const namesPath = join(root, "XTD10", "test_image_names.txt");
  if (!(await pathExists(namesPath))) throw new KitError(`XTD10: no image list ${namesPath}`);
  const images = (await readAllLines(namesPath)).map((l) => l.trim()).filter((l) => l !== "");
  const cocoIds = images.map((n) => {
    const m = /(\d+)\.jpg$/i.exec(n);
    if (!m) throw new KitError(`XTD10: ${namesPath}: cannot read a COCO id from "${n}"`);
    return Number(m[1]);
  });
  const captions: Record<string, string[]> = {};
  for (const lang of languages ?? Object.keys(XTD10_FILES)) {
    const rel = XTD10_FILES[lang];
    if (!rel) {
      throw new KitError(`XTD10 has no language "${lang}"`, [
        `languages: ${Object.keys(XTD10_FILES).join(", ")}`,
      ]);
    }
    const path = join(root, rel);
    const lines = await readAllLines(path);
    while (lines.length > images.length && lines[lines.length - 1]!.trim() === "") lines.pop();
    if (lines.length !== images.length) {
      throw new KitError(`XTD10: ${path} has ${lines.length} captions for ${images.length} images`);
    }
    captions[lang] = lines.map((l) => l.trim());
  }
  return { images, cocoIds, captions };
}
