/**
 * Notebook 01's translation step, explicit, swappable and measured: a `Translator` interface with
 * engine signatures and ISO 639 ↔ FLORES-200 codes; an append-only, fsync'd, resumable cache in
 * front of every engine; engines `apertium` (en→es, offline), `gloss` (es→qu from the AmericasNLP
 * 2021 dictionaries, a crude documented baseline), `pivot` (en→es→qu), `nllb` (NLLB-200 via
 * transformers.js when its model is present), `human` (the dataset's own captions); K's caption
 * records for training (`loadCaptionRecords`) and the MT-T1 quality rows.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { floresCode, isoCode } from "./mod.ts";
 * assert(floresCode("es") === "spa_Latn" && isoCode("quy_Latn") === "qu");
 * ```
 */
export * from "./language_codes.ts";
export * from "./translator.ts";
export * from "./translation_cache.ts";
export * from "./apertium_engine.ts";
export * from "./americasnlp_data.ts";
export * from "./gloss_engine.ts";
export * from "./pivot_translator.ts";
export * from "./human_engine.ts";
export * from "./nllb_engine.ts";
export * from "./caption_records.ts";
export * from "./translation_step.ts";
export * from "./translations_sample_quality.ts";
