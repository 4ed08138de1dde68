/**
 * The paper profile's counts (K's plan, FLORES, XNLI, D's set) times this machine's unit costs:
 * an estimated wall time and peak memory per notebook, with the parts each is made of and what
 * the estimate leaves out.
 */
import { kPaperFineTunePlan } from "../k_finetune/k_paper_setups.ts";
import { kPaperStep } from "../k_finetune/k_paper_plan.ts";
import {
  fitEmbedding,
  fitKStep,
  type KStepFit,
  type NliStepSample,
  predictEmbedding,
  predictKStep,
  predictNliProbeMs,
} from "./cost_model.ts";
import type { NotebookName } from "./notebook_inputs.ts";
import type { UnitCosts } from "./unit_costs.ts";
import { KitError } from "../util/kit_error.ts";
import { xlmrLayerActivationBytes } from "../encoders/xlmr_wasm_heap_budget.ts";

/** The paper profile's sizes (sources in the comments). */
export const PAPER_COUNTS = {
  /** MS-COCO 2017 train images (one caption record an image, as K's translations file). */
  cocoTrainImages: 118_287,
  cocoValImages: 5_000,
  /** XLM-R-large / ViT-B/16 depths. */
  kTextLayers: 24,
  kImageLayers: 12,
  kVocab: 250_002,
  kTextWidth: 1024,
  /** Non-word-table parameters of the text tower (kept on the device). */
  kTextDenseParams: 303_400_000,
  /** ViT-B/16's parameters. */
  kImageParams: 85_800_000,
  /** K's head: Linear(1024→512) + Linear(768→512) with biases, and the scale. */
  kHeadParams: 1024 * 512 + 512 + 768 * 512 + 512 + 1,
  /**
   * Bytes a densely trained parameter holds: host value, Adam's two moments, host gradient,
   * device weight and device gradient (float32).
   */
  kBytesPerDenseParam: 24,
  /** Bytes a word-table row value holds: host value and Adam's two (lazy) moments. */
  kBytesPerTableValue: 12,
  /** Eng-Pivot's texts a batch: 32 English captions + up to 96 translations (es, ja, hi). */
  engPivotTexts: 128,
  floresSentences: 1_012,
  floresLanguages: 204,
  /** Untuned XLM-R + K's four setups. */
  kEncoders: 5,
  /**
   * Distinct NLI texts: MultiNLI train 392,702 hypotheses + ~130,900 premises, dev matched +
   * mismatched ~26,000, XNLI test 15 × (5,010 + 1,670), AmericasNLI test ~10,000.
   */
  nliTexts: 392_702 + 130_900 + 26_000 + 15 * (5_010 + 1_670) + 10_000,
  /** MultiNLI 1.0 train pairs (every one has a gold label): the NLI probe's training set. */
  multinliTrainPairs: 392_702,
  /** MultiNLI 1.0 dev matched + mismatched pairs with a gold label: the probe's selection set. */
  multinliDevPairs: 9_815 + 9_832,
  /** XNLI 1.0 test: 5,010 pairs in each of 15 languages. */
  xnliTestPairs: 15 * 5_010,
  /** AmericasNLI test (anli.test.tsv, 10 languages). */
  americasNliTestPairs: 7_486,
  /** The NLI probe's embedding width for untuned XLM-R-large (mean-pooled output). */
  nliUntunedWidth: 1024,
  /** … and for K's four tuned setups (their text projection, `text_dense` 1024 → 512). */
  nliTunedWidth: 512,
  dItems: 2_770,
  dLanguages: 9,
  dFolds: 5,
  dStepsPerHead: 240,
  dEpochsPerHead: 20,
  clipLayers: 12,
  dTextLayers: 6,
  /** WIT v1 train + val + test shards (gzip) and the assumed TSV compression ratio. */
  witGzBytes: 25_300_000_000,
  witCompression: 3,
  cocoArchiveBytes: 20_405_354_669,
  /**
   * Tokens a FLORES sentence is padded to in K's encoder batches: 32 texts **in order of token
   * count** (`kSetupFolderEncoder` sorts each call's texts; notebook 03 calls once a language,
   * 1,012 sentences), padded to the batch's longest text, `<s>` and `</s>` included, truncated at
   * 500 (the encoder's cost is per padded token). Measured on the full-size FLORES stand-in with
   * the stand-in XLM-R-large tokenizer (a synthetic 250,002-piece SentencePiece vocabulary, not
   * XLM-R's; bench/sorted_batches/padded_tokens.ts, all 1,012 devtest sentences of all 204
   * languages): 43.3 real tokens a sentence, padded to 44.6 sorted (76.6 in the caller's order;
   * English 28.2 → 29.1, Russian 39.1 → 40.3, Chinese 55.9 → 57.6). On real FLORES text (the
   * mirror's SIB-200, 14 languages) sorting pads 1.03× the real tokens, against 1.87× unsorted.
   * Was 86 (unsorted batches, bench/wasm_batch/flores_padded_tokens.ts) and before that 48.
   */
  floresTokens: 45,
  /**
   * Tokens a distinct NLI text is padded to in sorted batches of 32 (notebook 04 embeds each
   * split's distinct premises, then hypotheses, in calls of 4,096), as `floresTokens`: measured on
   * the stand-in MultiNLI (train and dev) and XNLI test and the mirror's AmericasNLI test with the
   * stand-in tokenizer, weighted as `nliTexts` (MultiNLI train hypotheses 18.0 real → 18.1 padded,
   * premises 31.4 → 31.6): 22.6 (38.5 in the caller's order). Was 32 (a guess, unpadded).
   */
  nliTokens: 23,
  /**
   * Notebook 03's second benchmark, K-T1's in-domain rows (the mini dataset's held-out stamp
   * captions, `kT1InDomainBenchmark`): texts each encoder embeds (146 calls: the English pivot
   * and 145 languages). The plan counted FLORES only until the 2026-12-05 rehearsal of 03 logged
   * these calls (bench/rehearsal/2026-12-05_03-wasm-limit1.embed.jsonl: 101,923 texts an encoder
   * besides FLORES, the rest being K-F1's t-SNE and the try-it cell);
   * bench/sorted_batches/in_domain_tokens.ts counts them from the dataset.
   */
  inDomainTexts: 101_563,
  /**
   * Tokens an in-domain caption is padded to in sorted batches of 32, with the stand-in tokenizer
   * (bench/sorted_batches/in_domain_tokens.ts: 13.5 real, 15.2 padded).
   */
  inDomainTokens: 15,
  dCaptionTokens: 32,
  /** The mini profile's notebooks 00 and 01 (README, first run on 2 cores), seconds. */
  miniBuildSeconds: 44,
  miniTranslationSeconds: 9,
} as const;

