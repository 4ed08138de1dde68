import { KitError } from "../util/kit_error.ts";
import { loadCaptionRecords } from "../translation/caption_records.ts";
import type { Partition } from "../dataset_build/sample.ts";
import type { StampSample } from "../mini_pretraining/stamp_samples.ts";

/** K's caption languages. */
export const K_CAPTION_LANGS = ["en", "es", "ja", "hi", "qu"] as const;
export type KCaptionLang = typeof K_CAPTION_LANGS[number];

/** Where a caption came from (the shape notebook 01 writes). */
export type CaptionOrigin = { kind: "human" } | { kind: "machine"; engine: string; from: string };

/** K's caption record for one image (the shape of lib/translation's `loadCaptionRecords`). */
export interface KCaptionRecord {
  /** Dataset key of the image. */
  image_id: string;
  partition: Partition;
  captions: Partial<Record<KCaptionLang, string>>;
  origin: Partial<Record<KCaptionLang, CaptionOrigin>>;
}

/** The records and which reader produced them. */
export interface KCaptionSet {
  records: KCaptionRecord[];
  /** `notebook-01` (lib/translation: human + machine-translated captions) or `human-stamp-captions`. */
  source: "notebook-01" | "human-stamp-captions";
  /** Why the human-only fallback was used, when it was. */
  note: string | null;
}

/** K's records from the stamps' own human captions (en/es/ja/hi where the stamp has them; no Quechua). */
export function humanCaptionRecords(samples: readonly StampSample[]): KCaptionRecord[] {
  return samples.map((s) => {
    const captions: Partial<Record<KCaptionLang, string>> = {};
    const origin: Partial<Record<KCaptionLang, CaptionOrigin>> = {};
    for (const l of K_CAPTION_LANGS) {
      const c = s.captions[l];
      if (c) {
        captions[l] = c;
        origin[l] = { kind: "human" };
      }
    }
    return { image_id: s.key, partition: s.partition, captions, origin };
  });
}

/**
 * K's caption records for training: notebook 01's (`lib/translation`'s `loadCaptionRecords`,
 * human captions completed by machine translation, Quechua included). Without notebook 01's
 * output it stops with "run 01 first" (and the command) rather than train on other data.
 * Records are matched to `samples` by key and must agree on the partition.
 */
export async function loadKCaptionSet(
  samples: readonly StampSample[],
  opts: { smoke?: boolean } = {},
): Promise<KCaptionSet> {
  let records: KCaptionRecord[];
  try {
    records = await loadCaptionRecords({ smoke: opts.smoke });
  } catch (err) {
    if (!(err instanceof KitError)) throw err;
    // never a silent fallback to other training data: K's setups need notebook 01's records
    throw new KitError(
      `K's caption records from notebook 01 are not available: run 01 first (${err.message})`,
      err.hints,
    );
  }
  const byKey = new Map(samples.map((s) => [s.key, s]));
  const out: KCaptionRecord[] = [];
  for (const r of records) {
    const s = byKey.get(r.image_id);
    if (!s) continue;
    if (s.partition !== r.partition) {
      throw new KitError(
        `caption record ${r.image_id}: partition ${r.partition} differs from the dataset's ${s.partition}`,
        ["rerun notebook 01 after notebook 00"],
      );
    }
    out.push(r);
  }
  if (out.length === 0) {
    throw new KitError("notebook 01's caption records match no image of the mini dataset", [
      "rerun notebooks 00 and 01",
    ]);
  }
  return { records: out, source: "notebook-01", note: null };
}
