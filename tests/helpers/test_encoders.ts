/** Sentence encoders for tests: they implement the SentenceEncoder interface without a model. */
import type { SentenceEncoder } from "../../lib/encoders/encoder.ts";
import { type RowMatrix, rowMatrix } from "../../lib/retrieval/mod.ts";
import { SeededRandom } from "../../lib/util/seeded_random.ts";

/** FNV-1a 32-bit hash of a string (for seeds and feature hashing). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** An encoder whose vector of a text is `vectorOf(text, lang)`; counts the sentences it embeds. */
export function functionEncoder(
  id: string,
  dim: number,
  vectorOf: (text: string, lang: string) => ArrayLike<number>,
): SentenceEncoder & { calls: number; embedded: number } {
  const enc = {
    id,
    dim,
    calls: 0,
    embedded: 0,
    embed(texts: readonly string[], lang: string): Promise<RowMatrix> {
      enc.calls++;
      enc.embedded += texts.length;
      const data = new Float32Array(texts.length * dim);
      texts.forEach((t, i) => data.set(vectorOf(t, lang), i * dim));
      return Promise.resolve(rowMatrix(data, texts.length, dim));
    },
    dispose() {},
  };
  return enc;
}

function gaussian(seed: number, dim: number): Float32Array {
  const r = new SeededRandom(seed);
  return Float32Array.from({ length: dim }, () => r.normal());
}

/**
 * Translations share one vector: the vector depends only on `meaningOf(text)` (e.g. the
 * sentence index encoded in the text), never on the language.
 */
export function identicalEncoder(dim: number, meaningOf: (text: string) => string) {
  return functionEncoder("test/identical", dim, (t) => gaussian(fnv1a(meaningOf(t)), dim));
}

/** Every (language, text) gets an independent random vector: no cross-lingual alignment. */
export function independentEncoder(dim: number, seed = 0) {
  return functionEncoder(
    "test/independent",
    dim,
    (t, lang) => gaussian(fnv1a(`${seed}|${lang}|${t}`), dim),
  );
}

/** Character n-grams (n = 1..3, with boundary marks) hashed with signs into `dim` buckets. */
export function hashedNgrams(text: string, dim: number): Float32Array {
  const v = new Float32Array(dim);
  const s = ` ${text.toLowerCase()} `;
  for (let n = 1; n <= 3; n++) {
    for (let i = 0; i + n <= s.length; i++) {
      const h = fnv1a(s.slice(i, i + n));
      v[h % dim]! += (h >>> 31) === 1 ? 1 : -1;
    }
  }
  return v;
}

/** An encoder of hashed character n-grams: similar strings get similar vectors. */
export function hashedNgramEncoder(dim: number) {
  return functionEncoder("test/hashed-ngrams", dim, (t) => hashedNgrams(t, dim));
}
