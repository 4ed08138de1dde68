import { tf } from "../backend/tf.ts";
import { linear } from "../encoders/transformer_ops.ts";
import { imagePixels } from "../encoders/image_pixels.ts";
import { textToImageRetrieval } from "../retrieval/cross_modal_retrieval.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import type { PlotlyFigure } from "../artifacts/chromium_renderer.ts";
import type { Partition } from "../dataset_build/sample.ts";
import { K_SETUP_LABELS } from "../encoders/encoder.ts";
import type { KCaptionLang, KCaptionRecord } from "./k_caption_records.ts";
import {
  isTextOnlySetup,
  K_SETUP_LANGUAGES,
  K_TRAINED_SETUPS,
  type KTrainedSetup,
  kTrainingSet,
} from "./k_training_set.ts";
import { type KSetupModel } from "./k_setup_model.ts";
import type { MiniKSetups } from "../models/mini_models.ts";
import type { PaperKSetups } from "./k_paper_setups.ts";
import type { TrainingRecord } from "../model_cache/training_record.ts";
import { basename } from "node:path";
import type { StampSample } from "../mini_pretraining/stamp_samples.ts";

/** K's joint-space text embeddings of a setup: mean-pooled text tower → `text_projection`. */
export async function kProjectTexts(m: KSetupModel, texts: readonly string[]): Promise<RowMatrix> {
  const P = m.head.specs.find((s) => s.name === "text_projection.weight")!.shape[0]!;
  const out = new Float32Array(texts.length * P);
  for (let i = 0; i < texts.length; i += 128) {
    const b = m.tokenizer.batch(texts.slice(i, i + 128), m.maxLength);
    const t = tf.tidy(() =>
      linear(
        m.text.embed(b),
        m.head.tensor("text_projection.weight"),
        m.head.tensor("text_projection.bias"),
      )
    );
    out.set((await t.data()) as Float32Array, i * P);
    t.dispose();
  }
  return { data: out, rows: texts.length, cols: P };
}

/** K's joint-space image embeddings of a setup: mean-pooled image tower → `image_projection`. */
export async function kProjectImages(
  m: KSetupModel,
  pngs: readonly Uint8Array[],
): Promise<RowMatrix> {
  const P = m.head.specs.find((s) => s.name === "image_projection.weight")!.shape[0]!;
  const out = new Float32Array(pngs.length * P);
  for (let i = 0; i < pngs.length; i += 128) {
    const chunk = pngs.slice(i, i + 128);
    const px = await imagePixels(chunk, m.image.config);
    const t = tf.tidy(() =>
      linear(
        m.image.embed(px, chunk.length),
        m.head.tensor("image_projection.weight"),
        m.head.tensor("image_projection.bias"),
      )
    );
    out.set((await t.data()) as Float32Array, i * P);
    t.dispose();
  }
  return { data: out, rows: pngs.length, cols: P };
}

/** One row of the held-out retrieval table. */
export interface HeldOutRetrievalRow {
  setup: KTrainedSetup;
  lang: KCaptionLang;
  /** Queries (captions) = candidate images. */
  n: number;
  r1: number;
  r5: number;
  r10: number;
  mrr: number;
}

/**
 * The caption records of a partition's images, one per concept (the first by key; an emoji's
 * drawings share their names, which would make the ground truth ambiguous), sorted by image key.
 */
export function heldOutRecords(k: MiniKSetups, partition: Partition): KCaptionRecord[] {
  const byKey = new Map(k.base.samples.map((s) => [s.key, s]));
  const seen = new Set<string>();
  return k.captions.records
    .filter((r) => r.partition === partition)
    .sort((a, b) => (a.image_id < b.image_id ? -1 : a.image_id > b.image_id ? 1 : 0))
    .filter((r) => {
      const c = byKey.get(r.image_id)?.concept ?? r.image_id;
      return seen.has(c) ? false : (seen.add(c), true);
    });
}

