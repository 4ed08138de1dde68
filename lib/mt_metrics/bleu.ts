import { KitError } from "../util/kit_error.ts";
import { MT_METRICS_VERSION } from "./signature.ts";
import { bleuTokenize, type BleuTokenizer } from "./tokenizer.ts";
import { pythonSplit } from "./text_split.ts";

/** How BLEU treats n-gram orders without matches (sacrebleu's `smooth_method`). */
export type BleuSmoothing = "exp" | "floor" | "add-k" | "none";

/** BLEU options; the defaults are sacrebleu 2.x's `corpus_bleu` defaults. */
export interface BleuOptions {
  /** Tokenizer applied to hypotheses and references. Default `13a`. */
  tokenize?: BleuTokenizer;
  /** Default `exp` (the NIST geometric sequence 1/2^k). */
  smoothMethod?: BleuSmoothing;
  /** For `floor` (default 0.1) and `add-k` (default 1). */
  smoothValue?: number;
  /** Lowercase before tokenizing. Default false. */
  lowercase?: boolean;
  /** Average only over the n-gram orders the hypothesis has (sentence-level use). Default false. */
  effectiveOrder?: boolean;
  /** Default 4. */
  maxNgramOrder?: number;
}

/** Corpus statistics: matched and total n-grams per order, hypothesis and reference length. */
export interface BleuStatistics {
  correct: number[];
  total: number[];
  sysLen: number;
  refLen: number;
}

