import { KitError } from "../util/kit_error.ts";
import { MT_METRICS_VERSION } from "./signature.ts";
import { pythonSplit } from "./text_split.ts";

/** chrF options; the defaults are sacrebleu 2.x's `CHRF()` defaults (chrF2). */
export interface ChrfOptions {
  /** Character n-gram order. Default 6. */
  charOrder?: number;
  /** Word n-gram order (2 = chrF++). Default 0. */
  wordOrder?: number;
  /** Recall weight β. Default 2. */
  beta?: number;
  /** Lowercase first. Default false. */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. Default false (whitespace removed). */
  whitespace?: boolean;
  /**
   * true: every order counts, an order without n-grams adds ε (chrF++.py / NLTK behaviour).
   * false (default, signature `eff:yes`): average precision and recall over the orders that
   * both sides have, then one F-score.
   */
  epsSmoothing?: boolean;
}

/** A chrF score on sacrebleu's 0–100 scale with its signature. */
export interface ChrfScore {
  /** `chrF2`, or `chrF2++` with word n-grams. */
  name: string;
  score: number;
  /** Summed statistics: per order [hypothesis n-grams, reference n-grams, matches]. */
  stats: number[];
  segments: number;
  /** e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x+kit`. */
  signature: string;
}

const PUNCTS = new Set(Array.from("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"));

/** sacrebleu's chrF++ word splitting: one leading or trailing punctuation mark split off a word. */
export function chrfWords(sentence: string): string[] {
  const out: string[] = [];
  for (const w of pythonSplit(sentence)) {
    const cps = Array.from(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCTS.has(cps[cps.length - 1]!)) {
      out.push(cps.slice(0, -1).join(""), cps[cps.length - 1]!);
    } else if (PUNCTS.has(cps[0]!)) out.push(cps[0]!, cps.slice(1).join(""));
    else out.push(w);
  }
  return out;
}

function count(grams: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const g of grams) m.set(g, (m.get(g) ?? 0) + 1);
  return m;
}

/** Character n-grams of orders 1..charOrder, then word n-grams of orders 1..wordOrder. */
function allNgrams(sentence: string, o: Required<ChrfOptions>): Map<string, number>[] {
  const s = o.lowercase ? sentence.toLowerCase() : sentence;
  const chars = Array.from(o.whitespace ? s : pythonSplit(s).join(""));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= o.charOrder; n++) {
    const grams: string[] = [];
    for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(""));
    out.push(count(grams));
  }
  if (o.wordOrder > 0) {
    const words = chrfWords(s);
    for (let n = 1; n <= o.wordOrder; n++) {
      const grams: string[] = [];
      for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join(" "));
      out.push(count(grams));
    }
  }
  return out;
}

function matchStats(hyp: Map<string, number>[], ref: Map<string, number>[]): number[] {
  const stats: number[] = [];
  for (let k = 0; k < hyp.length; k++) {
    const h = hyp[k]!, r = ref[k]!;
    let nh = 0, nr = 0, nm = 0;
    for (const c of h.values()) nh += c;
    for (const c of r.values()) nr += c;
    for (const [g, c] of h) {
      const rc = r.get(g);
      if (rc !== undefined) nm += Math.min(c, rc);
    }
    stats.push(nh, nr, nm);
  }
  return stats;
}

/** chrF from summed statistics (sacrebleu's `_compute_f_score`), 0–100. */
export function chrfFromStatistics(stats: readonly number[], opts: ChrfOptions = {}): number {
  const o = withDefaults(opts);
  const order = o.charOrder + o.wordOrder;
  if (stats.length !== 3 * order) {
    throw new KitError(
      `chrfFromStatistics: expected ${3 * order} statistics (3 per order), got ${stats.length}`,
    );
  }
  const eps = 1e-16;
  const factor = o.beta ** 2;
  let score = 0, avgPrec = 0, avgRec = 0, effective = 0;
  for (let i = 0; i < order; i++) {
    const nHyp = stats[3 * i]!, nRef = stats[3 * i + 1]!, nMatch = stats[3 * i + 2]!;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective += 1;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * (1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
}

function withDefaults(opts: ChrfOptions): Required<ChrfOptions> {
  const o = {
    charOrder: opts.charOrder ?? 6,
    wordOrder: opts.wordOrder ?? 0,
    beta: opts.beta ?? 2,
    lowercase: opts.lowercase ?? false,
    whitespace: opts.whitespace ?? false,
    epsSmoothing: opts.epsSmoothing ?? false,
  };
  if (
    !(Number.isInteger(o.charOrder) && o.charOrder >= 1) ||
    !(Number.isInteger(o.wordOrder) && o.wordOrder >= 0)
  ) {
    throw new KitError(
      `chrF: charOrder must be an integer ≥ 1 and wordOrder ≥ 0 (got ${o.charOrder}, ${o.wordOrder})`,
    );
  }
  if (!(o.beta > 0)) throw new KitError(`chrF: beta must be > 0 (got ${o.beta})`);
  return o;
}

/** The sacrebleu 2.x chrF signature for these options and reference streams. */
export function chrfSignature(opts: ChrfOptions = {}, nrefs = 1): string {
  const o = withDefaults(opts);
  return [
    `nrefs:${nrefs}`,
    `case:${o.lowercase ? "lc" : "mixed"}`,
    `eff:${o.epsSmoothing ? "no" : "yes"}`,
    `nc:${o.charOrder}`,
    `nw:${o.wordOrder}`,
    `space:${o.whitespace ? "yes" : "no"}`,
    `version:${MT_METRICS_VERSION}`,
  ].join("|");
}

/**
 * Corpus chrF as sacrebleu 2.x's `corpus_chrf(hypotheses, references)`: per segment the reference
 * with the best F-score is kept, statistics are summed over the corpus, one F-score is computed.
 * Defaults: character 6-grams, no word n-grams, β = 2, whitespace removed.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { corpusChrf } from "./chrf.ts";
 * const c = corpusChrf(["a b c"], [["abc"]]);
 * assert(c.score === 100 && c.name === "chrF2");
 * ```
 */
export function corpusChrf(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  opts: ChrfOptions = {},
): ChrfScore {
  const o = withDefaults(opts);
  if (references.length === 0) {
    throw new KitError("corpusChrf: expected at least one reference stream");
  }
  references.forEach((stream, i) => {
    if (stream.length !== hypotheses.length) {
      throw new KitError(
        `corpusChrf: reference stream ${i} has ${stream.length} segments, expected ${hypotheses.length} (one per hypothesis)`,
      );
    }
  });
  const order = o.charOrder + o.wordOrder;
  const total = new Array<number>(3 * order).fill(0);
  for (let i = 0; i < hypotheses.length; i++) {
    const hyp = allNgrams(hypotheses[i]!, o);
    let best: number[] = [];
    let bestF = -1;
    for (const stream of references) {
      const stats = matchStats(hyp, allNgrams(stream[i]!, o));
      const f = chrfFromStatistics(stats, o);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    best.forEach((v, k) => (total[k]! += v));
  }
  return {
    name: `chrF${o.beta}${o.wordOrder > 0 ? "+".repeat(o.wordOrder) : ""}`,
    score: chrfFromStatistics(total, o),
    stats: total,
    segments: hypotheses.length,
    signature: chrfSignature(o, references.length),
  };
}

/** Sentence chrF: corpus chrF of one segment against its references. */
export function sentenceChrf(
  hypothesis: string,
  references: readonly string[],
  opts: ChrfOptions = {},
): ChrfScore {
  return corpusChrf([hypothesis], references.map((r) => [r]), opts);
}
