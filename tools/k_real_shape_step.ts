/**
 * One (or a few) of paper K's training steps at real shapes, random weights: XLM-R-large text
 * tower + ViT-base image tower + 512-d projections, a batch of images with one caption each,
 * forward + backward + Adam (word table: row-sparse gradient, torch's dense update). Prints init time, each step's time
 * (gradients / optimiser / upload), the median, and peak resident memory; `--json` writes it.
 *
 *   deno run -A tools/k_real_shape_step.ts [--backend wasm|webgpu|cpu] [--steps 3]
 *     [--images 2] [--tokens 32] [--text xlm-roberta-large] [--image vit-base-patch16-224-in21k]
 *     [--projection 512] [--state host|device] [--read-loss-every 1] [--json out.json]
 *
 * `--text`/`--image` take the kit's config names or config.json paths (tests use tiny ones).
 * Not part of the test suite at real shapes: it takes minutes on the CPU.
 */
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  countersDelta,
  installWebGpuCounters,
  type WebGpuCounters,
  webGpuCounters,
} from "../lib/backend/webgpu_counters.ts";
import type { BackendPreference } from "../lib/config/kit_config.ts";
// Direct module imports (not the barrels): the bundle for a GPU machine must not pull in sharp
// or transformers.js, which need native add-ons.
import { ParameterSet } from "../lib/encoders/parameter_set.ts";
import {
  readEncoderConfig,
  type VitConfig,
  type XlmRobertaConfig,
} from "../lib/encoders/encoder_config.ts";
import { VitEncoder } from "../lib/encoders/vit_encoder.ts";
import { XlmRobertaEncoder } from "../lib/encoders/xlm_roberta_encoder.ts";
import {
  type KImageCaptionBatch,
  kProjectionHeadSpecs,
  type KStepReport,
  kTrainStep,
} from "../lib/k_finetune/k_train_step.ts";
import { KDeviceTrainer } from "../lib/k_finetune/k_device_train_step.ts";
import { Adam } from "../lib/optim/adam.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

/** Options of `runRealShapeStep`. */
export interface RealShapeOptions {
  backend: BackendPreference;
  steps: number;
  images: number;
  /** Tokens of the longest caption (incl. `<s>`, `</s>`); the other captions are shorter. */
  tokens: number;
  text: string;
  image: string;
  projection: number;
  seed: number;
  /**
   * Where the training state lives: `host` (default: `kTrainStep`, parameters and Adam in
   * JavaScript, word table row-sparse) or `device` (WebGPU only: `KDeviceTrainer`, everything on
   * the GPU, word table dense, losses read every `readLossEvery` steps).
   */
  state?: "host" | "device";
  readLossEvery?: number;
  log?: (line: string) => void;
}

/** What `runRealShapeStep` measured. */
export interface RealShapeReport {
  backend: string;
  device: string;
  state: "host" | "device";
  textConfig: string;
  imageConfig: string;
  parameters: { text: number; image: number; head: number };
  images: number;
  captions: number;
  tokens: number;
  initMs: number;
  steps: KStepReport[];
  stepMs: number[];
  medianStepMs: number;
  /** Peak resident set size of the process (`VmHWM`), bytes; null where /proc is absent. */
  peakRssBytes: number | null;
  rssBytes: number;
  tfMemory: Record<string, unknown>;
  losses: number[];
  /**
   * Per step, what the step did at the WebGPU device API (dispatches, readbacks, uploads, buffers
   * created …); all zero on other backends.
   */
  counters: WebGpuCounters[];
  /** The counters' per-field median over the steps after the first (warm-up). */
  medianCounters: WebGpuCounters;
}

