import xlmr from "../../data/xlmr_languages.json" with { type: "json" };
import { KitError } from "../util/kit_error.ts";

/** One of XLM-R's 100 pretraining languages (Conneau et al. 2020, Table 6). */
export interface XlmrLanguage {
  /** CC-100 code as Table 6 writes it (`es`, `zh-Hans`, `hi_rom`). */
  code: string;
  name: string;
  /** FLORES-200 codes of its standard written variety; empty where FLORES has none. */
  flores: string[];
}

/** XLM-R's pretraining languages, from `data/xlmr_languages.json` (sources cited there). */
export const XLMR_LANGUAGES: readonly XlmrLanguage[] = xlmr.languages;

/** Where the list and the FLORES mapping come from (for table notes). */
export const XLMR_LANGUAGES_SOURCE: Readonly<Record<string, string>> = xlmr.source;

/** How XLM-R languages were mapped to FLORES-200 codes (for table notes). */
export const XLMR_MAPPING_RULES: readonly string[] = xlmr.mapping_rules;

const FLORES_IN_XLMR: ReadonlySet<string> = new Set(XLMR_LANGUAGES.flatMap((l) => l.flores));

const FLORES_CODE = /^[a-z]{3}_[A-Z][a-z]{3}$/;

/** The two groups of paper K's Table 1 that split FLORES languages by XLM-R pretraining. */
export type XlmrGroup = "in-xlmr" | "not-in-xlmr";

/**
 * Whether a FLORES-200 language (`spa_Latn`, `quy_Latn`) is one of XLM-R's pretraining
 * languages ("in-xlmr") or not ("not-in-xlmr"), by the mapping in `data/xlmr_languages.json`.
 * A string that is not a FLORES code (`xxx_Yyyy`) is a KitError.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { xlmrGroupOf } from "./xlmr_languages.ts";
 * assert(xlmrGroupOf("spa_Latn") === "in-xlmr");
 * assert(xlmrGroupOf("quy_Latn") === "not-in-xlmr");
 * ```
 */
export function xlmrGroupOf(floresCode: string): XlmrGroup {
  if (!FLORES_CODE.test(floresCode)) {
    throw new KitError(
      `xlmrGroupOf: "${floresCode}" is not a FLORES-200 code; expected e.g. spa_Latn or quy_Latn`,
    );
  }
  return FLORES_IN_XLMR.has(floresCode) ? "in-xlmr" : "not-in-xlmr";
}

/** Every FLORES-200 code mapped to an XLM-R language (English included), sorted. */
export function xlmrFloresCodes(): string[] {
  return [...FLORES_IN_XLMR].sort();
}
