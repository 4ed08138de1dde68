import type { SentenceEncoder } from "../encoders/encoder.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";
import type { NliTextPairs } from "./nli_benchmark.ts";
import type { EmbeddedNliPairs } from "./nli_pairs.ts";

/**
 * Embeds each distinct text once, in chunks of `chunk` texts; returns the embeddings of the
 * distinct texts and, per input text, its row.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { embedDistinct } from "./nli_embedding.ts";
 * const calls: string[][] = [];
 * const encoder = {
 *   id: "length",
 *   dim: 1,
 *   embed: (texts: readonly string[]) => {
 *     calls.push([...texts]);
 *     const data = Float32Array.from(texts, (t) => t.length);
 *     return Promise.resolve({ data, rows: texts.length, cols: 1 });
 *   },
 *   dispose: () => {},
 * };
 * const { matrix, rowOf } = await embedDistinct(encoder, ["a", "bb", "a"], "en");
 * assert.deepEqual(calls, [["a", "bb"]]); // each distinct text embedded once
 * assert.deepEqual([...matrix.data], [1, 2]);
 * assert.deepEqual([...rowOf], [0, 1, 0]);
 * ```
 */
export async function embedDistinct(
  encoder: SentenceEncoder,
  texts: readonly string[],
  lang: string,
  chunk = 4096,
): Promise<{ matrix: RowMatrix; rowOf: Int32Array }> {
  const index = new Map<string, number>();
  const distinct: string[] = [];
  const rowOf = new Int32Array(texts.length);
  texts.forEach((t, i) => {
    let r = index.get(t);
    if (r === undefined) {
      r = distinct.length;
      index.set(t, r);
      distinct.push(t);
    }
    rowOf[i] = r;
  });
  const data = new Float32Array(distinct.length * encoder.dim);
  for (let s = 0; s < distinct.length; s += chunk) {
    const part = distinct.slice(s, s + chunk);
    const m = await encoder.embed(part, lang);
    if (m.rows !== part.length || m.cols !== encoder.dim) {
      throw new KitError(
        `encoder ${encoder.id}: returned ${m.rows}×${m.cols} for ${part.length} ${lang} texts (expected width ${encoder.dim})`,
      );
    }
    data.set(m.data, s * encoder.dim);
  }
  return { matrix: { data, rows: distinct.length, cols: encoder.dim }, rowOf };
}

/** Embeds NLI text pairs (premises and hypotheses each once per distinct text). */
export async function embedNliPairs(
  encoder: SentenceEncoder,
  pairs: NliTextPairs,
): Promise<EmbeddedNliPairs> {
  const p = await embedDistinct(encoder, pairs.premise, pairs.lang);
  const h = await embedDistinct(encoder, pairs.hypothesis, pairs.lang);
  return {
    premises: p.matrix,
    hypotheses: h.matrix,
    premiseRow: p.rowOf,
    hypothesisRow: h.rowOf,
    labels: pairs.labels,
  };
}
