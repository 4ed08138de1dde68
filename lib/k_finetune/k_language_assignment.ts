import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import type { KCaptionLang, KCaptionRecord } from "./k_caption_records.ts";

/** The one language each caption record is trained in (K's `_singles` caption files). */
export interface KLanguageAssignment {
  seed: number;
  languages: readonly KCaptionLang[];
  /** Per input record (same order): its language, or null when it has none of `languages`. */
  byIndex: (KCaptionLang | null)[];
  /** Records per assigned language. */
  counts: Partial<Record<KCaptionLang, number>>;
}

/** A caption record's id in K-TRAIN: `image_id`, `#n` appended for an image's n-th further record. */
export function kRecordIds(records: readonly KCaptionRecord[]): string[] {
  const seen = new Map<string, number>();
  return records.map((r) => {
    const n = seen.get(r.image_id) ?? 0;
    seen.set(r.image_id, n + 1);
    return n === 0 ? r.image_id : `${r.image_id}#${n}`;
  });
}

/**
 * Assigns each caption record **one** language, once ([K] Table 1's Multilingual setup,
 * arXiv:2505.13628; the authors' `_singles` caption files, nkrasner/cl-clip-align@d75b729):
 * images are visited in a seeded random order; each record takes, among the languages it has a
 * caption in, one not yet used by another record of the same image (spreading an image's several
 * captions or renderings over the languages), preferring the language used least so far (ties: a
 * seeded random order of the languages). The result is fixed: the trainer uses it in every epoch, so a
 * caption is never seen together with its own translation. Deterministic in `seed`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { assignCaptionLanguages } from "./k_language_assignment.ts";
 * const recs = ["a", "b", "c", "d"].map((id) => ({ image_id: id, partition: "train" as const,
 *   captions: { en: "x", es: "y" }, origin: {} }));
 * const a = assignCaptionLanguages(recs, ["en", "es"], 1);
 * assert(a.counts.en === 2 && a.counts.es === 2);
 * ```
 */
export function assignCaptionLanguages(
  records: readonly KCaptionRecord[],
  languages: readonly KCaptionLang[],
  seed: number,
): KLanguageAssignment {
  if (languages.length === 0) throw new KitError("assignCaptionLanguages: no languages given");
  const rng = new SeededRandom(seed * 104729 + 17);
  const groups = new Map<string, number[]>();
  records.forEach((r, i) => {
    const g = groups.get(r.image_id);
    if (g) g.push(i);
    else groups.set(r.image_id, [i]);
  });
  const order = rng.shuffle([...groups.keys()]);
  const counts = new Map<KCaptionLang, number>(languages.map((l) => [l, 0]));
  const byIndex: (KCaptionLang | null)[] = records.map(() => null);
  for (const key of order) {
    const used = new Set<KCaptionLang>();
    for (const i of groups.get(key)!) {
      const has = languages.filter((l) => records[i]!.captions[l]);
      if (has.length === 0) continue;
      const fresh = has.filter((l) => !used.has(l));
      const pool = fresh.length > 0 ? fresh : has;
      const least = Math.min(...pool.map((l) => counts.get(l)!));
      const tied = pool.filter((l) => counts.get(l) === least);
      const lang = tied[rng.int(tied.length)]!;
      byIndex[i] = lang;
      used.add(lang);
      counts.set(lang, counts.get(lang)! + 1);
    }
  }
  const out: Partial<Record<KCaptionLang, number>> = {};
  for (const [l, c] of counts) if (c > 0) out[l] = c;
  return { seed, languages, byIndex, counts: out };
}
