/**
 * Machine-translation quality metrics written from their published definitions with sacrebleu
 * 2.x's defaults and signatures: corpus BLEU (13a tokenizer, exp smoothing) and chrF (character
 * 6-grams, β = 2, whitespace removed; chrF++ with `wordOrder: 2`). Scores are on sacrebleu's
 * 0–100 scale; checked against sacrebleu's own test values (tests/fixtures/sacrebleu_golden.json).
 *
 * ```ts
 * import { corpusBleu, corpusChrf } from "./mod.ts";
 * console.assert(corpusBleu(["a cat sat here"], [["a cat sat here"]]).score === 100);
 * console.assert(corpusChrf(["a cat"], [["a cat"]]).score === 100);
 * ```
 */
export * from "./text_split.ts";
export * from "./tokenizer.ts";
export * from "./signature.ts";
export * from "./bleu.ts";
export * from "./chrf.ts";
