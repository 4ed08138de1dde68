import { KitError } from "../util/kit_error.ts";
import { pythonSplit } from "./text_split.ts";

/** BLEU tokenizers implemented: sacrebleu's default `13a` (mteval-v13a), `none` and `char`. */
export type BleuTokenizer = "13a" | "none" | "char";

// mteval-v13a's language-dependent rules, in order (sacrebleu's TokenizerRegexp).
const RULES_13A: [RegExp, string][] = [
  // split off symbols and punctuation: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  [/([{-~[-` -&(-+:-@/])/g, " $1 "],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/g, "$1 $2 "],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/g, " $1 $2"],
  // dash when preceded by a digit
  [/([0-9])(-)/g, "$1 $2 "],
];

/**
 * sacrebleu's `13a` tokenizer (the mteval-v13a.pl rules, sacrebleu's BLEU default): removes
 * `<skipped>`, joins `-\n` line breaks, unescapes `&quot; &amp; &lt; &gt;`, splits punctuation
 * off words (periods and commas only when not next to a digit), then single-spaces.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenize13a } from "./tokenizer.ts";
 * assert(tokenize13a("It wasn't 3.5 km, he said.") === "It wasn't 3.5 km , he said .");
 * ```
 */
export function tokenize13a(line: string): string {
  let s = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (s.includes("&")) {
    s = s.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll(
      "&gt;",
      ">",
    );
  }
  s = ` ${s} `;
  for (const [re, repl] of RULES_13A) s = s.replace(re, repl);
  return pythonSplit(s).join(" ");
}

/** sacrebleu's `char` tokenizer: every code point becomes a token. */
export function tokenizeChar(line: string): string {
  return pythonSplit(Array.from(line).join(" ")).join(" ");
}

/** Applies a BLEU tokenizer by name (a KitError for an unknown one). */
export function bleuTokenize(line: string, tokenizer: BleuTokenizer): string {
  switch (tokenizer) {
    case "13a":
      return tokenize13a(line);
    case "none":
      return line;
    case "char":
      return tokenizeChar(line);
    default:
      throw new KitError(`BLEU tokenizer "${tokenizer}": expected one of 13a, none, char`);
  }
}
