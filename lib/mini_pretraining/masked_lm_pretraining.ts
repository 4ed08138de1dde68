import { join } from "node:path";
import { tf } from "../backend/tf.ts";
import { matMulFast } from "../backend/matmul.ts";
import { crossEntropyRows } from "../losses/cross_entropy.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { SubwordTokenizer } from "../encoders/subword_tokenizer.ts";
import { type TokenBatch, XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { readEncoderConfig, type XlmRobertaConfig } from "../encoders/encoder_config.ts";
import { loadSafetensorsWeights, saveSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { isComplete, modelCacheDir } from "../model_cache/model_cache.ts";
import { moduleGrads } from "../resumable_training/module_grads.ts";
import {
  runResumableTraining,
  type TrainingOutcome,
  type TrainingSchedule,
} from "../resumable_training/resumable_trainer.ts";
import type { PretrainingCorpus } from "./pretraining_corpus.ts";
import { maskTokens } from "./token_masking.ts";
import { LengthWindowBatches } from "./length_window_batches.ts";
import { writeModelManifest } from "../model_cache/model_manifest.ts";
import { readTrainingRecord, type TrainingRecord } from "../model_cache/training_record.ts";
import { withCacheLock } from "../util/cache_lock.ts";
import { modelFileReadOptions } from "../model_cache/model_file_policy.ts";

/** Sizes and optimisation of the masked-LM pretraining. */
export interface MaskedLmPlan {
  /** Name of the encoder config (lib/encoders/configs), vocab_size replaced by the tokenizer's. */
  config: string;
  vocabSize: number;
  maxLength: number;
  batchSize: number;
  maskRate: number;
  schedule: TrainingSchedule;
}

/** A trained text encoder with its tokenizer, as stored in its cache folder. */
export interface TrainedTextEncoder {
  dir: string;
  model: XlmRobertaEncoder;
  tokenizer: SubwordTokenizer;
  maxLength: number;
  /** What training.json says (loss curve, data counts, seconds). */
  training: TrainingRecord;
}

/** Token ids of every corpus sentence (cut to `maxLength`). */
export function encodeCorpus(
  tok: SubwordTokenizer,
  texts: readonly string[],
  maxLength: number,
): Int32Array[] {
  return texts.map((t) => Int32Array.from(tok.encode(t, maxLength)));
}

/** Pads pre-encoded sequences into a batch. */
export function padBatch(seqs: readonly Int32Array[], padId: number): TokenBatch {
  const length = Math.max(2, ...seqs.map((s) => s.length));
  const ids = new Int32Array(seqs.length * length).fill(padId);
  seqs.forEach((s, r) => ids.set(s, r * length));
  return { ids, batch: seqs.length, length };
}

/** A `[rows, total]` 0/1 matrix picking `positions` (a differentiable row gather). */
export function selectionMatrix(positions: Int32Array, total: number): tf.Tensor2D {
  const m = new Float32Array(positions.length * total);
  positions.forEach((p, i) => (m[i * total + p] = 1));
  return tf.tensor2d(m, [positions.length, total]);
}

/**
 * Pretrains the mini profile's XLM-R analog from scratch by masked-LM on monolingual text of
 * many languages (`corpus`: each sentence alone, never a pair): learns the subword tokenizer on
 * the corpus, then RoBERTa-style masking (15 %; 80/10/10) on batches of sentences of similar
 * length (less padding). Cached under
 * `cacheDir()/models/mini-xlmr-mlm@<hash>` with `config.json`, `tokenizer.json`,
 * `model.safetensors` (Hugging Face names, `XLMRobertaForMaskedLM` layout) and `training.json`;
 * resumes from its checkpoint when killed.
 */
export function pretrainMaskedLm(
  ...args: Parameters<typeof pretrainMaskedLmUnlocked>
): ReturnType<typeof pretrainMaskedLmUnlocked> {
  return withCacheLock("models", () => pretrainMaskedLmUnlocked(...args));
}

/** `pretrainMaskedLm` without the models cache lock (the caller holds it). */
async function pretrainMaskedLmUnlocked(
  corpus: PretrainingCorpus,
  plan: MaskedLmPlan,
  opts: { quiet?: boolean; stopAfterSteps?: number; name?: string } = {},
): Promise<TrainedTextEncoder> {
  const name = opts.name ?? "mini-xlmr-mlm";
  const dir = modelCacheDir(name, plan, corpus.fingerprint);
  const configPath = join(dir, "config.json"), tokPath = join(dir, "tokenizer.json");
  if (await isComplete(dir)) return await loadTrainedTextEncoder(dir, plan.maxLength);

  const t0 = performance.now();
  const tokenizer = SubwordTokenizer.learn(corpus.sentences.map((s) => s.text), {
    vocabSize: plan.vocabSize,
  });
  const base = await readEncoderConfig(plan.config) as XlmRobertaConfig;
  const config: XlmRobertaConfig = {
    ...base,
    vocab_size: tokenizer.vocabSize,
    max_position_embeddings: Math.max(
      base.max_position_embeddings,
      plan.maxLength + base.pad_token_id + 1,
    ),
  };
  await atomicWriteJson(configPath, config);
  await atomicWriteJson(tokPath, tokenizer.toJSON());
  const model = new XlmRobertaEncoder(config, { seed: plan.schedule.seed, lmHead: true });
  const seqs = encodeCorpus(tokenizer, corpus.sentences.map((s) => s.text), plan.maxLength);
  const windows = new LengthWindowBatches(seqs.map((q) => q.length), plan.batchSize);
  const maskOpts = {
    rate: plan.maskRate,
    maskId: tokenizer.maskId,
    firstPiece: 4,
    vocabSize: tokenizer.vocabSize,
    padId: tokenizer.padId,
    eosId: tokenizer.eosId,
  };
  const outcome: TrainingOutcome = await runResumableTraining({
    label: `pretrain ${name} (masked LM)`,
    checkpointPath: join(dir, "checkpoint.safetensors"),
    fingerprint: `${corpus.fingerprint}|${JSON.stringify(plan)}`,
    schedule: plan.schedule,
    stopAfterSteps: opts.stopAfterSteps,
    quiet: opts.quiet,
    task: {
      modules: { text: model.params },
      step: async (_step, rng) => {
        const picked = Array.from(windows.next(rng), (i) => seqs[i]!);
        const mb = maskTokens(padBatch(picked, tokenizer.padId), rng, maskOpts);
        const b = mb.inputs;
        const x0 = tf.tensor2d(model.embeddingInput(b), [b.batch * b.length, model.dim]);
        const r = await moduleGrads({ text: model.params }, [x0], ([x]) => {
          const hidden = model.encode(b, x as tf.Tensor2D);
          const rows = matMulFast(selectionMatrix(mb.positions, b.batch * b.length), hidden);
          return crossEntropyRows(model.lmLogits(rows), mb.targets);
        });
        const grads = r.grads.text ?? {};
        model.embeddingGrad(b, r.inputGrads[0]!, grads);
        return { loss: r.loss, grads: { text: grads } };
      },
    },
  });
  if (!outcome.completed) {
    return {
      dir,
      model,
      tokenizer,
      maxLength: plan.maxLength,
      training: record(name, plan, corpus, outcome, model, t0),
    };
  }
  await saveSafetensorsWeights(model, join(dir, "model.safetensors"), {
    trained_by: "image-pivot-kit",
  });
  const training = record(name, plan, corpus, outcome, model, t0);
  await atomicWriteJson(join(dir, "training.json"), training);
  await writeModelManifest(dir);
  await Deno.remove(join(dir, "checkpoint.safetensors")).catch(() => {});
  return { dir, model, tokenizer, maxLength: plan.maxLength, training };
}

function record(
  name: string,
  plan: MaskedLmPlan,
  corpus: PretrainingCorpus,
  o: TrainingOutcome,
  model: XlmRobertaEncoder,
  t0: number,
): TrainingRecord {
  return {
    name,
    plan,
    data: {
      counts: corpus.counts,
      sentences: corpus.sentences.length,
      fingerprint: corpus.fingerprint,
    },
    lossHistory: o.lossHistory,
    valHistory: o.valHistory,
    bestStep: o.bestStep,
    bestValLoss: Number.isFinite(o.bestValLoss) ? o.bestValLoss : null,
    seconds: (performance.now() - t0) / 1000,
    parameters: model.params.count,
  };
}

/** Loads a finished text encoder folder (`config.json`, `tokenizer.json`, `model.safetensors`). */
export async function loadTrainedTextEncoder(
  dir: string,
  maxLength: number,
  opts: { lmHead?: boolean } = {},
): Promise<TrainedTextEncoder> {
  const config = await readEncoderConfig(join(dir, "config.json")) as XlmRobertaConfig;
  const tokenizer = await SubwordTokenizer.read(join(dir, "tokenizer.json"));
  const model = new XlmRobertaEncoder(config, { lmHead: opts.lmHead ?? true });
  await loadSafetensorsWeights(
    model,
    join(dir, "model.safetensors"),
    modelFileReadOptions(join(dir, "model.safetensors")),
  );
  return { dir, model, tokenizer, maxLength, training: await readTrainingRecord(dir) };
}
