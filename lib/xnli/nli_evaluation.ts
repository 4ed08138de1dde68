import type { SentenceEncoder } from "../encoders/encoder.ts";
import { KitError } from "../util/kit_error.ts";
import type { ResultCacheOptions } from "../eval_cache/result_cache.ts";
import {
  cachedResultWithCheckpoints,
  NO_CHECKPOINTS,
  type ResultCheckpoints,
} from "../eval_cache/result_checkpoints.ts";
import { encoderResultKey, inputFingerprint } from "../eval_cache/encoder_result_key.ts";
import type { NliBenchmark } from "./nli_benchmark.ts";
import { embedNliPairs } from "./nli_embedding.ts";
import {
  type NliClassifierOptions,
  type NliEpochLog,
  NliMlpClassifier,
  type NliTrainedProbe,
} from "./nli_mlp_classifier.ts";

/** One test language's outcome. */
export interface NliLanguageResult {
  dataset: "xnli" | "americasnli";
  lang: string;
  n: number;
  units: Int32Array;
  /** Units of the dataset (what the bootstrap resamples). */
  datasetUnits: number;
  /** 1 where the prediction is right. */
  correct: Uint8Array;
  accuracy: number;
}

/** One setup's classifier and results. */
export interface NliSetupResult {
  encoderId: string;
  bestEpoch: number;
  bestSelectAccuracy: number;
  history: NliEpochLog[];
  results: NliLanguageResult[];
}

/**
 * K's XNLI protocol for one frozen encoder: embed the English training and selection pairs,
 * train the MLP probe (English only, best selection epoch kept), then embed and classify every
 * test language zero-shot. The classifier is disposed before returning.
 *
 * Results are cached on disk (lib/eval_cache, `.cache/results/nli/`) when the encoder has a
 * `fingerprint`, keyed by it, every text pair and label of the benchmark, the classifier options
 * (seed included; not `onEpoch` or `progress`), the code and the numeric backend; on a hit
 * `onEpoch` is replayed from the stored history. While it runs, its work is checkpointed
 * (`cachedResultWithCheckpoints`, `.cache/results/nli-checkpoints/`): the training and selection
 * embeddings chunk by chunk (4096 distinct texts each) until the probe is trained, then the
 * trained probe, then each test language's outcome; the folder is removed once the setup's
 * result is stored. A run killed midway resumes at the chunk, the probe or the test language it
 * was in (`onEpoch` is replayed when the probe is read back). `cache: false` always computes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { evaluateNliSetup } from "./nli_evaluation.ts";
 * import { rowMatrix } from "../retrieval/row_matrix.ts";
 * // a toy language: "w3" means word 3, "not w3" its negation; "xx:" marks a translation
 * const encoder = {
 *   id: "toy/words",
 *   dim: 8,
 *   embed: (texts: readonly string[]) => {
 *     const d = new Float32Array(texts.length * 8);
 *     texts.forEach((t, i) => {
 *       d[i * 8 + Number(/w(\d)/.exec(t)![1])] = t.includes("not") ? -1 : 1;
 *     });
 *     return Promise.resolve(rowMatrix(d, texts.length, 8));
 *   },
 *   dispose: () => {},
 * };
 * const pairs = (lang: string, n: number, offset: number) => {
 *   const tag = lang === "en" ? "" : `${lang}:`;
 *   const premise = Array.from({ length: n }, (_, i) => `${tag}w${(i + offset) % 8}`);
 *   const labels = Int32Array.from({ length: n }, (_, i) => (i + offset) % 3);
 *   const negated = (p: string) => `${tag}not ${p.slice(tag.length)}`;
 *   const other = (i: number) => `${tag}w${(i + 3) % 8}`;
 *   const hypothesis = premise.map((p, i) => [p, other(i), negated(p)][labels[i]!]!);
 *   return { lang, premise, hypothesis, labels, ids: premise.map((_, i) => String(i)) };
 * };
 * const units = Int32Array.from({ length: 24 }, (_, i) => i);
 * const bench = {
 *   description: "toy",
 *   train: pairs("en", 96, 0),
 *   select: pairs("en", 24, 1),
 *   tests: [{ dataset: "xnli" as const, lang: "xx", pairs: pairs("xx", 24, 2), units }],
 *   units: { xnli: 24, americasnli: 0 },
 *   split: null,
 *   notes: [],
 *   inputs: {},
 * };
 * // in a notebook: evaluateNliSetup(encoders.multilingual, benchmark, { seed: 1 })
 * const r = await evaluateNliSetup(encoder, bench, { seed: 1, hidden: [16], epochs: 20 }, false);
 * assert.equal(r.encoderId, "toy/words");
 * assert.equal(r.results[0]!.lang, "xx");
 * assert.equal(r.results[0]!.correct.length, 24);
 * assert(r.results[0]!.accuracy > 2 / 3); // chance: 1 / 3; zero-shot through the shared space
 * ```
 */
