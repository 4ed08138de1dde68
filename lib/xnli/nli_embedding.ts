import type { SentenceEncoder } from "../encoders/encoder.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";
import { NO_CHECKPOINTS, type ResultCheckpoints } from "../eval_cache/result_checkpoints.ts";
import type { NliTextPairs } from "./nli_benchmark.ts";
import type { EmbeddedNliPairs } from "./nli_pairs.ts";

/** Options of {@link embedDistinct}. */
export interface EmbedDistinctOptions {
  /** Distinct texts per encoder call (default 4096). */
  chunk?: number;
  /**
   * Each chunk's rows are a step of these checkpoints (named `<name> chunk <first row>`), so an
   * interrupted run resumes at the chunk it was in (default: none kept).
   */
  checkpoints?: ResultCheckpoints;
  /** The steps' name (default `lang`); must differ between the embeddings of one computation. */
  name?: string;
}

/**
 * Embeds each distinct text once, in chunks of `chunk` texts; returns the embeddings of the
 * distinct texts and, per input text, its row. With `checkpoints`, each chunk is one step.
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
  opts: EmbedDistinctOptions = {},
): Promise<{ matrix: RowMatrix; rowOf: Int32Array }> {
  const chunk = opts.chunk ?? 4096;
  const checkpoints = opts.checkpoints ?? NO_CHECKPOINTS;
  const name = opts.name ?? lang;
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
    const rows = await checkpoints.step(`${name} chunk ${s}`, async () => {
      const m = await encoder.embed(part, lang);
      if (m.rows !== part.length || m.cols !== encoder.dim) {
        throw new KitError(
          `encoder ${encoder.id}: returned ${m.rows}×${m.cols} for ${part.length} ${lang} texts (expected width ${encoder.dim})`,
        );
      }
      return m.data;
    }, part);
    data.set(rows, s * encoder.dim);
  }
  return { matrix: { data, rows: distinct.length, cols: encoder.dim }, rowOf };
}

/**
 * Embeds NLI text pairs (premises and hypotheses each once per distinct text). With
 * `checkpoints`, each chunk of embeddings is a step named after `name` (e.g. `train`).
 */
export async function embedNliPairs(
  encoder: SentenceEncoder,
  pairs: NliTextPairs,
  opts: { checkpoints?: ResultCheckpoints; name?: string } = {},
): Promise<EmbeddedNliPairs> {
  const name = opts.name ?? pairs.lang;
  const p = await embedDistinct(encoder, pairs.premise, pairs.lang, {
    checkpoints: opts.checkpoints,
    name: `${name} premises`,
  });
  const h = await embedDistinct(encoder, pairs.hypothesis, pairs.lang, {
    checkpoints: opts.checkpoints,
    name: `${name} hypotheses`,
  });
  return {
    premises: p.matrix,
    hypotheses: h.matrix,
    premiseRow: p.rowOf,
    hypothesisRow: h.rowOf,
    labels: pairs.labels,
  };
}
