import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import type { KSetupId } from "../encoders/encoder.ts";
import type { KCaptionLang, KCaptionRecord } from "./k_caption_records.ts";
import { assignCaptionLanguages, kRecordIds } from "./k_language_assignment.ts";
import { kBatchesPerEpoch } from "./k_epoch_loop.ts";

/** K's setups that are trained (all but the untuned `xlmr`). */
export type KTrainedSetup = Exclude<KSetupId, "xlmr">;
export const K_TRAINED_SETUPS: readonly KTrainedSetup[] = [
  "eng-only",
  "eng-pivot",
  "multilingual",
  "multilingual-qu",
];

/**
 * Which captions each setup trains on: `image` = the languages of the image–caption loss (each
 * record in one of them, {@link assignCaptionLanguages}); `pivot` = Eng-Pivot's non-English
 * languages, each scored against the batch's English captions (text only, no image).
 */
export const K_SETUP_LANGUAGES: Readonly<
  Record<KTrainedSetup, { image: KCaptionLang[]; pivot: KCaptionLang[] }>
> = {
  "eng-only": { image: ["en"], pivot: [] },
  "eng-pivot": { image: [], pivot: ["es", "ja", "hi"] },
  "multilingual": { image: ["en", "es", "ja", "hi"], pivot: [] },
  "multilingual-qu": { image: ["en", "es", "ja", "hi", "qu"], pivot: [] },
};

/** Whether a setup is K's text-only Eng-Pivot (no image term, image tower untouched). */
export function isTextOnlySetup(setup: KTrainedSetup): boolean {
  return K_SETUP_LANGUAGES[setup].pivot.length > 0;
}

/** One training/validation caption record of a setup, with its image's row in the pixel array. */
export interface KItem {
  row: number;
  /** Record id (K-TRAIN; {@link kRecordIds}). */
  id: string;
  record: KCaptionRecord;
  /** Image setups: the record's one assigned language; Eng-Pivot: null (all its languages). */
  lang: KCaptionLang | null;
}

/** The training set a setup actually uses (for the notebook's table and the leakage tests). */
export interface KTrainingSet {
  /** Dataset keys of the training images (all in the train partition). */
  trainKeys: string[];
  valKeys: string[];
  /** Captions trained on per language (image setups: assigned records; Eng-Pivot: en + pivots). */
  captionsPerLang: Partial<Record<KCaptionLang, number>>;
  /** Image setups: record id → its one language (fixed for all epochs); Eng-Pivot: null. */
  assignment: Record<string, KCaptionLang> | null;
  /** Seed of the language assignment (the plan's schedule seed), null for Eng-Pivot. */
  assignmentSeed: number | null;
  train: KItem[];
  val: KItem[];
}

function setupItems(
  records: readonly KCaptionRecord[],
  setup: KTrainedSetup,
  seed: number,
): KItem[] {
  const langs = K_SETUP_LANGUAGES[setup];
  const ids = kRecordIds(records);
  if (isTextOnlySetup(setup)) {
    return records.flatMap((record, i) =>
      record.captions.en && langs.pivot.some((l) => record.captions[l])
        ? [{ row: 0, id: ids[i]!, record, lang: null }]
        : []
    );
  }
  const a = assignCaptionLanguages(records, langs.image, seed);
  return records.flatMap((record, i) => {
    const lang = a.byIndex[i] ?? null;
    return lang ? [{ row: 0, id: ids[i]!, record, lang }] : [];
  });
}

/**
 * The train/val items of a setup. Image setups: every record with a caption in one of its
 * languages, each assigned one language once ({@link assignCaptionLanguages}, seeded; train and
 * val assigned separately, as K's `_singles` files are). Eng-Pivot: records with an English
 * caption and at least one of es/ja/hi.
 */
