import { KitError } from "../util/kit_error.ts";
import type { TokenBatch } from "./xlm_roberta_encoder.ts";

/** The JSON form of a `SubwordTokenizer` (saved beside the model). */
export interface SubwordTokenizerJson {
  format: "kit-subword-tokenizer/1";
  /** Longest piece, in code points (the word-start marker ▁ included). */
  maxPieceLength: number;
  /** Piece of every id: `<s>`, `<pad>`, `</s>`, `<unk>`, the learned pieces, then `<mask>`. */
  pieces: string[];
}

/** Options of `SubwordTokenizer.learn`. */
export interface LearnTokenizerOptions {
  /** Total vocabulary including the five special tokens. */
  vocabSize: number;
  /** Longest multi-character piece (default 6 code points). */
  maxPieceLength?: number;
  /** Pieces seen fewer times are not kept (default 2). */
  minCount?: number;
}

const WORD_START = "▁";
const WORD_RE = /[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;

/** NFKC, lower case, then words (letter/mark/digit runs) and single punctuation marks, each with ▁. */
function preTokenize(text: string): string[] {
  const norm = text.normalize("NFKC").toLowerCase();
  return (norm.match(WORD_RE) ?? []).map((w) => WORD_START + w);
}

/**
 * A deterministic subword tokenizer the kit learns from its own pretraining text, so the mini
 * profile needs no downloaded vocabulary. Text is NFKC-normalised and lower-cased, split into
 * words (letter/digit runs; each punctuation mark alone; scripts without spaces give long
 * "words"), each marked with a leading `▁` as SentencePiece does. The vocabulary holds every
 * character seen at least `minCount` times plus the substrings (up to `maxPieceLength` code
 * points) that save the most characters (`count × (length − 1)`); words are cut by greedy
 * longest match (WordPiece-style), unknown characters become `<unk>`. Special ids follow XLM-R:
 * `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, `<mask>` last.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubwordTokenizer } from "./subword_tokenizer.ts";
 * const tok = SubwordTokenizer.learn(["a red car", "a red cat", "rojo"], { vocabSize: 40, minCount: 1 });
 * const ids = tok.encode("A red car.");
 * assert(ids[0] === 0 && ids.at(-1) === 2);
 * ```
 */
export class SubwordTokenizer {
  readonly pieces: readonly string[];
  readonly maxPieceLength: number;
  readonly #ids: Map<string, number>;
  readonly #cache = new Map<string, number[]>();
  readonly bosId = 0;
  readonly padId = 1;
  readonly eosId = 2;
  readonly unkId = 3;

  constructor(json: SubwordTokenizerJson, where = "tokenizer") {
    if (json?.format !== "kit-subword-tokenizer/1" || !Array.isArray(json.pieces)) {
      throw new KitError(
        `${where}: not a kit subword tokenizer (format ${JSON.stringify(json?.format)})`,
      );
    }
    const p = json.pieces;
    if (
      p[0] !== "<s>" || p[1] !== "<pad>" || p[2] !== "</s>" || p[3] !== "<unk>" ||
      p.at(-1) !== "<mask>"
    ) {
      throw new KitError(
        `${where}: special tokens must be <s> <pad> </s> <unk> first and <mask> last`,
      );
    }
    this.pieces = p;
    this.maxPieceLength = json.maxPieceLength;
    this.#ids = new Map(p.map((s, i) => [s, i]));
    if (this.#ids.size !== p.length) throw new KitError(`${where}: duplicate pieces`);
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  get maskId(): number {
    return this.pieces.length - 1;
  }

  /** Learns a vocabulary from `texts` (deterministic: ties broken by the piece's code units). */
  static learn(texts: Iterable<string>, opts: LearnTokenizerOptions): SubwordTokenizer {
    const maxLen = opts.maxPieceLength ?? 6, minCount = opts.minCount ?? 2;
    const words = new Map<string, number>();
    for (const t of texts) for (const w of preTokenize(t)) words.set(w, (words.get(w) ?? 0) + 1);
    const chars = new Map<string, number>();
    const subs = new Map<string, number>();
    for (const [w, c] of words) {
      const cp = Array.from(w);
      for (let i = 0; i < cp.length; i++) {
        chars.set(cp[i]!, (chars.get(cp[i]!) ?? 0) + c);
        let s = cp[i]!;
        for (let l = 2; l <= maxLen && i + l <= cp.length; l++) {
          s += cp[i + l - 1]!;
          subs.set(s, (subs.get(s) ?? 0) + c);
        }
      }
    }
    const byScore = (a: [string, number], b: [string, number]) =>
      b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    const specials = ["<s>", "<pad>", "</s>", "<unk>"];
    const budget = opts.vocabSize - specials.length - 1;
    if (budget < 1) {
      throw new KitError(`tokenizer: vocabSize ${opts.vocabSize} leaves no room for pieces`);
    }
    const charList = [...chars].filter(([, c]) => c >= minCount).sort(byScore).slice(0, budget);
    const scored = [...subs]
      .filter(([, c]) => c >= minCount)
      .map(([s, c]) => [s, c * (Array.from(s).length - 1)] as [string, number])
      .sort(byScore)
      .slice(0, budget - charList.length);
    const pieces = [...specials, ...charList.map(([s]) => s), ...scored.map(([s]) => s), "<mask>"];
    return new SubwordTokenizer({
      format: "kit-subword-tokenizer/1",
      maxPieceLength: maxLen,
      pieces,
    });
  }

  /** Piece ids of one word (greedy longest match). */
  #word(w: string): number[] {
    const hit = this.#cache.get(w);
    if (hit) return hit;
    const cp = Array.from(w);
    const out: number[] = [];
    let i = 0;
    while (i < cp.length) {
      let found = -1, len = 1;
      for (let l = Math.min(this.maxPieceLength, cp.length - i); l >= 1; l--) {
        const id = this.#ids.get(cp.slice(i, i + l).join(""));
        if (id !== undefined && id > 3 && id < this.maskId) {
          found = id;
          len = l;
          break;
        }
      }
      out.push(found >= 0 ? found : this.unkId);
      i += len;
    }
    if (this.#cache.size < 200_000) this.#cache.set(w, out);
    return out;
  }

  /** `<s>` + pieces + `</s>`, cut to at most `maxLength` ids (the `</s>` is kept). */
  encode(text: string, maxLength = Infinity): number[] {
    const ids = [this.bosId];
    for (const w of preTokenize(text)) ids.push(...this.#word(w));
    if (ids.length + 1 > maxLength) ids.length = Math.max(1, maxLength - 1);
    ids.push(this.eosId);
    return ids;
  }

  /** The pieces of `text` (for display). */
  tokenize(text: string): string[] {
    return this.encode(text).map((i) => this.pieces[i]!);
  }

  /** Encodes `texts` and pads them with `<pad>` to the longest (at most `maxLength`). */
  batch(texts: readonly string[], maxLength: number): TokenBatch {
    return this.padBatch(texts.map((t) => this.encode(t, maxLength)));
  }

  /** Pads already encoded id lists with `<pad>` to the longest of them. */
  padBatch(encoded: readonly (readonly number[])[]): TokenBatch {
    let length = 2;
    for (const e of encoded) length = Math.max(length, e.length);
    const ids = new Int32Array(encoded.length * length).fill(this.padId);
    encoded.forEach((e, r) => ids.set(e, r * length));
    return { ids, batch: encoded.length, length };
  }

  toJSON(): SubwordTokenizerJson {
    return {
      format: "kit-subword-tokenizer/1",
      maxPieceLength: this.maxPieceLength,
      pieces: [...this.pieces],
    };
  }

  /** Reads a tokenizer saved as JSON (KitError naming the file otherwise). */
  static async read(path: string): Promise<SubwordTokenizer> {
    let json: SubwordTokenizerJson;
    try {
      json = JSON.parse(await Deno.readTextFile(path));
    } catch (err) {
      throw new KitError(
        `${path}: cannot read tokenizer (${err instanceof Error ? err.message : err})`,
      );
    }
    return new SubwordTokenizer(json, path);
  }
}
