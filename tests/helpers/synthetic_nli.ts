import type { NliTextPairs } from "../../lib/xnli/mod.ts";

/**
 * `n` synthetic NLI pairs in `lang`, numbered from `offset`: pair k's label is k mod 3, spelt out
 * at the end of its hypothesis ("yes" / "maybe" / "no"), so an encoder that sees the words can
 * learn the task and the same k means the same pair in every language.
 */
export function syntheticNliPairs(lang: string, n: number, offset: number): NliTextPairs {
  const premise: string[] = [], hypothesis: string[] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = offset + i, y = k % 3;
    premise.push(`${lang} premise ${Math.floor(k / 3)}`);
    hypothesis.push(`${lang} premise ${Math.floor(k / 3)} ${["yes", "maybe", "no"][y]}`);
    labels.push(y);
  }
  return {
    lang,
    premise,
    hypothesis,
    labels: Int32Array.from(labels),
    ids: premise.map((_, i) => String(offset + i)),
  };
}