export function kTrainingSet(
  records: readonly KCaptionRecord[],
  setup: KTrainedSetup,
  seed: number,
): KTrainingSet {
  const langs = K_SETUP_LANGUAGES[setup];
  const withRows = (xs: KItem[]) => xs.map((it, row) => ({ ...it, row }));
  const train = withRows(setupItems(records.filter((r) => r.partition === "train"), setup, seed));
  const val = withRows(setupItems(records.filter((r) => r.partition === "val"), setup, seed + 1));
  const captionsPerLang: Partial<Record<KCaptionLang, number>> = {};
  const add = (l: KCaptionLang) => (captionsPerLang[l] = (captionsPerLang[l] ?? 0) + 1);
  for (const it of train) {
    if (it.lang) add(it.lang);
    else for (const l of ["en", ...langs.pivot] as const) if (it.record.captions[l]) add(l);
  }
  const textOnly = isTextOnlySetup(setup);
  return {
    trainKeys: train.map((it) => it.record.image_id),
    valKeys: val.map((it) => it.record.image_id),
    captionsPerLang,
    assignment: textOnly ? null : Object.fromEntries(train.map((it) => [it.id, it.lang!])),
    assignmentSeed: textOnly ? null : seed,
    train,
    val,
  };
}

/** The texts of one batch of items and how the loss pairs them. */
export interface KBatchTexts {
  texts: string[];
  /** Language and record id of each text (for the no-translation-pairs tests). */
  langs: KCaptionLang[];
  ids: string[];
  /** Image setups: image (batch position) of each text; Eng-Pivot: empty. */
  imageIdx: number[];
  /** Eng-Pivot: the first `nEnglish` texts are the batch's English captions. */
  nEnglish: number;
  /** Eng-Pivot: for each non-English text (after the English block), its English row. */
  enIdx: number[];
}

/**
 * The texts a batch of `items` contributes: image setups, each record's one assigned caption
 * (scored against the batch's images); Eng-Pivot, the English captions then every es/ja/hi
 * caption the records have (each scored against the batch's English captions).
 */
export function kBatchTexts(setup: KTrainedSetup, items: readonly KItem[]): KBatchTexts {
  const out: KBatchTexts = { texts: [], langs: [], ids: [], imageIdx: [], nEnglish: 0, enIdx: [] };
  const push = (it: KItem, l: KCaptionLang) => {
    const c = it.record.captions[l];
    if (!c) throw new KitError(`K ${setup}: record ${it.id} has no ${l} caption`);
    out.texts.push(c);
    out.langs.push(l);
    out.ids.push(it.id);
  };
  if (isTextOnlySetup(setup)) {
    for (const it of items) push(it, "en");
    out.nEnglish = items.length;
    for (const l of K_SETUP_LANGUAGES[setup].pivot) {
      items.forEach((it, j) => {
        if (it.record.captions[l]) {
          push(it, l);
          out.enIdx.push(j);
        }
      });
    }
    return out;
  }
  items.forEach((it, j) => {
    push(it, it.lang!);
    out.imageIdx.push(j);
  });
  return out;
}

/**
 * The items of global step `step`: a seeded reshuffle per epoch (a DataLoader with
 * `shuffle=True`), `B` items per step, the last batch of an epoch partial (`drop_last=False`:
 * every record is trained on in every epoch).
 */
export function kStepItems(
  items: readonly KItem[],
  batchSize: number,
  seed: number,
  step: number,
): KItem[] {
  if (items.length < 1) throw new KitError("K: no training records");
  const perEpoch = kBatchesPerEpoch(items.length, batchSize);
  const epoch = Math.floor(step / perEpoch);
  const perm = new SeededRandom(seed * 7919 + epoch).shuffle(
    Array.from({ length: items.length }, (_, i) => i),
  );
  const slot = step % perEpoch;
  return perm.slice(slot * batchSize, slot * batchSize + batchSize).map((i) => items[i]!);
}

/**
 * The validation batches of one validation: `batchSize` items each in a seeded shuffle (K's
 * validation DataLoader has `shuffle=True`; `seed` differs per validation), the last partial.
 */
export function kValidationBatches(
  items: readonly KItem[],
  batchSize: number,
  seed: number,
): KItem[][] {
  const perm = new SeededRandom(seed).shuffle(Array.from({ length: items.length }, (_, i) => i));
  const out: KItem[][] = [];
  for (let s = 0; s < perm.length; s += batchSize) {
    out.push(perm.slice(s, s + batchSize).map((i) => items[i]!));
  }
  return out;
}
