import type { SentenceEncoder } from "../encoders/encoder.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/** Texts of several languages for an embedding figure: the same sentences in every language. */
export interface ParallelSubsample {
  languages: string[];
  /** `texts[l][i]` is sentence `units[i]` in `languages[l]`. */
  texts: string[][];
  units: Int32Array;
}

/**
 * Draws `perLanguage` sentence indices (seeded, without replacement, sorted) of `n` parallel
 * sentences and returns those sentences in each of `languages` (`sentencesOf(lang)` gives a
 * language's n sentences). Using the same sentences in every language lets a figure show
 * whether translations land together.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parallelSubsample } from "./parallel_subsample.ts";
 * const s = parallelSubsample(["en", "es"], (l) => ["a", "b", "c"].map((x) => `${l}:${x}`), 2, 1);
 * assert(s.texts[1]![0]!.startsWith("es:") && s.units.length === 2);
 * ```
 */
export function parallelSubsample(
  languages: readonly string[],
  sentencesOf: (lang: string) => readonly string[],
  perLanguage: number,
  seed: number,
): ParallelSubsample {
  if (languages.length === 0) throw new KitError("parallelSubsample: no languages");
  const n = sentencesOf(languages[0]!).length;
  for (const l of languages) {
    if (sentencesOf(l).length !== n) {
      throw new KitError(
        `parallelSubsample: ${l} has ${sentencesOf(l).length} sentences, ${languages[0]} has ${n}`,
      );
    }
  }
  const k = Math.min(perLanguage, n);
  const all = Array.from({ length: n }, (_, i) => i);
  const units = Int32Array.from(new SeededRandom(seed).shuffle(all).slice(0, k)).sort();
  return {
    languages: [...languages],
    texts: languages.map((l) => Array.from(units, (u) => sentencesOf(l)[u]!)),
    units,
  };
}

/** Embeds a subsample with one encoder: all languages stacked, with each row's language and text. */
export async function embedSubsample(
  encoder: SentenceEncoder,
  s: ParallelSubsample,
): Promise<{ points: RowMatrix; languages: string[]; text: string[] }> {
  const parts: RowMatrix[] = [];
  for (const [i, lang] of s.languages.entries()) parts.push(await encoder.embed(s.texts[i]!, lang));
  const rows = parts.reduce((a, m) => a + m.rows, 0);
  const data = new Float32Array(rows * encoder.dim);
  let at = 0;
  for (const m of parts) {
    data.set(m.data, at);
    at += m.data.length;
  }
  return {
    points: { data, rows, cols: encoder.dim },
    languages: s.languages.flatMap((l, i) => s.texts[i]!.map(() => l)),
    text: s.texts.flat(),
  };
}
