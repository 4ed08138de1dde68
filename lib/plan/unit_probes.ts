/**
 * The per-unit costs `./kit task plan` multiplies by the paper profile's counts, each measured on
 * this machine with random weights at real widths: a K training step (forward + backward + Adam,
 * `runRealShapeStep`), a batch of sentence embeddings (the kit's XLM-R tower), a batch of image
 * embeddings (the kit's ViT tower), paper D's head workloads, a step and a prediction batch of
 * notebook 04's NLI probe (`NliMlpClassifier`, at its real widths), and a scan rate for gzipped
 * text.
 * Depth is reduced (1–2 layers) so each probe takes seconds on 2 cores; the estimator scales
 * linearly in layers and batch (`lib/plan/cost_model.ts`).
 */
import { createHash } from "node:crypto";
import process from "node:process";
import { tf } from "../backend/tf.ts";
import {
  readEncoderConfig,
  type VitConfig,
  type XlmRobertaConfig,
} from "../encoders/encoder_config.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { runHeadWorkloads } from "../bench/head_workloads.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { ParameterSet } from "../encoders/parameter_set.ts";
import {
  type KImageCaptionBatch,
  kProjectionHeadSpecs,
  kTrainStep,
} from "../k_finetune/k_train_step.ts";
import { Adam } from "../optim/adam.ts";
import { NliMlpClassifier } from "../xnli/nli_mlp_classifier.ts";
import type { EmbeddedNliPairs } from "../xnli/nli_pairs.ts";

/** Shapes of one K training-step probe. */
export interface KStepProbe {
  textLayers: number;
  imageLayers: number;
  images: number;
  tokens: number;
}

/** What one probe measured. */
export interface ProbeResult {
  /** Wall milliseconds of one unit (the repetition with the least CPU time, after a warm-up). */
  ms: number;
  /** CPU milliseconds (all threads) of that repetition: what the plan's estimates rest on. */
  cpuMs: number;
  /** Parameters updated densely (K step: the towers without the word table, and the head). */
  denseParams?: number;
  /** Peak resident memory of the probing process (`VmHWM`), bytes; null where unknown. */
  peakRssBytes: number | null;
}

/** Peak RSS from /proc/self/status (Linux), or null. */
export function peakRssBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** A text-tower config: `base` with `layers` layers and (optionally) a smaller vocabulary. */
export async function textConfig(
  base: string,
  layers: number,
  vocab?: number,
): Promise<XlmRobertaConfig> {
  const c = await readEncoderConfig(base);
  if (c.model_type !== "xlm-roberta") throw new KitError(`${base}: not an XLM-R config`);
  return { ...c, num_hidden_layers: layers, vocab_size: vocab ?? c.vocab_size };
}

/** An image-tower config: `base` with `layers` layers (and optionally another patch size). */
export async function imageConfig(
  base: string,
  layers: number,
  patch?: number,
): Promise<VitConfig> {
  const c = await readEncoderConfig(base);
  if (c.model_type !== "vit") throw new KitError(`${base}: not a ViT config`);
  return { ...c, num_hidden_layers: layers, patch_size: patch ?? c.patch_size };
}

/** Random captions (`<s>` … `</s>`, the first `tokens` long, the others shorter) and pixels. */
export function randomKBatch(
  text: XlmRobertaConfig,
  image: VitConfig,
  images: number,
  tokens: number,
  seed: number,
): KImageCaptionBatch {
  if (tokens < 3) throw new KitError("a K batch needs at least 3 tokens a caption");
  const rng = new SeededRandom(seed);
  const ids = new Int32Array(images * tokens).fill(text.pad_token_id);
  for (let r = 0; r < images; r++) {
    const len = r === 0 ? tokens : Math.max(3, tokens - 1 - Math.floor(rng.next() * tokens / 2));
    ids[r * tokens] = 0;
    for (let t = 1; t < len - 1; t++) {
      ids[r * tokens + t] = 3 + Math.floor(rng.next() * (text.vocab_size - 3));
    }
    ids[r * tokens + len - 1] = 2;
  }
  const S = image.image_size, C = image.num_channels;
  const pixels = new Float32Array(images * C * S * S);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.next() * 2 - 1;
  return {
    tokens: { ids, batch: images, length: tokens },
    pixels,
    images,
    captionImage: Array.from({ length: images }, (_, i) => i),
  };
}

