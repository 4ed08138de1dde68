// The source of notebooks/01_translation.ipynb (`./kit task notebooks` builds it).
// Cells: a line `// %% [markdown]` opens prose (lines `// `-prefixed), a line `// %%` code;
// this header is no cell.
// The notebook is thin: markdown, a few calls into lib/translation, then the MT-T1 table.
/// <reference lib="deno.unstable" />

// %% [markdown]
// # 01 · Translation (MT-T1)
//
// Paper **K** trains on MS-COCO 2017 captions that it machine-translated from English into es, ja, hi and
// Quechua with **Google Translate** — an online service whose output cannot be reproduced later and whose
// quality the paper does not report. The kit makes this step explicit, swappable and measured:
//
// - every engine is a `Translator` (`lib/translation`) with a **signature** (engine, version, model,
//   options) that is stored with every machine caption and every score;
// - every engine sits behind an **append-only cache** (`.cache/translation/<signature hash>.jsonl`, one
//   line per sentence, flushed to disk after each batch): a rerun makes no engine calls, and a run killed
//   midway keeps every finished batch;
// - quality is **measured** with chrF and BLEU (`lib/mt_metrics`, written from their definitions with
//   sacrebleu 2.x defaults and checked against sacrebleu's own test values) against human references.
//
// **How the mini profile differs from the paper.** The captions are the Tux Paint stamps' (notebook 00),
// not COCO's, and the engines are offline ones:
//
// | language | paper K | kit, mini profile |
// |---|---|---|
// | es | Google Translate from en | **Apertium** `eng-spa` (rule-based, Debian `apertium-eng-spa`) from en |
// | qu | Google Translate from en | **gloss** (AmericasNLP 2021 es–quy dictionaries, word/phrase lookup) from Apertium's es |
// | ja, hi | Google Translate from en | the stamps' **human** captions (no offline engine here has ja, hi) |
// | en | COCO (human) | the stamps' human English |
//
// The **emoji** of the mini dataset need no engine: Unicode CLDR gives every emoji a human-written name in
// en, es, ja, hi and qu, so their records carry those human names in all five languages (origin `human`) — a
// deviation from K, whose non-English captions are all machine translations (`k-training-data` in
// `lib/deviations`). MT-T1 below scores the engines on the stamps only.
//
// The `gloss` engine is a deliberately crude, documented baseline (longest dictionary match, unknown
// words kept, Spanish plurals → `-kuna`, no reordering or morphology): it lets the Multilingual+Quechua
// setup run offline, and MT-T1 shows how far it is from real Quechua. **NLLB-200** (through
// transformers.js, FLORES codes such as `quy_Latn`) covers all four languages; it runs when its model
// folder is present (`KIT_NLLB_MODEL`, or `.cache/models/Xenova/nllb-200-distilled-600M`) and is
// otherwise reported as not measured.
//
// **Without Apertium** the engines cell below stops with one message naming the Debian packages
// (`apertium apertium-eng-spa`): install them (`sudo apt-get install -y apertium apertium-eng-spa`, or run
// `./kit task setup` as root, which does it), then rerun `./kit task reproduce --only 01`.

// %%
import { kitConfig } from "../lib/config/mod.ts";
import { buildMiniDataset, readSampleIndex } from "../lib/dataset_build/mod.ts";
import { writeTableArtifact } from "../lib/artifacts/mod.ts";
import { projectRelative } from "../lib/util/mod.ts";
import {
  captionRecordsPreview,
  engineCalls,
  mtT1Rows,
  translationEngines,
  writeMiniCaptionRecords,
} from "../lib/translation/mod.ts";

const cfg = kitConfig();
const ds = await buildMiniDataset({ quiet: true });
const samples = await readSampleIndex(ds.dir);
console.log(
  `mini dataset (${ds.status}): ${samples.length} stamps, partitions ${
    JSON.stringify(ds.manifest.partitions)
  }${cfg.smoke ? " (smoke)" : ""}`,
);

// %% [markdown]
// ### Engines
//
// Each line is an engine signature; the caches are keyed by it (plus languages and the sentence's hash), so a
// new Apertium package or dictionary version retranslates instead of reusing stale output.