/**
 * Text→image retrieval on held-out images: for each setup and language, the captions of the
 * `partition` (default test) images — one per concept — in that language query the same images in K's joint
 * space (cosine similarity, lib/retrieval). Languages with no caption are skipped, and so is
 * Eng-Pivot (text only: its image tower and image projection are never trained).
 */
export async function kHeldOutRetrieval(
  k: MiniKSetups,
  opts: { partition?: Partition; languages?: readonly KCaptionLang[] } = {},
): Promise<HeldOutRetrievalRow[]> {
  const langs = opts.languages ?? ["en", "es", "ja", "hi", "qu"];
  const byKey = new Map(k.base.samples.map((s) => [s.key, s]));
  const recs = heldOutRecords(k, opts.partition ?? "test");
  const rows: HeldOutRetrievalRow[] = [];
  // Eng-Pivot is text only (the authors' Alignment/text-text/align_roberta.py,
  // nkrasner/cl-clip-align@d75b729): it has no trained image space to retrieve in
  for (const setup of K_TRAINED_SETUPS.filter((s) => !isTextOnlySetup(s))) {
    const m = k.models[setup];
    const images = await kProjectImages(m, recs.map((r) => byKey.get(r.image_id)!.png));
    for (const lang of langs) {
      const idx = recs.flatMap((r, i) => (r.captions[lang] ? [i] : []));
      if (idx.length < 2) continue;
      const text = await kProjectTexts(m, idx.map((i) => recs[i]!.captions[lang]!));
      const img = new Float32Array(idx.length * images.cols);
      idx.forEach((i, j) =>
        img.set(images.data.subarray(i * images.cols, (i + 1) * images.cols), j * images.cols)
      );
      const met = await textToImageRetrieval(text, {
        data: img,
        rows: idx.length,
        cols: images.cols,
      });
      rows.push({ setup, lang, n: idx.length, r1: met.r1, r5: met.r5, r10: met.r10, mrr: met.mrr });
    }
  }
  return rows;
}

/** Rows describing what each mini model was trained on (partition, languages, counts, steps, time). */
export function kTrainingTableRows(k: MiniKSetups): Record<string, string | number>[] {
  const b = k.base;
  const trainImages = b.samples.filter((s) => s.partition === "train").length;
  const mlm = b.text.training, vit = b.image.training;
  const rows: Record<string, string | number>[] = [
    {
      model: "XLM-R analog (untuned `xlmr`)",
      objective: "masked LM, each sentence alone",
      data: Object.entries(b.corpus.counts).map(([s, c]) =>
        `${s} ${c.sentences} (${c.languages} lang.)`
      ).join("; "),
      partition: "train stamps; SIB-200 train+dev",
      languages: new Set(b.corpus.sentences.map((s) => s.lang)).size,
      sentences: b.corpus.sentences.length,
      images: 0,
      steps: mlm.lossHistory.length,
      seconds: Math.round(mlm.seconds),
      parameters: mlm.parameters,
    },
    {
      model: "ViT analog",
      objective: "stamp category classification",
      data: `${(vit.data as { categories?: number }).categories ?? "?"} category folders`,
      partition: "train stamps",
      languages: 0,
      sentences: 0,
      images: trainImages,
      steps: vit.lossHistory.length,
      seconds: Math.round(vit.seconds),
      parameters: vit.parameters,
    },
  ];
  for (const setup of K_TRAINED_SETUPS) {
    rows.push(kSetupTrainingRow(setup, k.models[setup].training, {
      records: k.captions.records,
      source: k.captions.source,
      seed: k.base.plan.k.schedule.seed,
      partition: "train stamps; val stamps for checkpoint selection",
    }));
  }
  return rows;
}