/**
 * Milliseconds (fastest of `steps − 1` after a warm-up) of one K training step (as `tools/k_real_shape_step.ts`: XLM-R text tower
 * with its word table row-sparse on the host, ViT image tower, projections, text→image
 * cross-entropy, Adam) on the active backend; `steps` steps, the first (warm-up) left out.
 */
export async function probeKStep(
  text: XlmRobertaConfig,
  image: VitConfig,
  shape: Pick<KStepProbe, "images" | "tokens">,
  opts: { steps?: number; projection?: number; seed?: number } = {},
): Promise<ProbeResult> {
  const seed = opts.seed ?? 0;
  const t = new XlmRobertaEncoder(text, { seed, hostWordEmbeddings: true, fastInit: true });
  const im = new VitEncoder(image, { seed: seed + 1, fastInit: true });
  const head = new ParameterSet(kProjectionHeadSpecs(t.dim, im.dim, opts.projection ?? 512), seed);
  const lr = 1e-5;
  const opt = {
    text: new Adam(t.params.sizes(), { lr }),
    image: new Adam(im.params.sizes(), { lr }),
    head: new Adam(head.sizes(), { lr }),
  };
  const batch = randomKBatch(text, image, shape.images, shape.tokens, seed + 3);
  try {
    const time = await fastestOf(async () => {
      await kTrainStep({ text: t, image: im, head }, opt, batch, lr);
    }, Math.max(1, (opts.steps ?? 4) - 1));
    const word = t.params.values[`${t.prefix}embeddings.word_embeddings.weight`]?.length ?? 0;
    return {
      ...time,
      denseParams: t.params.count - word + im.params.count + head.count,
      peakRssBytes: peakRssBytes(),
    };
  } finally {
    t.dispose();
    im.dispose();
    head.dispose();
  }
}

function randomIds(rng: SeededRandom, c: XlmRobertaConfig, batch: number, length: number) {
  const ids = new Int32Array(batch * length);
  for (let r = 0; r < batch; r++) {
    ids[r * length] = 0;
    for (let t = 1; t < length - 1; t++) {
      ids[r * length + t] = 3 + Math.floor(rng.next() * (c.vocab_size - 3));
    }
    ids[r * length + length - 1] = 2;
  }
  return { ids, batch, length };
}

/** Wall and CPU milliseconds of one call. */
export interface Timing {
  ms: number;
  cpuMs: number;
}

/**
 * The call with the least CPU time of `reps` timed calls after one warm-up call (kernel
 * compilation, weight packing). CPU time (user + system of every thread of this process:
 * `process.cpuUsage`) hardly changes when other processes share the cores; wall time does.
 */
export async function fastestOf(fn: () => Promise<void>, reps: number): Promise<Timing> {
  await fn();
  let best: Timing = { ms: Infinity, cpuMs: Infinity };
  for (let i = 0; i < reps; i++) {
    const t = performance.now(), c = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(c);
    const cpuMs = (d.user + d.system) / 1000;
    if (cpuMs < best.cpuMs) best = { ms: performance.now() - t, cpuMs };
  }
  return best;
}

/** Milliseconds (fastest of `reps`) of embedding `batch` sentences of `tokens` tokens (forward, mean pool). */
export async function probeTextEmbedding(
  config: XlmRobertaConfig,
  batch: number,
  tokens: number,
  opts: { reps?: number; seed?: number } = {},
): Promise<ProbeResult> {
  const enc = new XlmRobertaEncoder(config, {
    seed: opts.seed ?? 0,
    hostWordEmbeddings: true,
    fastInit: true,
  });
  const b = randomIds(new SeededRandom(opts.seed ?? 0), config, batch, tokens);
  try {
    const time = await fastestOf(async () => {
      const e = tf.tidy(() => enc.embed(b));
      await e.data();
      e.dispose();
    }, opts.reps ?? 3);
    return { ...time, peakRssBytes: peakRssBytes() };
  } finally {
    enc.dispose();
  }
}

