/**
 * Paper profile, MT-T1: how good the user's translations file (K's caption records,
 * `KIT_K_TRANSLATIONS`) is, on the records human references exist for. XTD10 holds 1,000 COCO
 * images, each with one English COCO caption and its human translations (es, it, … from XTD10,
 * ja from STAIR, de/fr from MIC). A record of the file whose image is an XTD10 image **and whose
 * English caption is XTD10's English caption** (compared after trimming and collapsing spaces,
 * case-insensitively) has a human reference for its es and ja captions: those pairs are scored,
 * corpus-level chrF2 (and BLEU: 13a for es, characters for ja). Records of other captions of the
 * same image are counted but not scored (another caption is no reference for this one).
 */
import type { KTranslationLine } from "../k_finetune/k_translations_file.ts";
import { corpusBleu } from "../mt_metrics/bleu.ts";
import { corpusChrf } from "../mt_metrics/chrf.ts";
import type { Xtd10Data } from "../sources/xtd10.ts";
import type { MtT1Row } from "./translation_step.ts";

/** One row of the paper profile's MT-T1: the same columns as the mini rows. */
export type TranslationsSampleRow = MtT1Row;

/** The languages of K's file that XTD10 has human references for, with BLEU's tokeniser. */
export const XTD10_K_LANGUAGES = { es: "13a", ja: "char" } as const;

const norm = (s: string) => s.trim().replace(/\s+/g, " ").toLowerCase();

/**
 * MT-T1 rows for the translations file `lines` (named `file`) against XTD10, at most
 * `maxPerLanguage` scored pairs per language (the first by XTD10's order: a fixed sample).
 */
export function translationsSampleRows(
  lines: readonly KTranslationLine[],
  xtd: Xtd10Data,
  file: string,
  opts: { maxPerLanguage?: number } = {},
): TranslationsSampleRow[] {
  const max = opts.maxPerLanguage ?? 1000;
  const byImage = new Map<string, KTranslationLine[]>();
  for (const l of lines) {
    const k = String(Number(l.image_id));
    byImage.set(k, [...(byImage.get(k) ?? []), l]);
  }
  const rows: TranslationsSampleRow[] = [];
  for (const [lang, tokenize] of Object.entries(XTD10_K_LANGUAGES)) {
    const refs = xtd.captions[lang], en = xtd.captions.en;
    const hyps: string[] = [], gold: string[] = [];
    let sameImage = 0;
    if (refs && en) {
      xtd.cocoIds.forEach((id, i) => {
        const recs = byImage.get(String(id)) ?? [];
        if (recs.length > 0) sameImage++;
        const match = recs.find((r) => r.captions.en && norm(r.captions.en) === norm(en[i]!));
        const hyp = match?.captions[lang as keyof typeof match.captions];
        if (hyp && hyps.length < max) {
          hyps.push(hyp);
          gold.push(refs[i]!);
        }
      });
    }
    const base = {
      engine: `translations file (${file.split("/").pop()})`,
      pair: `en-${lang}`,
      test_set: `XTD10 (${lang === "ja" ? "STAIR" : "XTD10"} human captions of COCO images)`,
      engine_signature: `file:${file.split("/").pop()}`,
    };
    if (hyps.length === 0) {
      rows.push({
        ...base,
        n_sentences: 0,
        chrf: null,
        bleu: null,
        status: "not measured",
        chrf_signature: "",
        bleu_signature: "",
        note:
          `no record shares XTD10's English caption (${sameImage} of XTD10's 1,000 images have records of other captions)`,
      });
      continue;
    }
    const c = corpusChrf(hyps, [gold]);
    const b = corpusBleu(hyps, [gold], { tokenize });
    rows.push({
      ...base,
      n_sentences: hyps.length,
      chrf: c.score / 100,
      bleu: b.score / 100,
      status: "measured",
      chrf_signature: c.signature,
      bleu_signature: b.signature,
      note:
        `records whose English caption is XTD10's (${sameImage} XTD10 images have records in the file)`,
    });
  }
  return rows;
}