/** One part of a notebook's estimate. */
export interface EstimatePart {
  what: string;
  seconds: number;
}

/** A notebook's estimate. */
export interface NotebookEstimate {
  notebook: NotebookName;
  seconds: number;
  peakBytes: number;
  parts: EstimatePart[];
  /** False when the run cannot start on this backend (memory), with the reason in `notes`. */
  fitsBackend: boolean;
  /** More than a day on this machine, or does not fit: a GPU (or many more cores) is needed. */
  needsGpu: boolean;
  notes: string[];
}

/** What the K estimate rests on (shown by `./kit task plan`). */
export interface KPlanSize {
  setups: number;
  stepsPerSetup: number;
  batchesPerEpoch: number;
  validations: number;
  valBatches: number;
  imageStepSeconds: number;
  pivotStepSeconds: number;
}

const GB = 1e9;
const DAY = 86_400;
/** WASM's 32-bit heap. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * WASM heap bytes of one XLM-R-large encoder embedding text: its dense weights (fp32),
 * XNNPACK's packed copies of them (plain wasm; wasm+openblas measured without them: 1.27 GB
 * after loading) and one layer's activations of the largest batch, 32 texts × 128 tokens
 * (`XlmRobertaEncoder.embed` frees each layer's before the next; ≈ 1.0 GB). The word table is
 * gathered on the host (`hostWordEmbeddings`).
 */
