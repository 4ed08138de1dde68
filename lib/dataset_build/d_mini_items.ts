import { D_LANGUAGES } from "../sources/wit.ts";
import { KitError } from "../util/kit_error.ts";
import type { Partition, SampleRecord } from "./sample.ts";

/**
 * The partitions D's mini items come from: `val` and `test`. The frozen pair (the mini image and
 * text encoders D's heads sit on) trains on `train` only, and the split is by concept, so no
 * drawing of these concepts was ever seen by it.
 */
export const D_HELD_OUT_PARTITIONS: readonly Partition[] = ["val", "test"];

/** One item of D's mini set: an image with one caption in each of D's languages. */
export interface DMiniItem {
  /** Dataset key of the chosen image (20 hex characters). */
  key: string;
  /** Its concept (`emoji:<id>` for emoji; the key for a stamp). */
  concept: string;
  source: string;
  sourceId: string;
  partition: Partition;
  /** Language → the image's first caption, for each of `languages`. */
  captions: Record<string, string>;
}

/**
 * D's mini item set: images of the held-out partitions (`D_HELD_OUT_PARTITIONS` unless told)
 * with a caption in every one of D's nine languages (ar de en es fr it ja pt zh), **one drawing
 * per concept** — the first by key among the concept's complete images — since two drawings of
 * an emoji carry identical captions, which would make retrieval's ground truth ambiguous.
 * Sorted by key, as D sorts its WIT items. Throws a KitError when fewer than `minItems` remain.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { dMiniItems } from "./d_mini_items.ts";
 * const c = { ar: ["a"], de: ["a"], en: ["a"], es: ["a"], fr: ["a"], it: ["a"], ja: ["a"], pt: ["a"], zh: ["a"] };
 * const items = dMiniItems([
 *   { key: "b", group: "emoji:1", partition: "test", source: "e", sourceId: "x", captions: c },
 *   { key: "a", group: "emoji:1", partition: "test", source: "e", sourceId: "y", captions: c },
 *   { key: "c", group: "emoji:2", partition: "train", source: "e", sourceId: "z", captions: c },
 * ]);
 * assert(items.length === 1 && items[0]!.key === "a");
 * ```
 */
export function dMiniItems(
  samples: readonly Pick<
    SampleRecord,
    "key" | "group" | "partition" | "source" | "sourceId" | "captions"
  >[],
  opts: { languages?: readonly string[]; partitions?: readonly Partition[]; minItems?: number } =
    {},
): DMiniItem[] {
  const languages = opts.languages ?? D_LANGUAGES;
  const partitions = opts.partitions ?? D_HELD_OUT_PARTITIONS;
  const byConcept = new Map<string, DMiniItem>();
  for (const s of [...samples].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (!partitions.includes(s.partition)) continue;
    const captions: Record<string, string> = {};
    for (const l of languages) {
      const t = s.captions[l]?.[0]?.trim();
      if (t) captions[l] = t;
    }
    if (Object.keys(captions).length !== languages.length) continue;
    const concept = s.group ?? s.key;
    if (byConcept.has(concept)) continue;
    byConcept.set(concept, {
      key: s.key,
      concept,
      source: s.source,
      sourceId: s.sourceId,
      partition: s.partition,
      captions,
    });
  }
  const items = [...byConcept.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  if (opts.minItems !== undefined && items.length < opts.minItems) {
    throw new KitError(
      `D's mini items: ${items.length} concepts of ${
        partitions.join("+")
      } have captions in all of ${languages.join(" ")}; expected at least ${opts.minItems}`,
    );
  }
  return items;
}
