/**
 * Linear cost models fitted to the probes of `unit_probes.ts` (CPU milliseconds): a K training
 * step as a fixed part, a part per densely trained parameter (optimiser, gradient read-back,
 * upload) and a part per caption-layer (text tower) and per image-layer (image tower), fitted by
 * non-negative least squares; an embedding pass as, per sentence or image, a fixed part plus a
 * per-layer part. Matmuls and Adam scale linearly in depth and batch; what does not (attention's
 * quadratic term in the sequence length, small at the lengths used; cache effects) is left out.
 * `tests/plan_test.ts` checks a prediction against a measured run the fit did not see.
 */
import { KitError } from "../util/kit_error.ts";

/** One timed K step with its shapes (and the probing process's peak memory). */
export interface KStepSample {
  textLayers: number;
  imageLayers: number;
  /** Images = captions in the probe (one caption an image). */
  images: number;
  tokens: number;
  /** Parameters updated densely (towers without the word table, head). */
  denseParams: number;
  /** CPU milliseconds of one step (all threads). */
  ms: number;
  /** Wall milliseconds of the same step, where measured. */
  wallMs?: number;
  peakRssBytes: number | null;
}

/**
 * `step ms = fixed + perParam·denseParams + textCaptionLayer·Lt·captions +
 * imageImageLayer·Lv·images`: the per-parameter part is the optimiser, the gradient read-back and
 * the upload; the per-layer-and-item parts are the towers' forward and backward passes.
 */
export interface KStepFit {
  fixed: number;
  perParam: number;
  textCaptionLayer: number;
  imageImageLayer: number;
}

/** The shapes of the K-step probes (depth 1–2, batch 2 and 4). */
export const K_STEP_PROBE_SHAPES: readonly {
  textLayers: number;
  imageLayers: number;
  images: number;
}[] = [
  { textLayers: 1, imageLayers: 1, images: 2 },
  { textLayers: 2, imageLayers: 1, images: 2 },
  { textLayers: 1, imageLayers: 2, images: 2 },
  { textLayers: 1, imageLayers: 1, images: 4 },
  { textLayers: 2, imageLayers: 2, images: 4 },
];

function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12 * Math.max(1, Math.abs(m[c]![c]!))) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * Non-negative least squares for a few columns: the best fit over every subset of columns whose
 * unconstrained solution is non-negative (2^k subsets; k ≤ 4 here).
 */
export function nonNegativeLeastSquares(x: readonly number[][], y: readonly number[]): number[] {
  const k = x[0]?.length ?? 0;
  let best: { coef: number[]; sse: number } | null = null;
  for (let mask = 1; mask < 1 << k; mask++) {
    const cols = Array.from({ length: k }, (_, j) => j).filter((j) => mask & (1 << j));
    const ata = cols.map((i) => cols.map((j) => x.reduce((s, r) => s + r[i]! * r[j]!, 0)));
    const atb = cols.map((i) => x.reduce((s, r, n) => s + r[i]! * y[n]!, 0));
    const sol = solve(ata, atb);
    if (!sol || sol.some((v) => v < 0 || !Number.isFinite(v))) continue;
    const coef = new Array<number>(k).fill(0);
    cols.forEach((j, i) => (coef[j] = sol[i]!));
    const sse = x.reduce(
      (s, r, n) => s + (r.reduce((a, v, j) => a + v * coef[j]!, 0) - y[n]!) ** 2,
      0,
    );
    if (!best || sse < best.sse) best = { coef, sse };
  }
  if (!best) throw new KitError("cost fit: no non-negative solution");
  return best.coef;
}

/** Fits `KStepFit` to K-step probes by non-negative least squares. */
export function fitKStep(xs: readonly KStepSample[]): KStepFit {
  if (xs.length < 4) throw new KitError(`K step fit: needs at least 4 probes, got ${xs.length}`);
  const rows = xs.map((s) => [
    1,
    s.denseParams,
    s.textLayers * s.images,
    s.imageLayers * s.images,
  ]);
  // columns scaled to comparable sizes for the solve, then scaled back
  const scale = [1, 1e-6, 1, 1];
  const c = nonNegativeLeastSquares(
    rows.map((r) => r.map((v, j) => v * scale[j]!)),
    xs.map((s) => s.ms),
  );
  return {
    fixed: c[0]!,
    perParam: c[1]! * scale[1]!,
    textCaptionLayer: c[2]!,
    imageImageLayer: c[3]!,
  };
}

