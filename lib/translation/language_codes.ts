import { KitError } from "../util/kit_error.ts";

/** One language under its three names: caption key (ISO 639-1, else 639-3), ISO 639-3, FLORES-200. */
export interface LanguageCodes {
  /** The key captions use: `en`, `es`, `qu`, … (ISO 639-1 where one exists, else ISO 639-3). */
  iso: string;
  /** ISO 639-3 (Apertium's pair names use these: `eng-spa`). */
  iso3: string;
  /** FLORES-200 / NLLB code, e.g. `spa_Latn`, `quy_Latn`. */
  flores: string;
  name: string;
}

// [iso, iso3, flores, name]; Quechua is Ayacucho Quechua (quy), the variety of FLORES-200, of
// AmericasNLP's dictionaries and of K's Table 1.
const TABLE: readonly (readonly [string, string, string, string])[] = [
  ["en", "eng", "eng_Latn", "English"],
  ["es", "spa", "spa_Latn", "Spanish"],
  ["ja", "jpn", "jpn_Jpan", "Japanese"],
  ["hi", "hin", "hin_Deva", "Hindi"],
  ["qu", "quy", "quy_Latn", "Quechua (Ayacucho)"],
  ["ar", "arb", "arb_Arab", "Arabic"],
  ["de", "deu", "deu_Latn", "German"],
  ["fr", "fra", "fra_Latn", "French"],
  ["it", "ita", "ita_Latn", "Italian"],
  ["pt", "por", "por_Latn", "Portuguese"],
  ["zh", "zho", "zho_Hans", "Chinese (simplified)"],
  ["zh_TW", "zho", "zho_Hant", "Chinese (traditional)"],
  ["ru", "rus", "rus_Cyrl", "Russian"],
  ["tr", "tur", "tur_Latn", "Turkish"],
  ["vi", "vie", "vie_Latn", "Vietnamese"],
  ["th", "tha", "tha_Thai", "Thai"],
  ["sw", "swh", "swh_Latn", "Swahili"],
  ["ur", "urd", "urd_Arab", "Urdu"],
  ["bg", "bul", "bul_Cyrl", "Bulgarian"],
  ["el", "ell", "ell_Grek", "Greek"],
  ["ca", "cat", "cat_Latn", "Catalan"],
  ["cs", "ces", "ces_Latn", "Czech"],
  ["da", "dan", "dan_Latn", "Danish"],
  ["nl", "nld", "nld_Latn", "Dutch"],
  ["fi", "fin", "fin_Latn", "Finnish"],
  ["hu", "hun", "hun_Latn", "Hungarian"],
  ["id", "ind", "ind_Latn", "Indonesian"],
  ["ko", "kor", "kor_Hang", "Korean"],
  ["pl", "pol", "pol_Latn", "Polish"],
  ["ro", "ron", "ron_Latn", "Romanian"],
  ["sv", "swe", "swe_Latn", "Swedish"],
  ["uk", "ukr", "ukr_Cyrl", "Ukrainian"],
  ["he", "heb", "heb_Hebr", "Hebrew"],
  ["gl", "glg", "glg_Latn", "Galician"],
  ["eu", "eus", "eus_Latn", "Basque"],
  ["fa", "pes", "pes_Arab", "Persian"],
  ["bn", "ben", "ben_Beng", "Bengali"],
  ["ta", "tam", "tam_Taml", "Tamil"],
  ["ay", "ayr", "ayr_Latn", "Aymara"],
  ["gn", "grn", "grn_Latn", "Guarani"],
];

// Other names a user or a dataset may write for the same language.
const ALIASES: Record<string, string> = {
  que: "qu",
  quy: "qu",
  "qu-PE": "qu",
  spa: "es",
  eng: "en",
  ara: "ar",
  "zh_CN": "zh",
  "zh-CN": "zh",
  "zh-TW": "zh_TW",
  "pt_BR": "pt",
  "pt-BR": "pt",
  "en_GB": "en",
  "en_US": "en",
  "en_AU": "en",
  "es_ES": "es",
  "es_MX": "es",
  fas: "fa",
  per: "fa",
  swa: "sw",
  aym: "ay",
  grn: "gn",
  heb: "he",
};

const BY_ISO = new Map(
  TABLE.map(([iso, iso3, flores, name]) => [iso, { iso, iso3, flores, name }]),
);
const BY_FLORES = new Map(TABLE.map(([iso, , flores]) => [flores.toLowerCase(), iso]));
const BY_ISO3 = new Map<string, string>();
for (const [iso, iso3] of TABLE) if (!BY_ISO3.has(iso3)) BY_ISO3.set(iso3, iso);

/**
 * The codes of a language given any of its names: ISO 639-1 (`es`), ISO 639-3 (`spa`, `quy`),
 * FLORES-200 (`spa_Latn`, `quy_Latn`) or a locale (`pt_BR`, `zh_CN`). `qu`, `que` and `quy` all
 * mean Ayacucho Quechua (`quy_Latn`). Throws a KitError for a code it does not know.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { languageCodes } from "./language_codes.ts";
 * assert(languageCodes("quy").flores === "quy_Latn" && languageCodes("spa_Latn").iso === "es");
 * ```
 */
export function languageCodes(code: string): LanguageCodes {
  const c = code.trim();
  const iso = BY_ISO.has(c)
    ? c
    : ALIASES[c] ?? BY_FLORES.get(c.toLowerCase()) ?? BY_ISO3.get(c.toLowerCase()) ??
      (BY_ISO.has(c.toLowerCase()) ? c.toLowerCase() : undefined);
  const hit = iso === undefined ? undefined : BY_ISO.get(iso);
  if (!hit) {
    throw new KitError(
      `language code "${code}": not known to the kit's translation step`,
      [`use an ISO 639-1/639-3 or FLORES-200 code, e.g. es, spa, spa_Latn, qu, quy_Latn (known: ${
        [...BY_ISO.keys()].join(" ")
      })`],
    );
  }
  return hit;
}

/** The FLORES-200 code (`es` → `spa_Latn`, `qu` → `quy_Latn`). */
export function floresCode(code: string): string {
  return languageCodes(code).flores;
}

/** The caption key (`spa_Latn` → `es`, `quy` → `qu`). */
export function isoCode(code: string): string {
  return languageCodes(code).iso;
}