export function kInferenceWasmBytes(): number {
  const large = { hidden_size: PAPER_COUNTS.kTextWidth, num_attention_heads: 16 };
  return 2 * 4 * PAPER_COUNTS.kTextDenseParams + xlmrLayerActivationBytes(large, 32, 128);
}

function baseline(u: UnitCosts): number {
  const xs = [...u.textLarge, ...u.imageB32].map((s) => s.peakRssBytes ?? 0);
  return xs.length > 0 ? Math.min(...xs) : 0.5 * GB;
}

/**
 * Activation bytes a token holds per layer for the backward pass (float32): about 14 vectors
 * of the width (attention inputs and outputs, LayerNorms, the feed-forward's 4× pre- and
 * post-GELU rows) and one attention row per head.
 */
export function activationBytesPerTokenLayer(width: number, heads: number, tokens: number): number {
  return 4 * (14 * width + heads * tokens);
}

/**
 * Peak memory of a K step at the paper's shapes: the probes' baseline (runtime, code) plus the
 * parameters' state (`kBytesPerDenseParam`, `kBytesPerTableValue`) and the activations of the
 * batch. Analytic: the probes' RSS at 1–2 layers is too noisy to extrapolate 12–24×.
 */
export function kStepPeakBytes(
  baseBytes: number,
  shape: { captions: number; images: number; tokens: number; image: boolean },
): number {
  const c = PAPER_COUNTS;
  const dense = c.kTextDenseParams + c.kHeadParams + (shape.image ? c.kImageParams : 0);
  const text = shape.captions * shape.tokens * c.kTextLayers *
    activationBytesPerTokenLayer(c.kTextWidth, 16, shape.tokens);
  const image = shape.image
    ? shape.images * 197 * c.kImageLayers * activationBytesPerTokenLayer(768, 12, 197)
    : 0;
  return baseBytes + dense * c.kBytesPerDenseParam + c.kVocab * c.kTextWidth *
      c.kBytesPerTableValue +
    text + image;
}

/**
 * K's plan size and the wall seconds of one step of each kind: the fit's CPU milliseconds spread
 * over `cores` (the machine to itself, every core busy).
 */
export function kPlanSize(fit: KStepFit, cores = 1): KPlanSize {
  const c = PAPER_COUNTS;
  const { plan } = kPaperFineTunePlan(c.cocoTrainImages, false);
  const perEpoch = plan.schedule.steps / 10;
  let validations = 0;
  for (let s = 0; s < plan.schedule.steps; s++) {
    if (kPaperStep(s, perEpoch).validateAfter) validations++;
  }
  return {
    setups: 4,
    stepsPerSetup: plan.schedule.steps,
    batchesPerEpoch: perEpoch,
    validations,
    valBatches: Math.floor(c.cocoValImages / plan.batchSize),
    imageStepSeconds: predictKStep(fit, {
      textLayers: c.kTextLayers,
      imageLayers: c.kImageLayers,
      captions: plan.batchSize,
      images: plan.batchSize,
      denseParams: c.kTextDenseParams + c.kImageParams + c.kHeadParams,
    }) / 1000 / cores,
    pivotStepSeconds: predictKStep(fit, {
      textLayers: c.kTextLayers,
      imageLayers: 0,
      captions: c.engPivotTexts,
      images: 0,
      denseParams: c.kTextDenseParams + c.kHeadParams,
    }) / 1000 / cores,
  };
}