/** K-F2: training loss (per step, smoothed) and validation loss of the four setups. */
export function kLossCurveFigure(
  k: { models: Record<KTrainedSetup, { training: TrainingRecord }> },
  smoothing = 10,
): PlotlyFigure {
  const colors: Record<KTrainedSetup, string> = {
    "eng-only": "#1f77b4",
    "eng-pivot": "#2ca02c",
    "multilingual": "#d62728",
    "multilingual-qu": "#9467bd",
  };
  const data: Record<string, unknown>[] = [];
  for (const setup of K_TRAINED_SETUPS) {
    const t = k.models[setup].training;
    const ys = t.lossHistory.map((_, i, a) => {
      const w = a.slice(Math.max(0, i - smoothing + 1), i + 1);
      return w.reduce((s, x) => s + x, 0) / w.length;
    });
    data.push({
      type: "scatter",
      mode: "lines",
      name: `${K_SETUP_LABELS[setup]} train`,
      x: ys.map((_, i) => i + 1),
      y: ys,
      line: { color: colors[setup], width: 1.5 },
    });
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: `${K_SETUP_LABELS[setup]} validation`,
      x: t.valHistory.map(([s]) => s),
      y: t.valHistory.map(([, v]) => v),
      line: { color: colors[setup], dash: "dash", width: 2 },
    });
  }
  return {
    data,
    layout: {
      xaxis: { title: { text: "optimizer step" } },
      yaxis: { title: { text: "loss (cross-entropy, nats)" } },
      legend: { orientation: "h", y: -0.2 },
    },
  };
}

/** The records of a partition (re-exported helper for notebooks). */
export function recordsOf(
  records: readonly KCaptionRecord[],
  partition: Partition,
): KCaptionRecord[] {
  return records.filter((r) => r.partition === partition);
}

/** Stamp samples by key. */
export function samplesByKey(samples: readonly StampSample[]): Map<string, StampSample> {
  return new Map(samples.map((s) => [s.key, s]));
}

/** K-TRAIN rows of the paper profile: the user's two towers, then the four setups the kit trained. */
export function kPaperTrainingTableRows(k: PaperKSetups): Record<string, string | number>[] {
  const rows: Record<string, string | number>[] = [
    {
      model: `XLM-R (untuned \`xlmr\`): ${basename(k.folders.text)}`,
      objective: "pretrained (your model folder)",
      data: "-",
      partition: "-",
      languages: 0,
      sentences: 0,
      images: 0,
      steps: 0,
      seconds: 0,
      parameters: 0,
    },
  ];
  for (const setup of K_TRAINED_SETUPS) {
    rows.push(kSetupTrainingRow(setup, k.models[setup].training, {
      records: k.captions.records,
      source: k.captions.source,
      seed: k.plan.schedule.seed,
      partition: "COCO train2017; val2017 for checkpoint selection",
    }));
  }
  return rows;
}

/**
 * One K-TRAIN row of a trained setup (both profiles): objective, caption counts per language,
 * images (distinct training images; 0 for the text-only Eng-Pivot), steps, seconds, parameters.
 */
function kSetupTrainingRow(
  setup: KTrainedSetup,
  training: TrainingRecord,
  data: { records: readonly KCaptionRecord[]; source: string; seed: number; partition: string },
): Record<string, string | number> {
  const set = kTrainingSet(data.records, setup, data.seed);
  const langs = K_SETUP_LANGUAGES[setup];
  return {
    model: K_SETUP_LABELS[setup],
    objective: langs.pivot.length > 0
      ? "text only: text–text CE (es/ja/hi → batch's en), no images"
      : langs.image.length > 1
      ? `text→image CE, one language per caption record (seed ${set.assignmentSeed})`
      : "text→image CE",
    data: Object.entries(set.captionsPerLang).map(([l, n]) => `${l} ${n}`).join(", ") +
      ` captions (${data.source})`,
    partition: data.partition,
    languages: Object.keys(set.captionsPerLang).length,
    sentences: Object.values(set.captionsPerLang).reduce((a, n) => a + (n ?? 0), 0),
    images: langs.pivot.length > 0 ? 0 : new Set(set.trainKeys).size,
    steps: training.lossHistory.length,
    seconds: Math.round(training.seconds),
    parameters: training.parameters,
  };
}
