import { KitError } from "../util/kit_error.ts";

/** The sentences of one language, each the translation of one benchmark unit's pivot sentence. */
export interface BitextLanguageSet {
  /** Language code as the source writes it (`quy_Latn` for FLORES, `es` for stamp captions). */
  lang: string;
  /** Sentences in `lang`, row i translating `pivot[units[i]]`. */
  texts: string[];
  /** The benchmark unit (pivot sentence) of each row. */
  units: Int32Array;
  /** The K-T1 groups the language counts in (`all`, `in-xlmr`, `quechua`, `stamps`, …). */
  groups: string[];
}

/** A bitext retrieval benchmark: pivot (English) sentences, and the languages aligned to them. */
export interface BitextBenchmark {
  /** `flores` (FLORES-200 devtest or its SIB-200 copy) or `stamps` (held-out stamp captions). */
  name: string;
  /** What was loaded, in words (shown in notes). */
  description: string;
  /** Language code of the pivot sentences (`eng_Latn`, `en`). */
  pivotLang: string;
  /** One pivot sentence per unit; units are what the bootstrap resamples. */
  pivot: string[];
  sets: BitextLanguageSet[];
  /** Input checksums and sizes for provenance. */
  inputs: Record<string, string>;
}

/**
 * Checks a benchmark: non-empty, every row's unit in range, no unit twice within a language,
 * no empty sentence, at least `k + 1` rows per language (xsim's within-language neighbourhood
 * of size `k` excludes the sentence itself).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBitextBenchmark } from "./bitext_benchmark.ts";
 * const ok = {
 *   name: "t",
 *   description: "",
 *   pivotLang: "en",
 *   pivot: ["a", "b"],
 *   inputs: {},
 *   sets: [{ lang: "es", texts: ["x", "y"], units: new Int32Array([0, 1]), groups: ["all"] }],
 * };
 * checkBitextBenchmark(ok, 1); // returns: the benchmark is well formed
 * assert.throws(() => checkBitextBenchmark({ ...ok, pivot: [] }, 1), /no pivot sentences/);
 * ```
 */
export function checkBitextBenchmark(b: BitextBenchmark, k = 4): void {
  const at = `bitext benchmark "${b.name}"`;
  if (b.pivot.length === 0) throw new KitError(`${at}: no pivot sentences`);
  if (b.sets.length === 0) throw new KitError(`${at}: no languages to evaluate`);
  b.pivot.forEach((s, i) => {
    if (s.trim() === "") throw new KitError(`${at}: pivot sentence ${i} is empty`);
  });
  for (const s of b.sets) {
    if (s.texts.length !== s.units.length) {
      throw new KitError(
        `${at}, ${s.lang}: ${s.texts.length} sentences but ${s.units.length} units`,
      );
    }
    if (s.texts.length < k + 1) {
      throw new KitError(
        `${at}, ${s.lang}: ${s.texts.length} sentences; xsim needs at least k+1=${k + 1}`,
      );
    }
    const seen = new Set<number>();
    for (let i = 0; i < s.units.length; i++) {
      const u = s.units[i]!;
      if (u < 0 || u >= b.pivot.length) {
        throw new KitError(
          `${at}, ${s.lang}: row ${i} has unit ${u}, outside [0, ${b.pivot.length})`,
        );
      }
      if (seen.has(u)) throw new KitError(`${at}, ${s.lang}: unit ${u} appears twice`);
      seen.add(u);
      if (s.texts[i]!.trim() === "") throw new KitError(`${at}, ${s.lang}: sentence ${i} is empty`);
    }
  }
}
