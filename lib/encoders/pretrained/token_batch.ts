import { KitError } from "../../util/kit_error.ts";

/** The part of a transformers.js tokenizer used here. */
export interface EncodingTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): number[];
  readonly pad_token_id: number;
}

/** A padded batch: row-major `batch × seqLen` ids and attention mask (1 = real token). */
export interface TokenBatch {
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly batch: number;
  readonly seqLen: number;
}

/**
 * Finds the special tokens a tokenizer wraps one sequence in (`<s> … </s>`, `[CLS] … [SEP]`)
 * by encoding a probe text with and without them. Null when the ids without specials do not
 * appear contiguously inside the ids with them.
 */
export function specialTokenTemplate(
  tokenizer: EncodingTokenizer,
): { prefix: number[]; suffix: number[] } | null {
  for (const probe of ["a", "hello world", "x"]) {
    const withSpecials = tokenizer.encode(probe);
    const bare = tokenizer.encode(probe, { add_special_tokens: false });
    if (bare.length === 0) continue;
    for (let k = 0; k + bare.length <= withSpecials.length; k++) {
      if (bare.every((id, i) => withSpecials[k + i] === id)) {
        return {
          prefix: withSpecials.slice(0, k),
          suffix: withSpecials.slice(k + bare.length),
        };
      }
    }
  }
  return null;
}

/**
 * Returns a function that tokenizes one text the way Hugging Face's Python tokenizers do with
 * `truncation=True, max_length=maxLength`: the text's own tokens are cut to
 * `maxLength − (number of special tokens)` and the special tokens are kept (transformers.js's
 * own truncation slices the end off, dropping `</s>` / `[SEP]`).
 */
export function makeTextTokenizer(
  tokenizer: EncodingTokenizer,
  maxLength: number,
): (text: string) => number[] {
  const template = specialTokenTemplate(tokenizer);
  const nSpecial = template ? template.prefix.length + template.suffix.length : 0;
  if (maxLength <= nSpecial) {
    throw new KitError(
      `maxLength ${maxLength} leaves no room for text: the tokenizer adds ${nSpecial} special tokens`,
    );
  }
  return (t) => {
    if (!template) return tokenizer.encode(t).slice(0, maxLength);
    const bare = tokenizer.encode(t, { add_special_tokens: false }).slice(0, maxLength - nSpecial);
    return [...template.prefix, ...bare, ...template.suffix];
  };
}

/**
 * Pads token rows to the longest (at least 1) with `padId`, attention mask 0 on the padding:
 * Python's `padding=True`.
 */
export function padTokenRows(rows: readonly (readonly number[])[], padId: number): TokenBatch {
  const seqLen = Math.max(1, ...rows.map((r) => r.length));
  const inputIds = new BigInt64Array(rows.length * seqLen).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(rows.length * seqLen);
  rows.forEach((r, b) => {
    r.forEach((id, t) => {
      inputIds[b * seqLen + t] = BigInt(id);
      attentionMask[b * seqLen + t] = 1n;
    });
  });
  return { inputIds, attentionMask, batch: rows.length, seqLen };
}

/**
 * Returns a function that tokenizes a batch the way Hugging Face's Python tokenizers do with
 * `truncation=True, max_length=maxLength, padding=True` (`makeTextTokenizer` a text, then
 * `padTokenRows` with the tokenizer's pad id).
 */
export function makeBatchTokenizer(
  tokenizer: EncodingTokenizer,
  maxLength: number,
): (texts: readonly string[]) => TokenBatch {
  const encode = makeTextTokenizer(tokenizer, maxLength);
  const pad = tokenizer.pad_token_id ?? 0;
  return (texts) => padTokenRows(texts.map(encode), pad);
}