/** A step's predicted milliseconds at the given depth, batch and dense parameter count. */
export function predictKStep(
  f: KStepFit,
  shape: {
    textLayers: number;
    imageLayers: number;
    captions: number;
    images: number;
    denseParams: number;
  },
): number {
  return f.fixed + f.perParam * shape.denseParams +
    f.textCaptionLayer * shape.textLayers * shape.captions +
    f.imageImageLayer * shape.imageLayers * shape.images;
}

/**
 * Parameters of one transformer layer of width `h` and feed-forward width `i` (attention
 * q, k, v, output with biases; two LayerNorms; the feed-forward pair with biases).
 */
export function transformerLayerParams(h: number, i: number): number {
  return 4 * h * h + 4 * h + 2 * h * i + i + h + 4 * h;
}

/** One timed embedding batch. */
export interface EmbedSample {
  layers: number;
  batch: number;
  /** Tokens a sentence (text) or patches + 1 (image). */
  tokens: number;
  /** CPU milliseconds of the batch (all threads). */
  ms: number;
  /** Wall milliseconds of the same batch, where measured. */
  wallMs?: number;
  peakRssBytes: number | null;
}

/** `ms per item = fixed + layers·perLayer`, at the probes' token count. */
export interface EmbedFit {
  fixedPerItem: number;
  perLayerPerItem: number;
  tokens: number;
}

/** Fits `EmbedFit` to probes at two depths (same batch and tokens). */
export function fitEmbedding(xs: readonly EmbedSample[]): EmbedFit {
  if (xs.length < 2) throw new KitError("embedding fit: needs probes at two depths");
  const [a, b] = [...xs].sort((x, y) => x.layers - y.layers) as [EmbedSample, EmbedSample];
  if (a.layers === b.layers || a.batch !== b.batch || a.tokens !== b.tokens) {
    throw new KitError("embedding fit: probes must differ in depth only");
  }
  const perLayer = Math.max(0, (b.ms - a.ms) / (b.layers - a.layers));
  const fixed = Math.max(0, a.ms - a.layers * perLayer);
  return { fixedPerItem: fixed / a.batch, perLayerPerItem: perLayer / a.batch, tokens: a.tokens };
}

/**
 * Predicted milliseconds to embed `items` items with a `layers`-deep tower, items `tokens` long
 * (the per-layer part scaled linearly in tokens from the probes' length).
 */
export function predictEmbedding(
  f: EmbedFit,
  items: number,
  layers: number,
  tokens: number = f.tokens,
): number {
  return items * (f.fixedPerItem + layers * f.perLayerPerItem * (tokens / f.tokens));
}

/**
 * One timed step and prediction batch of notebook 04's NLI probe (an MLP `4d → hidden → 3` on
 * frozen embeddings of width `d`), CPU milliseconds (all threads) with the wall time beside.
 */
export interface NliStepSample {
  /** Embedding width (the MLP's input is `4d`). */
  d: number;
  hidden: number[];
  batch: number;
  /** CPU milliseconds of one training step. */
  ms: number;
  wallMs: number;
  /** Pairs of one timed `predict` call, and its CPU and wall milliseconds. */
  predictBatch: number;
  predictMs: number;
  predictWallMs: number;
  peakRssBytes: number | null;
}

/** What one probe's training and evaluation process (`evaluateNliSetup` after the embeddings). */
export interface NliProbeWork {
  trainPairs: number;
  /** Selection pairs, classified after every epoch. */
  selectPairs: number;
  /** Test pairs, classified once. */
  testPairs: number;
  epochs: number;
  batch: number;
}

/**
 * CPU milliseconds of training one NLI probe and of its selection and test passes:
 * `epochs · ⌈trainPairs / batch⌉` steps (the last partial batch kept, as `train`) at the
 * sample's step time, and `epochs · selectPairs + testPairs` predictions at its time a pair.
 * Step time does not depend on the data; the sample must have the work's batch size.
 */
export function predictNliProbeMs(
  s: NliStepSample,
  w: NliProbeWork,
): { steps: number; trainMs: number; selectMs: number; testMs: number } {
  if (s.batch !== w.batch) {
    throw new KitError(`NLI probe cost: measured at batch ${s.batch}, asked for batch ${w.batch}`);
  }
  const steps = w.epochs * Math.ceil(w.trainPairs / w.batch);
  const perPair = s.predictMs / s.predictBatch;
  return {
    steps,
    trainMs: steps * s.ms,
    selectMs: w.epochs * w.selectPairs * perPair,
    testMs: w.testPairs * perPair,
  };
}