function kEstimate(u: UnitCosts): { estimate: NotebookEstimate; size: KPlanSize } {
  const c = PAPER_COUNTS;
  const fit = fitKStep(u.kStep);
  const cores = u.machine.cores;
  const size = kPlanSize(fit, cores);
  // validation: forward only, about a third of the batch-dependent part of a step
  const forward = (captions: number, images: number, imageLayers: number) =>
    (c.kTextLayers * fit.textCaptionLayer * captions +
      imageLayers * fit.imageImageLayer * images) / 3 / 1000 / cores;
  const valSeconds = (3 * forward(32, 32, c.kImageLayers) + forward(c.engPivotTexts, 0, 0)) *
    size.validations * size.valBatches;
  const parts: EstimatePart[] = [
    {
      what: `3 image–caption setups × ${size.stepsPerSetup} steps × ${
        size.imageStepSeconds.toFixed(1)
      } s`,
      seconds: 3 * size.stepsPerSetup * size.imageStepSeconds,
    },
    {
      what: `Eng-Pivot × ${size.stepsPerSetup} steps × ${size.pivotStepSeconds.toFixed(1)} s`,
      seconds: size.stepsPerSetup * size.pivotStepSeconds,
    },
    {
      what: `validation: 4 × ${size.validations} passes × ${size.valBatches} batches (forward)`,
      seconds: valSeconds,
    },
  ];
  const base = Math.min(...u.kStep.map((k) => k.peakRssBytes ?? Infinity));
  const probeBase = Number.isFinite(base) ? base - u.shapes.vocab * c.kTextWidth * 12 : 0.5 * GB;
  const tokens = u.shapes.tokens;
  const peakImage = kStepPeakBytes(probeBase, { captions: 32, images: 32, tokens, image: true });
  const peakPivot = kStepPeakBytes(probeBase, {
    captions: c.engPivotTexts,
    images: 0,
    tokens,
    image: false,
  });
  const atBatch2 = kStepPeakBytes(probeBase, { captions: 2, images: 2, tokens, image: true });
  const notes = [
    `K's plan: ${size.setups} setups × ${size.stepsPerSetup} steps (${size.batchesPerEpoch} batches of 32 images × 10 epochs over ${c.cocoTrainImages} COCO train images), validation after every 300th batch (${size.validations} a setup, ${size.valBatches} batches each).`,
    `Step times scaled linearly from probes at 1–2 layers (XLM-R-large and ViT-B/16 widths, ${u.shapes.tokens} tokens a caption, batches of 2 and 4) to 24 + 12 layers and 32 images; frozen-tower steps of epoch 0 counted as full steps; checkpoint writes not counted.`,
    `Peak memory analytic: ${c.kBytesPerDenseParam} B a trained parameter (host value, Adam moments, host gradient, device weight and gradient), ${c.kBytesPerTableValue} B a word-table value (host table + lazy Adam moments), activations of 32 captions × ${tokens} tokens and 32 images; at 2 images it gives ${
      (atBatch2 / 2 ** 30).toFixed(1)
    } GiB against 13.8 GiB measured (--backend cpu, BENCHMARKS.md).`,
  ];
  const wasm = /^wasm/.test(u.backend);
  // device state on WASM: the towers' weights, gradients and XNNPACK's packed weights
  const wasmDevice = 3 * 4 * (c.kTextDenseParams + c.kImageParams);
  if (wasm) {
    notes.push(
      `Does not fit the ${u.backend} backend: the towers' weights, gradients and XNNPACK's packed copies (≈ ${
        (wasmDevice / GB).toFixed(1)
      } GB) exceed WASM's 4 GB heap (measured: BENCHMARKS.md, "K's training step at real shapes"). Use --backend webgpu on a GPU; --backend cpu runs but measured 2709 s a step at batch 2 on 2 cores.`,
    );
  }
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  return {
    size,
    estimate: {
      notebook: "02_training",
      seconds,
      peakBytes: Math.max(peakImage, peakPivot),
      parts,
      fitsBackend: !(wasm && wasmDevice > WASM_HEAP_BYTES),
      needsGpu: true,
      notes,
    },
  };
}

/**
 * Notebook 04's NLI probes after the embeddings, wall seconds: for each of K's five setups
 * (untuned XLM-R at width 1024, the four tuned ones on their 512-d projection), K's 10 epochs
 * of batch-32 steps over MultiNLI train, a selection pass over MultiNLI dev after every epoch,
 * and the XNLI + AmericasNLI test predictions. CPU time from the probe at each width, spread
 * over the parallelism the probe had (CPU ÷ wall time, between 1 and `cores`): the step is
 * mostly serial (host Adam, uploads), only its matmuls use more than one core.
 */