/** A BLEU score on sacrebleu's 0–100 scale, with its parts and its signature. */
export interface BleuScore {
  name: "BLEU";
  /** 0–100, as sacrebleu reports it. */
  score: number;
  /** Per-order precisions (0–100). */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  stats: BleuStatistics;
  /** Segments scored. */
  segments: number;
  /** e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x+kit`. */
  signature: string;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number | null> = {
  exp: null,
  floor: 0.1,
  "add-k": 1,
  none: null,
};

function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** Word n-grams of orders 1..maxOrder of a token list, counted. */
function wordNgrams(tokens: string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const g = `${n}\u0001${tokens.slice(i, i + n).join(" ")}`;
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  return counts;
}

/** The reference length closest to the hypothesis length (ties: the shorter), as sacrebleu. */
function closestRefLen(hypLen: number, refLens: number[]): number {
  let refLen = -1, best = -1;
  for (const r of refLens) {
    const diff = Math.abs(hypLen - r);
    if (best === -1 || diff < best) {
      best = diff;
      refLen = r;
    } else if (diff === best && r < refLen) refLen = r;
  }
  return refLen;
}

/**
 * BLEU from sufficient statistics (sacrebleu's `compute_bleu`): brevity penalty
 * `exp(1 − r/c)` when c < r, geometric mean of the (smoothed) n-gram precisions.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bleuFromStatistics } from "./bleu.ts";
 * const s = bleuFromStatistics({ correct: [9, 7, 5, 3], total: [10, 8, 6, 4], sysLen: 11, refLen: 11 });
 * assert(Math.abs(s.score - 83.75922397) < 1e-6);
 * ```
 */
export function bleuFromStatistics(
  stats: BleuStatistics,
  opts: Pick<BleuOptions, "smoothMethod" | "smoothValue" | "effectiveOrder" | "maxNgramOrder"> = {},
): { score: number; precisions: number[]; bp: number } {
  const method = opts.smoothMethod ?? "exp";
  if (!(method in SMOOTH_DEFAULTS)) {
    throw new KitError(`BLEU smoothMethod "${method}": expected exp, floor, add-k or none`);
  }
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const maxOrder = opts.maxNgramOrder ?? 4;
  const correct = [...stats.correct];
  const total = [...stats.total];
  const { sysLen, refLen } = stats;
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  if (!correct.some((c) => c > 0)) return { score: 0, precisions, bp };
  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (method === "add-k" && n > 1) {
      correct[n - 1]! += smoothValue;
      total[n - 1]! += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (opts.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (method === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
      } else if (method === "floor") {
        precisions[n - 1] = (100 * smoothValue) / total[n - 1]!;
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += myLog(precisions[i]!);
  return { score: bp * Math.exp(logSum / effOrder), precisions, bp };
}

/** The sacrebleu 2.x BLEU signature for these options and reference streams. */
export function bleuSignature(opts: BleuOptions = {}, nrefs = 1): string {
  const method = opts.smoothMethod ?? "exp";
  const value = opts.smoothValue ?? SMOOTH_DEFAULTS[method];
  const smooth = method === "floor" || method === "add-k"
    ? `${method}[${(value ?? 0).toFixed(2)}]`
    : method;
  return [
    `nrefs:${nrefs}`,
    `case:${opts.lowercase ? "lc" : "mixed"}`,
    `eff:${opts.effectiveOrder ? "yes" : "no"}`,
    `tok:${opts.tokenize ?? "13a"}`,
    `smooth:${smooth}`,
    `version:${MT_METRICS_VERSION}`,
  ].join("|");
}

function checkStreams(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  what: string,
): void {
  if (references.length === 0) {
    throw new KitError(`${what}: expected at least one reference stream`);
  }
  references.forEach((stream, i) => {
    if (stream.length !== hypotheses.length) {
      throw new KitError(
        `${what}: reference stream ${i} has ${stream.length} segments, expected ${hypotheses.length} (one per hypothesis)`,
      );
    }
  });
}

/**
 * Corpus BLEU as sacrebleu 2.x's `corpus_bleu(hypotheses, references)`: `references` is a list of
 * reference *streams*, each with one segment per hypothesis. Statistics are summed over the
 * corpus, then one score is computed (not an average of sentence scores).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { corpusBleu } from "./bleu.ts";
 * const b = corpusBleu(["this is a test"], [["this is a test"]]);
 * // a perfect match: exp(log 100) = 100.00000000000004 in floating point, in sacrebleu too
 * assert(Math.abs(b.score - 100) < 1e-9);
 * assert(b.signature.startsWith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp"));
 * ```
 */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  opts: BleuOptions = {},
): BleuScore {
  checkStreams(hypotheses, references, "corpusBleu");
  const tok = opts.tokenize ?? "13a";
  const maxOrder = opts.maxNgramOrder ?? 4;
  const prep = (s: string) => pythonSplit(bleuTokenize(opts.lowercase ? s.toLowerCase() : s, tok));
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  let sysLen = 0, refLen = 0;
  for (let i = 0; i < hypotheses.length; i++) {
    const refNgrams = new Map<string, number>();
    const refLens: number[] = [];
    for (const stream of references) {
      const toks = prep(stream[i]!);
      refLens.push(toks.length);
      for (const [g, c] of wordNgrams(toks, maxOrder)) {
        if (c > (refNgrams.get(g) ?? 0)) refNgrams.set(g, c);
      }
    }
    const hyp = prep(hypotheses[i]!);
    sysLen += hyp.length;
    refLen += closestRefLen(hyp.length, refLens);
    for (const [g, c] of wordNgrams(hyp, maxOrder)) {
      const n = Number(g.slice(0, g.indexOf("\u0001"))) - 1;
      total[n]! += c;
      const r = refNgrams.get(g);
      if (r !== undefined) correct[n]! += Math.min(c, r);
    }
  }
  const stats = { correct, total, sysLen, refLen };
  const { score, precisions, bp } = bleuFromStatistics(stats, opts);
  return {
    name: "BLEU",
    score,
    precisions,
    bp,
    stats,
    segments: hypotheses.length,
    signature: bleuSignature(opts, references.length),
  };
}

/**
 * Sentence BLEU (sacrebleu's `sentence_bleu`): corpus BLEU of one segment, with `effectiveOrder`
 * on by default, as sacrebleu recommends for single sentences.
 */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  opts: BleuOptions = {},
): BleuScore {
  return corpusBleu([hypothesis], references.map((r) => [r]), { effectiveOrder: true, ...opts });
}