export async function evaluateNliSetup(
  encoder: SentenceEncoder,
  bench: NliBenchmark,
  opts: NliClassifierOptions,
  cache: boolean | ResultCacheOptions = true,
): Promise<NliSetupResult> {
  // what is shown while training (callbacks, the progress bar) is not part of the result's key
  const { onEpoch, progress: _progress, ...options } = opts;
  const key = cache === false ? null : await encoderResultKey(
    [encoder],
    ["lib/xnli/nli_evaluation.ts"],
    {
      what: "evaluateNliSetup",
      options,
      benchmark: inputFingerprint({
        train: bench.train,
        select: bench.select,
        tests: bench.tests,
        units: bench.units,
      }),
    },
  );
  if (key === null) return await computeNliSetup(encoder, bench, opts, NO_CHECKPOINTS);
  let computed = false;
  const result = await cachedResultWithCheckpoints("nli", key, (checkpoints) => {
    computed = true;
    return computeNliSetup(encoder, bench, opts, checkpoints);
  }, typeof cache === "object" ? cache : {});
  if (!computed && onEpoch) result.history.forEach((e) => onEpoch(e));
  return result;
}

/**
 * The setup's steps: the probe (its sub-steps: the training and selection embeddings, chunk by
 * chunk), then one step per test language. The encoder sees the same calls as without
 * checkpoints, minus those of the steps read back, and the probe read back predicts as the one
 * trained (its parameters bit for bit), so a resumed run's result equals an uninterrupted one's.
 */
async function computeNliSetup(
  encoder: SentenceEncoder,
  bench: NliBenchmark,
  opts: NliClassifierOptions,
  checkpoints: ResultCheckpoints,
): Promise<NliSetupResult> {
  let trainedNow = false;
  const probe = await checkpoints.step("probe", async (sub): Promise<NliTrainedProbe> => {
    trainedNow = true;
    const train = await embedNliPairs(encoder, bench.train, { checkpoints: sub, name: "train" });
    const select = await embedNliPairs(encoder, bench.select, {
      checkpoints: sub,
      name: "select",
    });
    const trained = await NliMlpClassifier.train(train, select, opts);
    try {
      return trained.trained;
    } finally {
      trained.dispose();
    }
  });
  if (!trainedNow && opts.onEpoch) probe.history.forEach((e) => opts.onEpoch!(e));
  const clf = NliMlpClassifier.fromTrained(probe);
  try {
    const results: NliLanguageResult[] = [];
    for (const [i, t] of bench.tests.entries()) {
      results.push(
        await checkpoints.step(`test ${i} ${t.dataset} ${t.lang}`, async () => {
          const pairs = await embedNliPairs(encoder, t.pairs);
          const pred = await clf.predict(pairs);
          const correct = Uint8Array.from(pred, (p, i) => (p === pairs.labels[i] ? 1 : 0));
          if (t.units.length !== correct.length) {
            throw new KitError(
              `${t.dataset} ${t.lang}: ${t.units.length} units for ${correct.length} pairs`,
            );
          }
          return {
            dataset: t.dataset,
            lang: t.lang,
            n: correct.length,
            units: t.units,
            datasetUnits: bench.units[t.dataset],
            correct,
            accuracy: correct.reduce((s, c) => s + c, 0) / correct.length,
          };
        }, { dataset: t.dataset, pairs: t.pairs, units: t.units }),
      );
    }
    return {
      encoderId: encoder.id,
      bestEpoch: clf.bestEpoch,
      bestSelectAccuracy: clf.bestSelectAccuracy,
      history: clf.history,
      results,
    };
  } finally {
    clf.dispose();
  }
}