/** Milliseconds (fastest of `reps`) of embedding `batch` random images (forward, mean pool). */
export async function probeImageEmbedding(
  config: VitConfig,
  batch: number,
  opts: { reps?: number; seed?: number } = {},
): Promise<ProbeResult> {
  const enc = new VitEncoder(config, { seed: opts.seed ?? 0, fastInit: true });
  const rng = new SeededRandom(opts.seed ?? 0);
  const pixels = new Float32Array(batch * config.num_channels * config.image_size ** 2);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.next() * 2 - 1;
  try {
    const time = await fastestOf(async () => {
      const e = tf.tidy(() => enc.embed(pixels, batch));
      await e.data();
      e.dispose();
    }, opts.reps ?? 3);
    return { ...time, peakRssBytes: peakRssBytes() };
  } finally {
    enc.dispose();
  }
}

/**
 * Paper D's head workloads at its real sizes (`lib/bench/head_workloads.ts`), milliseconds. They
 * are timed by wall clock; when other processes slow this one down, each time is scaled by the
 * share of the wall time this process had a core (CPU time ÷ wall time, at most 1).
 */
export async function probeHeadWorkloads(): Promise<{
  linearStepMs: number;
  mlpStepMs: number;
  evalFoldMs: number;
  geometryFoldMs: number;
}> {
  const c = process.cpuUsage(), t0 = performance.now();
  const t = await runHeadWorkloads({ steps: 8, reps: 2 });
  const d = process.cpuUsage(c);
  const share = Math.min(1, (d.user + d.system) / 1000 / (performance.now() - t0));
  return {
    linearStepMs: t.linear_step_ms * share,
    mlpStepMs: t.mlp_step_ms * share,
    evalFoldMs: t.eval_fold_ms * share,
    geometryFoldMs: t.geometry_fold_ms * share,
  };
}

/**
 * Megabytes a second (of CPU time) of gunzip + splitting into lines + splitting each line at tabs, over
 * `megabytes` of generated TSV text (the shape of WIT's shards and COCO's annotation scan).
 */
export async function probeScanRate(megabytes = 24, seed = 0): Promise<number> {
  const rng = new SeededRandom(seed);
  const words = Array.from({ length: 512 }, (_, i) => `w${i}${"x".repeat(i % 9)}`);
  const lines: string[] = [];
  let size = 0;
  while (size < megabytes * 1e6) {
    const cols = Array.from({ length: 17 }, () => {
      const n = 1 + Math.floor(rng.next() * 12);
      return Array.from({ length: n }, () => words[Math.floor(rng.next() * words.length)]!).join(
        " ",
      );
    });
    const line = cols.join("\t");
    lines.push(line);
    size += line.length + 1;
  }
  const raw = new TextEncoder().encode(lines.join("\n"));
  const gz = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const c = process.cpuUsage();
  const text = await new Response(
    new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).text();
  let fields = 0;
  for (const line of text.split("\n")) fields += line.split("\t").length;
  const d = process.cpuUsage(c);
  const ms = (d.user + d.system) / 1000;
  if (fields === 0) throw new KitError("scan probe: no fields");
  return raw.length / 1e6 / (ms / 1000);
}

/** Megabytes a second (of CPU time) of sha256 over `megabytes` of data in 1 MB chunks (file checks, manifests). */
export function probeHashRate(megabytes = 64): number {
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const c = process.cpuUsage();
  const h = createHash("sha256");
  for (let i = 0; i < megabytes; i++) h.update(chunk);
  h.digest("hex");
  const d = process.cpuUsage(c);
  return (megabytes * chunk.length) / 1e6 / ((d.user + d.system) / 1e6);
}