// %%
const engines = await translationEngines();
for (const t of [engines.apertium, engines.gloss, engines.enToQu]) console.log(t.signature);
console.log(
  engines.nllb
    ? engines.nllb.signature
    : `nllb: not available — ${engines.nllbDetail ?? engines.nllbMissing}`,
);

// %% [markdown]
// ### K's caption records for training
//
// One record per image (stamp or emoji drawing): `{image_id, partition, captions: {en, es, ja, hi, qu}, origin}` where `origin` marks
// each caption `human` or `machine` (with the engine signature and source language). Partitions are the
// dataset's (train/val/test); notebook 02 reads the records with `loadCaptionRecords()`. The last line
// counts engine calls: 0 on a rerun, when the caches answer everything.

// %%
const { records, path } = await writeMiniCaptionRecords(samples, engines, {
  dataset: ds.manifest.configHash,
});
console.log(`${records.length} records → ${projectRelative(path)}`);
console.log(`engine calls so far: ${engineCalls(engines)}`);
await Deno.jupyter.md`${captionRecordsPreview(records, 8)}`;

// %% [markdown]
// ### MT-T1: translation quality
//
// chrF2 (character 6-grams, β = 2, whitespace removed) and BLEU (13a tokenizer, exp smoothing), corpus level,
// as fractions in [0, 1] (sacrebleu's score / 100), each with its sacrebleu-style signature and the number of
// sentences scored:
//
// - **Apertium en→es** against the stamps' **human Spanish** (the same English captions the records translate);
// - **gloss es→qu** against the **AmericasNLP 2021 dev set** (dev.es → dev.quy, professional Ayacucho Quechua),
//   beside the *copy* baseline (the Spanish left untranslated) — the stamps have no human Quechua;
// - **NLLB** on both test sets when its model is present, else rows saying why it was not measured.
//
// The Spanish reference is one translator's caption for a picture, not a translation of the English
// sentence, so Apertium's score understates its adequacy; short captions also make BLEU noisy.

// %%
const rows = await mtT1Rows(samples.filter((s) => s.source === "tuxpaint-stamps"), engines, {
  devLimit: cfg.smoke ? 100 : null,
});
const kTranslations = Deno.env.get("KIT_K_TRANSLATIONS");
if (cfg.profile === "paper" && kTranslations) {
  // paper profile: K's translations file (notebook 02's input) scored where XTD10 has human references
  const { translationsSampleRows } = await import("../lib/translation/mod.ts");
  const { readKTranslationsFile } = await import("../lib/models/mod.ts");
  const { loadXtd10 } = await import("../lib/sources/mod.ts");
  const { dataRegistry } = await import("../lib/data/mod.ts");
  const xtd = await loadXtd10((await dataRegistry().resolve("xtd10")).root, ["en", "es", "ja"]);
  rows.push(
    ...translationsSampleRows(await readKTranslationsFile(kTranslations), xtd, kTranslations),
  );
}
await Deno.jupyter.display(
  await writeTableArtifact({
    id: "MT-T1",
    title: "Translation quality per engine and language pair (chrF2, BLEU; fractions)",
    rows,
    columns: [
      "engine",
      "pair",
      "test_set",
      "n_sentences",
      "chrf",
      "bleu",
      "status",
      "chrf_signature",
      "bleu_signature",
      "engine_signature",
      "note",
    ],
    formats: { chrf: 4, bleu: 4 },
    caption:
      "Corpus-level chrF2 and BLEU as fractions (sacrebleu score / 100) against human references; n_sentences = segments scored.",
    inputs: { dataset: ds.manifest.configHash },
    notes: [
      "Paper K used Google Translate on COCO and reports no translation quality; these rows measure the kit's offline substitutes.",
      "Quechua = Ayacucho Quechua (quy, FLORES quy_Latn).",
    ],
  }),
);
console.log(
  `engine calls this run: ${
    engineCalls(engines)
  } (0 = everything came from the translation caches)`,
);

// %% [markdown]
// ### Paper profile
//
// The engines are the same objects in the paper profile; to follow K more closely, give NLLB-200's model
// folder (`KIT_NLLB_MODEL`) and use `buildCaptionRecords` with `nllb` for es, ja, hi and qu (FLORES codes
// `spa_Latn jpn_Jpan hin_Deva quy_Latn`). Translating all of COCO's ~590k training captions with NLLB on a
// CPU takes days, so this notebook does not do it; the translation cache makes such a run resumable.
