import { KitError } from "../util/kit_error.ts";
import { languageCodes } from "./language_codes.ts";
import type { SpanishQuechuaPairs } from "./americasnlp_data.ts";
import { type EngineInfo, engineSignature, type Translator } from "./translator.ts";

/** Options of the gloss engine (all part of its signature). */
export interface GlossOptions {
  /** Longest dictionary phrase (in words) kept in the table (`buildGlossDictionary`). Default 6. */
  maxPhraseWords?: number;
  /** An unknown Spanish plural (`-s`, `-es`) is looked up singular and gets Quechua `-kuna`. Default true. */
  plurals?: boolean;
  /** Drop Spanish definite articles (Quechua has none). Default false (they are kept like any unknown word). */
  dropArticles?: boolean;
}

/** A Spanish → Quechua phrase table built from dictionary pairs. */
export interface GlossDictionary {
  /** Normalised Spanish phrase → Quechua gloss. */
  entries: Map<string, string>;
  /** Longest key in words. */
  maxWords: number;
  /** The `maxPhraseWords` it was built with. */
  maxPhraseWords: number;
  /** sha256 of the source pairs. */
  sha256: string;
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]/gu;
const IS_WORD = /^[\p{L}\p{M}\p{N}]/u;
const ARTICLES = new Set(["el", "la", "los", "las", "lo"]);

/** Lowercased words of a dictionary side, without the entry's surrounding punctuation. */
function entryWords(text: string): string[] {
  return (text.toLowerCase().normalize("NFC").match(WORD) ?? []).filter((t) => IS_WORD.test(t));
}

/**
 * Builds the phrase table: each dictionary line's Spanish side (lowercased, punctuation dropped)
 * maps to its Quechua side; a phrase with several glosses keeps the most frequent (ties: the
 * first). Entries listing synonyms (`a, b`) in up to three words each are also split.
 */
export function buildGlossDictionary(
  pairs: SpanishQuechuaPairs,
  opts: GlossOptions = {},
): GlossDictionary {
  const maxPhrase = opts.maxPhraseWords ?? 6;
  const votes = new Map<string, Map<string, number>>();
  const add = (es: string[], quy: string[]) => {
    if (es.length === 0 || quy.length === 0 || es.length > maxPhrase) return;
    const k = es.join(" "), v = quy.join(" ");
    const m = votes.get(k) ?? new Map<string, number>();
    m.set(v, (m.get(v) ?? 0) + 1);
    votes.set(k, m);
  };
  pairs.es.forEach((es, i) => {
    const quy = entryWords(pairs.quy[i]!);
    add(entryWords(es), quy);
    if (es.includes(",")) {
      const parts = es.split(",").map(entryWords);
      if (parts.every((p) => p.length > 0 && p.length <= 3)) { for (const p of parts) add(p, quy); }
    }
  });
  const entries = new Map<string, string>();
  let maxWords = 1;
  for (const [k, m] of votes) {
    let best = "", bestN = 0;
    for (const [v, n] of m) if (n > bestN) [best, bestN] = [v, n];
    entries.set(k, best);
    maxWords = Math.max(maxWords, k.split(" ").length);
  }
  return { entries, maxWords, maxPhraseWords: maxPhrase, sha256: pairs.sha256 };
}

/**
 * Glosses one Spanish sentence: greedy longest match of dictionary phrases over its words;
 * unknown words are kept as they are (names, loanwords and numbers often are the same in
 * Quechua), punctuation is kept.
 */
export function glossSentence(
  sentence: string,
  dict: GlossDictionary,
  opts: GlossOptions = {},
): string {
  const plurals = opts.plurals ?? true, dropArticles = opts.dropArticles ?? false;
  const tokens = sentence.normalize("NFC").match(WORD) ?? [];
  const out: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i]!;
    if (!IS_WORD.test(tok)) {
      out.push(tok);
      i++;
      continue;
    }
    let matched = false;
    for (let n = Math.min(dict.maxWords, tokens.length - i); n >= 1; n--) {
      const span = tokens.slice(i, i + n);
      if (!span.every((t) => IS_WORD.test(t))) continue;
      const hit = dict.entries.get(span.join(" ").toLowerCase());
      if (hit !== undefined) {
        out.push(hit);
        i += n;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    const low = tok.toLowerCase();
    if (dropArticles && ARTICLES.has(low)) {
      i++;
      continue;
    }
    let plural: string | undefined;
    if (plurals && low.length > 3) {
      if (low.endsWith("es")) plural = dict.entries.get(low.slice(0, -2));
      if (plural === undefined && low.endsWith("s")) plural = dict.entries.get(low.slice(0, -1));
    }
    out.push(plural !== undefined ? `${plural}kuna` : tok);
    i++;
  }
  let s = "";
  for (const t of out) {
    if (s === "" || /^[.,;:!?)\]»]$/.test(t) || /[¿¡(\[«]$/.test(s)) s += t;
    else s += ` ${t}`;
  }
  // Capitalise the first letter like the source.
  const first = sentence.trim().match(/\p{L}/u)?.[0];
  if (first && first === first.toUpperCase() && first !== first.toLowerCase()) {
    s = s.replace(
      /^([^\p{L}\p{N}]*)(\p{L})/u,
      (_m, pre: string, c: string) => pre + c.toUpperCase(),
    );
  }
  return s;
}

/**
 * The `gloss` engine: a deliberately crude, documented Spanish → Quechua baseline built from the
 * AmericasNLP 2021 dictionaries (word/phrase lookup, longest match first, unknown words kept,
 * Spanish plurals → `-kuna`). No word order change, no morphology
 * beyond `-kuna`: it is there so the Quechua setup can run offline, and MT-T1 measures how poor it
 * is. English → Quechua goes through Spanish (`pivotTranslator(apertium en→es, gloss es→qu)`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildGlossDictionary, glossTranslator } from "./gloss_engine.ts";
 * const dict = buildGlossDictionary({
 *   es: ["casa.", "perro."],
 *   quy: ["wasi.", "allqu."],
 *   files: ["a", "b"],
 *   sha256: "x",
 * });
 * const t = glossTranslator(dict);
 * assert.deepEqual(await t.translate(["Los perros y la casa."], "es", "qu"), [
 *   "Los allqukuna y la wasi.",
 * ]);
 * ```
 */
export function glossTranslator(
  dict: GlossDictionary,
  opts: Omit<GlossOptions, "maxPhraseWords"> = {},
): Translator {
  const info: EngineInfo = {
    name: "gloss",
    version: "1",
    model: `americasnlp2021-dict@${dict.sha256.slice(0, 12)}`,
    options: {
      maxPhrase: dict.maxPhraseWords,
      plurals: opts.plurals ?? true,
      dropArticles: opts.dropArticles ?? false,
    },
  };
  const ok = (f: string, t: string) =>
    languageCodes(f).iso === "es" && languageCodes(t).iso === "qu";
  return {
    info,
    signature: engineSignature(info),
    supports: ok,
    // deno-lint-ignore require-await
    async translate(texts, f, t) {
      if (!ok(f, t)) throw new KitError(`gloss engine: translates es→qu only, not ${f}→${t}`);
      return texts.map((s) => (s.trim() === "" ? "" : glossSentence(s, dict, opts)));
    },
  };
}