/**
 * Milliseconds (fastest of `reps`) to validate and normalise one COCO-sized photo (a 640×480 JPEG of smooth
 * noise, q90) to a 224-pixel PNG with `prepareImage`, as the paper profile's dataset build does.
 */
export async function probeImagePrep(reps = 5, seed = 0): Promise<number> {
  const { default: sharp } = await import("sharp");
  const { prepareImage } = await import("../images/prepare_image.ts");
  const rng = new SeededRandom(seed);
  const w = 640, h = 480, raw = new Uint8Array(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (((i / 3) % w) / 3 + rng.next() * 64) & 255;
  const jpeg = new Uint8Array(
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 })
      .toBuffer(),
  );
  return (await fastestOf(async () => {
    const r = await prepareImage(jpeg, { size: 224 });
    if (!r.ok) throw new KitError(`image probe: ${r.rejection.reason}`);
  }, reps)).cpuMs;
}

/** Random embedded NLI pairs: `n` pairs over `n/2` premise and hypothesis rows of width `d`. */
export function randomNliPairs(n: number, d: number, seed: number): EmbeddedNliPairs {
  const rng = new SeededRandom(seed);
  const rows = Math.max(1, Math.ceil(n / 2));
  const matrix = () => {
    const data = new Float32Array(rows * d);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 0.1;
    return { data, rows, cols: d };
  };
  return {
    premises: matrix(),
    hypotheses: matrix(),
    premiseRow: Int32Array.from({ length: n }, (_, i) => i % rows),
    hypothesisRow: Int32Array.from({ length: n }, (_, i) => (i * 7 + 1) % rows),
    labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 3)),
  };
}

/** What the NLI probe's unit probe measured (CPU and wall milliseconds, fastest repetition). */
export interface NliStepProbeResult {
  /** One training step (features, forward + backward, gradient read-back, Adam, re-upload). */
  step: Timing;
  /** `predict` of one batch of `predictBatch` pairs (the selection and test passes). */
  predict: Timing;
  peakRssBytes: number | null;
}

/**
 * One training step of notebook 04's NLI probe (`NliMlpClassifier.startTraining(d).step`, the
 * code `train` runs: MLP `4d → hidden → 3`, a batch of `batch` pairs) and one `predict` of
 * `predictBatch` pairs, on random embeddings of width `d`: the fastest (least CPU) of `reps`
 * blocks of `stepsPerRep` steps (after a warm-up block), and of `reps` predictions.
 */
export async function probeNliStep(
  d: number,
  opts: {
    hidden?: readonly number[];
    batch?: number;
    predictBatch?: number;
    stepsPerRep?: number;
    reps?: number;
    seed?: number;
  } = {},
): Promise<NliStepProbeResult> {
  const batch = opts.batch ?? 32, predictBatch = opts.predictBatch ?? 1024;
  const per = opts.stepsPerRep ?? 8, reps = opts.reps ?? 5, seed = opts.seed ?? 0;
  const run = NliMlpClassifier.startTraining(d, {
    seed,
    ...(opts.hidden ? { hidden: opts.hidden } : {}),
  });
  try {
    const pairs = randomNliPairs(Math.max(batch * per, predictBatch), d, seed + 1);
    const n = pairs.labels.length;
    let at = 0;
    const block = await fastestOf(async () => {
      for (let i = 0; i < per; i++) {
        const idx = Int32Array.from({ length: batch }, (_, j) => (at + j * 13) % n);
        at += batch;
        await run.step(pairs, idx);
      }
    }, reps);
    const predictPairs = randomNliPairs(predictBatch, d, seed + 2);
    const predict = await fastestOf(async () => {
      await run.classifier.predict(predictPairs, predictBatch);
    }, reps);
    return {
      step: { ms: block.ms / per, cpuMs: block.cpuMs / per },
      predict,
      peakRssBytes: peakRssBytes(),
    };
  } finally {
    run.classifier.dispose();
  }
}