/** Peak RSS from /proc/self/status (Linux), or null. */
export function peakRss(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** A batch of random captions (ids in `[3, vocab)`, `<s>` = 0, `</s>` = 2, padding) and pixels. */
export function randomKBatch(
  text: XlmRobertaConfig,
  image: VitConfig,
  images: number,
  tokens: number,
  seed: number,
): KImageCaptionBatch {
  if (tokens < 3) throw new KitError("--tokens must be at least 3");
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** The per-field median of `cs`. */
export function medianCounters(cs: readonly WebGpuCounters[]): WebGpuCounters {
  const out = countersDelta(webGpuCounters(), webGpuCounters());
  for (const k of Object.keys(out) as (keyof WebGpuCounters)[]) {
    out[k] = median(cs.map((c) => c[k]));
  }
  return out;
}

/** One line: dispatches, readbacks, uploads, buffers created. */
export function formatCounters(c: WebGpuCounters): string {
  return `${c.dispatches} dispatches, ${c.readbacks} readbacks (${
    (c.readbackBytes / 1e6).toFixed(2)
  } MB), ${c.uploads} uploads (${(c.uploadBytes / 1e6).toFixed(2)} MB), ${c.uniformWrites} ` +
    `uniform writes, ${c.buffersCreated} buffers and ${c.bindGroupsCreated} bind groups created`;
}

/** Builds K's model at the given shapes with random weights and runs `steps` training steps. */
export async function runRealShapeStep(o: RealShapeOptions): Promise<RealShapeReport> {
  const log = o.log ?? (() => {});
  installWebGpuCounters();
  const info = await initBackend(o.backend);
  log(`backend ${info.name} (${info.device})`);
  const tc = await readEncoderConfig(o.text), ic = await readEncoderConfig(o.image);
  if (tc.model_type !== "xlm-roberta" || ic.model_type !== "vit") {
    throw new KitError(`--text must be an XLM-R config and --image a ViT config`);
  }
  const t0 = performance.now();
  const state = o.state ?? "host";
  const text = new XlmRobertaEncoder(tc, {
    seed: o.seed,
    hostWordEmbeddings: state === "host",
    fastInit: true,
  });
  log(
    `text tower ${text.params.count} parameters (${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s)`,
  );
  const image = new VitEncoder(ic, { seed: o.seed + 1, fastInit: true });
  const head = new ParameterSet(
    kProjectionHeadSpecs(text.dim, image.dim, o.projection),
    o.seed + 2,
  );
  const lr = 1e-5;
  const m = { text, image, head };
  const device = state === "device"
    ? new KDeviceTrainer(m, { adam: { lr }, readLossEvery: o.readLossEvery ?? 1 })
    : null;
  const opt = device ? null : {
    text: new Adam(text.params.sizes(), { lr }),
    image: new Adam(image.params.sizes(), { lr }),
    head: new Adam(head.sizes(), { lr }),
  };
  const initMs = performance.now() - t0;
  log(
    `init ${(initMs / 1000).toFixed(1)} s, rss ${
      (Deno.memoryUsage().rss / 2 ** 30).toFixed(2)
    } GiB`,
  );
  const batch = randomKBatch(tc, ic, o.images, o.tokens, o.seed + 3);
  const wordRows = new Set(batch.tokens.ids).size;
  const losses: number[] = [];
  const deviceStep = async (): Promise<KStepReport> => {
    const a = performance.now();
    const read = await device!.step(batch, lr);
    if (read) losses.push(...read);
    const ms = performance.now() - a;
    return { loss: read?.at(-1) ?? NaN, gradMs: ms, optimMs: 0, syncMs: 0, wordRows };
  };
  const steps: KStepReport[] = [], stepMs: number[] = [];
  const counters: WebGpuCounters[] = [];
  for (let s = 0; s < o.steps; s++) {
    const c0 = webGpuCounters();
    const a = performance.now();
    const r = device ? await deviceStep() : await kTrainStep(m, opt!, batch, lr);
    if (!device) losses.push(r.loss);
    const ms = performance.now() - a;
    const c = countersDelta(c0, webGpuCounters());
    steps.push(r);
    stepMs.push(ms);
    counters.push(c);
    log(
      `step ${s}: loss ${r.loss.toFixed(5)} ${(ms / 1000).toFixed(2)} s (grads ${
        (r.gradMs / 1000).toFixed(2)
      }, adam ${(r.optimMs / 1000).toFixed(2)}, upload ${(r.syncMs / 1000).toFixed(2)}), peak rss ${
        ((peakRss() ?? 0) / 2 ** 30).toFixed(2)
      } GiB; ${formatCounters(c)}`,
    );
  }
  const report: RealShapeReport = {
    backend: info.name,
    device: info.device,
    state,
    textConfig: o.text,
    imageConfig: o.image,
    parameters: { text: text.params.count, image: image.params.count, head: head.count },
    images: o.images,
    captions: batch.tokens.batch,
    tokens: o.tokens,
    initMs,
    steps,
    stepMs,
    // The first step includes kernel compilation / warm-up; the median is over the rest.
    medianStepMs: median(stepMs.length > 1 ? stepMs.slice(1) : stepMs),
    peakRssBytes: peakRss(),
    rssBytes: Deno.memoryUsage().rss,
    tfMemory: { ...tf.memory() } as Record<string, unknown>,
    losses: device ? [...losses, ...(await device.readLosses())] : losses,
    counters,
    medianCounters: medianCounters(counters.length > 1 ? counters.slice(1) : counters),
  };
  device?.dispose();
  text.dispose();
  image.dispose();
  head.dispose();
  return report;
}

const CLI = {
  usage: "deno run -A tools/k_real_shape_step.ts [options]",
  options: {
    backend: { type: "string", value: "NAME", help: "TF.js backend (default wasm)" },
    steps: { type: "integer", value: "N", min: 1, help: "training steps (default 3)" },
    images: { type: "integer", value: "N", min: 1, help: "images per batch (default 2)" },
    tokens: { type: "integer", value: "N", min: 1, help: "tokens per caption (default 32)" },
    text: {
      type: "string",
      value: "NAME",
      help: "text tower config (default xlm-roberta-large)",
    },
    image: {
      type: "string",
      value: "NAME",
      help: "image tower config (default vit-base-patch16-224-in21k)",
    },
    projection: { type: "integer", value: "D", min: 1, help: "projection size (default 512)" },
    seed: { type: "integer", value: "S", min: 0, help: "initialisation seed (default 0)" },
    json: { type: "string", value: "FILE", help: "also write the full report here" },
    state: {
      type: "string",
      value: "host|device",
      help: "where parameters and Adam state live (default host; device: WebGPU only)",
    },
    "read-loss-every": {
      type: "integer",
      value: "N",
      min: 1,
      help: "device state: read the loss back every N steps (default 1)",
    },
  },
} as const satisfies CliSpec;

if (import.meta.main) {
  await runCli(CLI, async (values) => {
    const report = await runRealShapeStep({
      backend: (values.backend ?? "wasm") as BackendPreference,
      steps: values.steps ?? 3,
      images: values.images ?? 2,
      tokens: values.tokens ?? 32,
      text: values.text ?? "xlm-roberta-large",
      image: values.image ?? "vit-base-patch16-224-in21k",
      projection: values.projection ?? 512,
      seed: values.seed ?? 0,
      state: (() => {
        const st = values.state ?? "host";
        if (st !== "host" && st !== "device") {
          throw new UsageError(`--state ${st}: expected host or device`);
        }
        return st;
      })(),
      readLossEvery: values["read-loss-every"] ?? 1,
      log: (l) => console.log(l),
    });
    console.log(JSON.stringify({ ...report, steps: undefined }));
    if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2));
  });
}