export function nliProbesPart(
  samples: readonly NliStepSample[],
  cores: number,
): EstimatePart & { steps: number } {
  const c = PAPER_COUNTS;
  const work = {
    trainPairs: c.multinliTrainPairs,
    selectPairs: c.multinliDevPairs,
    testPairs: c.xnliTestPairs + c.americasNliTestPairs,
    epochs: 10,
    batch: 32,
  };
  const widths = [c.nliUntunedWidth, ...Array(c.kEncoders - 1).fill(c.nliTunedWidth)] as number[];
  let seconds = 0, steps = 0;
  const perStep: string[] = [];
  for (const d of widths) {
    const s = samples.find((x) => x.d === d && x.batch === work.batch);
    if (!s) throw new KitError(`plan: no NLI probe step measured at width ${d}`);
    const par = (ms: number, wall: number) => Math.min(cores, Math.max(1, ms / wall));
    const p = predictNliProbeMs(s, work);
    steps += p.steps;
    seconds += (p.trainMs / par(s.ms, s.wallMs) +
      (p.selectMs + p.testMs) / par(s.predictMs, s.predictWallMs)) / 1000;
    const label = `${(s.ms / par(s.ms, s.wallMs)).toFixed(0)} ms a step at ${4 * d}`;
    if (!perStep.includes(label)) perStep.push(label);
  }
  return {
    what: `NLI probes: ${c.kEncoders} setups × ${work.epochs} epochs × ${
      Math.ceil(work.trainPairs / work.batch)
    } steps (MultiNLI train, batch ${work.batch}; ${
      perStep.join(", ")
    } inputs), a selection pass over ${work.selectPairs} MultiNLI dev pairs after every epoch, ${work.testPairs} test predictions`,
    seconds,
    steps,
  };
}

