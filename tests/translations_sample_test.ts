import assert from "node:assert/strict";
import { loadXtd10 } from "../lib/sources/xtd10.ts";
import { corpusBleu, corpusChrf } from "../lib/mt_metrics/mod.ts";
import { translationsSampleRows } from "../lib/translation/translations_sample_quality.ts";
import type { KTranslationLine } from "../lib/k_finetune/k_translations_file.ts";

Deno.test("translationsSampleRows() scores the file's es/ja captions against XTD10 only where the record's English caption is XTD10's", async () => {
  const xtd = await loadXtd10("../shared/data/xtd10", ["en", "es", "ja"]);
  const en = xtd.captions.en!, es = xtd.captions.es!, ja = xtd.captions.ja!;
  const line = (
    i: number,
    captions: KTranslationLine["captions"],
    n: number,
  ): KTranslationLine => ({
    line: n,
    image_id: String(xtd.cocoIds[i]),
    captions,
    origin: {},
  });
  const lines: KTranslationLine[] = [
    // XTD10's English caption (spacing and case changed): scored
    line(
      0,
      { en: `  ${en[0]!.toUpperCase()} `, es: "un perro en la calle", ja: "犬が道にいる" },
      1,
    ),
    line(5, { en: en[5]!, es: es[5]!, ja: ja[5]! }, 2), // a perfect translation
    // another caption of an XTD10 image: not a reference for it, not scored
    line(7, { en: "a completely different caption", es: "otra cosa" }, 3),
    line(9, { en: en[9]!, ja: "テスト" }, 4), // no es: only ja scored
  ];
  const rows = translationsSampleRows(lines, xtd, "/x/k_translations.jsonl");
  const esRow = rows.find((r) => r.pair === "en-es")!,
    jaRow = rows.find((r) => r.pair === "en-ja")!;
  assert.equal(esRow.n_sentences, 2);
  assert.equal(jaRow.n_sentences, 3);
  const wantEs = corpusChrf(["un perro en la calle", es[5]!], [[es[0]!, es[5]!]]).score / 100;
  assert.ok(Math.abs(esRow.chrf! - wantEs) < 1e-12);
  const wantJa = corpusBleu(["犬が道にいる", ja[5]!, "テスト"], [[ja[0]!, ja[5]!, ja[9]!]], {
    tokenize: "char",
  }).score / 100;
  assert.ok(Math.abs(jaRow.bleu! - wantJa) < 1e-12);
  assert.match(esRow.note, /4 XTD10 images have records/);
  // no record with XTD10's English caption: not measured, said why
  const none = translationsSampleRows([lines[2]!], xtd, "t.jsonl");
  assert.ok(none.every((r) => r.status === "not measured" && r.chrf === null));
  assert.match(none[0]!.note, /1 of XTD10's 1,000 images/);
});
