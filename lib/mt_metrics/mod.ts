/**
 * Machine-translation quality metrics written from their published definitions with sacrebleu
 * 2.x's defaults and signatures: corpus BLEU (13a tokenizer, exp smoothing) and chrF (character
 * 6-grams, β = 2, whitespace removed; chrF++ with `wordOrder: 2`). Scores are on sacrebleu's
 * 0–100 scale; checked against sacrebleu's own test values (tests/fixtures/sacrebleu_golden.json).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { corpusBleu, corpusChrf } from "./mod.ts";
 * // exp(log 100) = 100.00000000000004 in floating point (as in sacrebleu)
 * assert(Math.abs(corpusBleu(["a cat sat here"], [["a cat sat here"]]).score - 100) < 1e-9);
 * assert(corpusChrf(["a cat"], [["a cat"]]).score === 100);
 * ```
 */
export * from "./text_split.ts";
export * from "./tokenizer.ts";
export * from "./signature.ts";
export * from "./bleu.ts";
export * from "./chrf.ts";