/** Estimates of every notebook of the paper profile from measured unit costs. */
export function paperEstimates(u: UnitCosts): { notebooks: NotebookEstimate[]; k: KPlanSize } {
  const c = PAPER_COUNTS;
  const base = baseline(u);
  const large = fitEmbedding(u.textLarge), small = fitEmbedding(u.textBase);
  const clip = fitEmbedding(u.imageB32);
  // the probes measure CPU time; wall time with the machine to itself, every core busy
  const cores = u.machine.cores;
  const xlmrWeights = (c.kTextDenseParams + c.kVocab * c.kTextWidth) * 4;
  const out: NotebookEstimate[] = [];

  const cocoImages = c.cocoTrainImages + c.cocoValImages;
  const build: EstimatePart[] = [
    {
      what:
        `COCO: ${cocoImages} images validated and resized to 224 px (twice: check, then shards)`,
      seconds: 2 * cocoImages * u.imagePrepMs / 1000 / cores,
    },
    {
      what: `COCO archives' files hashed (${(c.cocoArchiveBytes / GB).toFixed(1)} GB)`,
      seconds: c.cocoArchiveBytes / 1e6 / u.hashMBps,
    },
    {
      what: `WIT: ${
        (c.witGzBytes / GB).toFixed(1)
      } GB of gzipped shards scanned (≈ ${c.witCompression}× that in TSV)`,
      seconds: c.witGzBytes * c.witCompression / 1e6 / u.scanMBps,
    },
    {
      what: `WIT: ${c.dItems} images prepared (twice)`,
      seconds: 2 * c.dItems * u.imagePrepMs / 1000 / cores,
    },
    { what: "the mini dataset (as the mini profile)", seconds: c.miniBuildSeconds },
  ];
  // Measured on the full-size COCO stand-in (640 px JPEGs → 224 px PNGs), issue 27: peak RSS
  // flat at 1.6–1.7 GB from 7,000 to 30,000 images (VmHWM 1.79 GB at 30,000) — the 512 MB PNG
  // cache, ~0.5–0.7 GB of decode buffers V8 frees lazily, the runtime — plus ~1.2 kB of records
  // per image (≈ 0.15 GB more at 118k); before the fix the build held every PNG (≥ 10 GB).
  out.push(notebook("00_dataset_build", build, base + 1.6 * GB, [
    "The build keeps per image only its metadata: the resized PNGs go to shards, at most 512 MB of them cached between validation and shard writing; decoded pixels are garbage V8 collects lazily (≈ 0.5–0.7 GB in flight). Measured flat at 1.6–1.7 GB from 7,000 to 30,000 COCO images.",
  ]));
  out.push(notebook(
    "01_translation",
    [{
      what: "MT-T1 on the mini dataset (as the mini profile)",
      seconds: c.miniTranslationSeconds,
    }],
    base + 0.3 * GB,
    [
      "Translating COCO's captions is not part of the run (KIT_K_TRANSLATIONS); NLLB over ~590k captions × 4 languages takes days on a CPU.",
    ],
  ));

  const k = kEstimate(u);
  out.push(k.estimate);

  // loadKSetupEncoders' paper encoders load their weights on first use and share one residency
  // slot (lib/models/k_paper_encoder_pool.ts): one XLM-R-large encoder is held at a time
  const oneEncoderFit = !(/^wasm/.test(u.backend) && kInferenceWasmBytes() > WASM_HEAP_BYTES);
  // what one resident encoder holds: on WASM its heap (dense weights, XNNPACK's packed copies,
  // one layer's activations) plus the word table on the host; elsewhere the fp32 weights. The
  // rehearsal of 03 on wasm+openblas (2026-12-05) peaked at 6.6 GB for the process tree, where
  // the weights alone had given 3.4 GB.
  const residentEncoderBytes = /^wasm/.test(u.backend) && oneEncoderFit
    ? kInferenceWasmBytes() + c.kVocab * c.kTextWidth * 4
    : xlmrWeights;
  const oneEncoderNotes = (loads: string) => [
    `Peak memory counts one XLM-R-large encoder resident at a time (≈ ${
      (xlmrWeights / GB).toFixed(1)
    } GB of fp32 weights: loadKSetupEncoders loads each setup's weights on first use and releases the previous setup's first, not the ${c.kEncoders} at once)${
      oneEncoderFit
        ? /^wasm/.test(u.backend)
          ? `; on ${u.backend} ≈ ${
            (kInferenceWasmBytes() / GB).toFixed(1)
          } GB of WASM's 4 GB heap (the dense weights, XNNPACK's packed copies and one layer's activations of 32 texts × 128 tokens) and the word table, which stays on the host, both counted.`
          : "."
        : `; it does not fit ${u.backend}'s 4 GB heap; --backend cpu or webgpu.`
    }`,
    `${loads} Each load reads a setup folder's ≈ 2.2 GB model.safetensors (with its sha256 check) and initialises the tower first; not counted (minutes beside the embeddings).`,
  ];
  const flores = c.floresSentences * c.floresLanguages;
  out.push(withFit(
    notebook(
      "03_bitext_retrieval",
      [{
        what:
          `${c.kEncoders} encoders × ${flores} FLORES sentences (${c.floresSentences} × ${c.floresLanguages} languages), 24 layers, ~${c.floresTokens} tokens a sentence (batches of 32 sorted by length, padded to their longest)`,
        seconds: c.kEncoders * predictEmbedding(large, flores, c.kTextLayers, c.floresTokens) /
          1000 /
          cores,
      }, {
        what:
          `${c.kEncoders} encoders × ${c.inDomainTexts} in-domain stamp captions (K-T1's in-domain rows: the English pivot and 145 languages of the mini dataset), ~${c.inDomainTokens} tokens a caption (sorted batches of 32)`,
        seconds: c.kEncoders *
          predictEmbedding(large, c.inDomainTexts, c.kTextLayers, c.inDomainTokens) / 1000 / cores,
      }],
      base + residentEncoderBytes + flores * c.kTextWidth * 4,
      [
        "Embedding time scaled linearly from probes at 1–2 layers of XLM-R-large width on the kit's TF.js tower (the paper profile embeds every setup, untuned XLM-R included, with that tower from model.safetensors; ONNX Runtime only where the folder has no safetensors). Retrieval and t-SNE are small beside it.",
        `Tokens a sentence measured on the FLORES stand-in with the rehearsal's stand-in tokenizer (a synthetic vocabulary of XLM-R's size, not its SentencePiece model; bench/sorted_batches): ${c.floresTokens} padded in batches sorted by length, 77 in the caller's order.`,
        ...oneEncoderNotes(
          `Weight loads: ${
            3 * c.kEncoders - 3
          } (the ${c.kEncoders} setups for K-T1, again for K-F1's t-SNE, and the try-it cell's 2 setups), against ${
            2 * c.kEncoders
          } when all ${c.kEncoders} were held at once.`,
        ),
      ],
    ),
    oneEncoderFit,
  ));
  const nli = nliProbesPart(u.nliStep, cores);
  out.push(withFit(
    notebook(
      "04_xnli",
      [{
        what:
          `${c.kEncoders} encoders × ${c.nliTexts} distinct NLI texts (MultiNLI train/dev, XNLI test ×15, AmericasNLI), 24 layers, ~${c.nliTokens} tokens a text (batches of 32 sorted by length)`,
        seconds: c.kEncoders * predictEmbedding(large, c.nliTexts, c.kTextLayers, c.nliTokens) /
          1000 /
          cores,
      }, { what: nli.what, seconds: nli.seconds }],
      base + residentEncoderBytes + c.nliTexts * c.kTextWidth * 4,
      [
        `Tokens a text measured on the stand-in MultiNLI and XNLI and the mirror's AmericasNLI with the rehearsal's stand-in tokenizer (not XLM-R's SentencePiece model; bench/sorted_batches): ${c.nliTokens} padded in batches sorted by length, 39 in the caller's order.`,
        `NLI probes: ${nli.steps} training steps in all, each measured at its real width (MLP 4d → 512 → 512 → 512 → 3; d = 1024 untuned, 512 tuned) by the plan's NLI probe (features, forward + backward, gradient read-back, host Adam, parameter upload), selection and test passes from a timed prediction of 1,024 pairs.`,
        ...oneEncoderNotes(
          `Weight loads: ${c.kEncoders}, one a setup (as when all ${c.kEncoders} were held at once).`,
        ),
      ],
    ),
    oneEncoderFit,
  ));

  const h = u.heads;
  const captions = c.dItems * c.dLanguages;
  const dParts: EstimatePart[] = [
    {
      what: `${c.dItems} images, CLIP ViT-B/32 (12 layers)`,
      seconds: predictEmbedding(clip, c.dItems, c.clipLayers) / 1000 / cores,
    },
    {
      what: `${captions} captions, multilingual text encoder (6 layers, DistilBERT width)`,
      seconds: predictEmbedding(small, captions, c.dTextLayers, c.dCaptionTokens) / 1000 / cores,
    },
    {
      what: `heads: ${c.dFolds} folds × ${c.dStepsPerHead} steps × (linear + MLP)`,
      seconds: c.dFolds * c.dStepsPerHead * (h.linearStepMs + h.mlpStepMs) / 1000,
    },
    {
      what: `per-epoch evaluation: ${c.dFolds} folds × ${c.dEpochsPerHead} epochs × 2 heads`,
      seconds: c.dFolds * c.dEpochsPerHead * 2 * h.evalFoldMs / 1000,
    },
    {
      what: `geometry: ${c.dFolds} folds × 3 states`,
      seconds: c.dFolds * 3 * h.geometryFoldMs / 1000,
    },
  ];
  out.push(notebook("05_representation_diagnostics", dParts, base + 1.2 * GB, [
    "Image and caption embeddings proxied by the kit's TF.js ViT (patch 32) and a DistilBERT-width tower at 1–2 layers (the paper profile runs D's ONNX exports through ONNX Runtime, usually faster). D5's bootstrap replicates and the language-ID probe are not counted.",
  ]));
  return { notebooks: out, k: k.size };
}

function withFit(e: NotebookEstimate, fitsBackend: boolean): NotebookEstimate {
  return { ...e, fitsBackend };
}

function notebook(
  name: NotebookName,
  parts: EstimatePart[],
  peakBytes: number,
  notes: string[],
): NotebookEstimate {
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  return {
    notebook: name,
    seconds,
    peakBytes,
    parts,
    fitsBackend: true,
    needsGpu: seconds > DAY,
    notes,
  };
}
