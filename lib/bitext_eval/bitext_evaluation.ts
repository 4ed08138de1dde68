import type { SentenceEncoder } from "../encoders/encoder.ts";
import { cosineSimilarityMatrix, selectRows } from "../retrieval/mod.ts";
import type { BitextAccuracy, RowMatrix } from "../retrieval/mod.ts";
import { KitError } from "../util/kit_error.ts";
import type { ResultCacheOptions } from "../eval_cache/result_cache.ts";
import {
  cachedResultWithCheckpoints,
  NO_CHECKPOINTS,
  type ResultCheckpoints,
} from "../eval_cache/result_checkpoints.ts";
import { encoderResultKey, inputFingerprint } from "../eval_cache/encoder_result_key.ts";
import { type BitextBenchmark, checkBitextBenchmark } from "./bitext_benchmark.ts";
import { type BitextCorrectness, bitextCorrectness } from "./bitext_correctness.ts";

/** One language's bitext retrieval against the pivot: a = English, b = the language. */
export interface BitextLanguageResult {
  benchmark: string;
  /** Units in the benchmark (what the bootstrap resamples). */
  benchmarkUnits: number;
  lang: string;
  groups: string[];
  n: number;
  /** The unit of each row. */
  units: Int32Array;
  /** `aToB` = eng→x, `bToA` = x→eng. */
  accuracy: BitextAccuracy;
  correct: BitextCorrectness;
}

/**
 * Bitext retrieval of every language of `bench` against its English pivot with one encoder:
 * English is embedded once, each language once; scores are cosine, K's own xsim (within-language
 * neighbourhoods of size `k`, default 4) and LASER's ratio margin (lib/retrieval).
 *
 * Results are cached on disk (lib/eval_cache, `.cache/results/bitext/`) when the encoder has a
 * `fingerprint`, keyed by it, the benchmark's texts/units/groups, `k`, the code and the numeric
 * backend: a rerun with the same models returns the same results without embedding anything.
 * While it runs, the pivot's embeddings and each finished language's result are checkpointed
 * (`cachedResultWithCheckpoints`: `.cache/results/bitext-checkpoints/`, removed once the whole
 * result is stored), so a run killed midway resumes at the language it was in.
 * `cache: false` always computes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateBitext } from "./bitext_evaluation.ts";
 * // a toy encoder that maps "a"/"x" and "b"/"y" to the same unit vectors
 * const vec: Record<string, number[]> = { a: [1, 0], x: [1, 0], b: [0, 1], y: [0, 1] };
 * const encoder = {
 *   id: "toy",
 *   dim: 2,
 *   embed: (texts: readonly string[]) =>
 *     Promise.resolve({ data: Float32Array.from(texts.flatMap((t) => vec[t]!)), rows: texts.length, cols: 2 }),
 *   dispose: () => {},
 * };
 * const sets = [{ lang: "es", texts: ["x", "y"], units: new Int32Array([0, 1]), groups: ["all"] }];
 * const bench = { name: "t", description: "", pivotLang: "en", pivot: ["a", "b"], inputs: {}, sets };
 * const results = await evaluateBitext(encoder, bench, { k: 1 });
 * assert.equal(results[0]!.accuracy.cosine.aToB, 1); // eng→es: every sentence found
 * ```
 */
export async function evaluateBitext(
  encoder: SentenceEncoder,
  bench: BitextBenchmark,
  opts: { k?: number; cache?: boolean | ResultCacheOptions } = {},
): Promise<BitextLanguageResult[]> {
  const k = opts.k ?? 4;
  checkBitextBenchmark(bench, k);
  const key = opts.cache === false ? null : await encoderResultKey(
    [encoder],
    ["lib/bitext_eval/bitext_evaluation.ts"],
    {
      what: "evaluateBitext",
      k,
      benchmark: inputFingerprint({
        name: bench.name,
        pivotLang: bench.pivotLang,
        pivot: bench.pivot,
        sets: bench.sets.map((s) => ({
          lang: s.lang,
          texts: s.texts,
          units: s.units,
          groups: s.groups,
        })),
      }),
    },
  );
  if (key === null) return await computeBitext(encoder, bench, k, NO_CHECKPOINTS);
  return await cachedResultWithCheckpoints(
    "bitext",
    key,
    (checkpoints) => computeBitext(encoder, bench, k, checkpoints),
    typeof opts.cache === "object" ? opts.cache : {},
  );
}

/**
 * Every language's result, each one a checkpoint step; the pivot is embedded (one step too) when
 * the first language not yet checkpointed needs it. The encoder sees the same calls, in the same
 * order, as without checkpoints (the pivot, then each language not resumed), so the rows, and
 * hence the results, are the same.
 */
async function computeBitext(
  encoder: SentenceEncoder,
  bench: BitextBenchmark,
  k: number,
  checkpoints: ResultCheckpoints,
): Promise<BitextLanguageResult[]> {
  let pivotRows: Promise<RowMatrix> | null = null;
  const pivot = () =>
    pivotRows ??= checkpoints.step(`pivot ${bench.pivotLang}`, async () => {
      const m = await encoder.embed(bench.pivot, bench.pivotLang);
      if (m.rows !== bench.pivot.length) {
        throw new KitError(
          `encoder ${encoder.id}: returned ${m.rows} rows for ${bench.pivot.length} sentences`,
        );
      }
      return { data: m.data, rows: m.rows, cols: m.cols };
    }, bench.pivot);
  const out: BitextLanguageResult[] = [];
  for (const [i, set] of bench.sets.entries()) {
    out.push(
      await checkpoints.step(`language ${i} ${set.lang}`, async () => {
        const a = selectRows(await pivot(), set.units, `${bench.pivotLang} embeddings`);
        const x = await encoder.embed(set.texts, set.lang);
        if (x.rows !== set.texts.length) {
          throw new KitError(
            `encoder ${encoder.id}: returned ${x.rows} rows for ${set.texts.length} ${set.lang} sentences`,
          );
        }
        return await bitextLanguageResult({
          benchmark: bench.name,
          benchmarkUnits: bench.pivot.length,
          lang: set.lang,
          groups: set.groups,
          units: set.units,
          pivot: a,
          x,
          k,
        });
      }, { texts: set.texts, units: set.units, groups: set.groups }),
    );
  }
  return out;
}

/**
 * One language's bitext result from its embeddings (row i of `x` translates row i of `pivot`):
 * cosine, K's xsim and LASER's margin with per-sentence outcomes. The one code path behind
 * {@link evaluateBitext} and `./kit task bitext`.
 */
export async function bitextLanguageResult(opts: {
  benchmark: string;
  benchmarkUnits: number;
  lang: string;
  groups: string[];
  units: Int32Array;
  pivot: RowMatrix;
  x: RowMatrix;
  k: number;
}): Promise<BitextLanguageResult> {
  const { pivot: a, x, k } = opts;
  const S = await cosineSimilarityMatrix(a, x);
  const aa = await cosineSimilarityMatrix(a, a), bb = await cosineSimilarityMatrix(x, x);
  const { correct, accuracy } = bitextCorrectness(S, x.rows, k, { aa, bb });
  return {
    benchmark: opts.benchmark,
    benchmarkUnits: opts.benchmarkUnits,
    lang: opts.lang,
    groups: opts.groups,
    n: x.rows,
    units: opts.units,
    accuracy,
    correct,
  };
}
