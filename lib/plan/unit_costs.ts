/**
 * The measured per-unit costs of this machine and backend, cached in
 * `.cache/plan/unit-costs-<machine>-<backend>.json` (written atomically): measured once (about a
 * minute on 2 cores), then read. Each probe runs through a `ProbeRunner`, which `./kit task plan`
 * makes a fresh process per probe so that each one's peak memory is its own.
 */
import { join } from "node:path";
import { cpus, hostname, totalmem } from "node:os";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { cacheDir } from "../util/paths.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import type { XlmRobertaConfig } from "../encoders/encoder_config.ts";
import {
  type EmbedSample,
  K_STEP_PROBE_SHAPES,
  type KStepSample,
  type NliStepSample,
} from "./cost_model.ts";
import {
  imageConfig,
  peakRssBytes,
  probeHashRate,
  probeHeadWorkloads,
  probeImageEmbedding,
  probeImagePrep,
  probeKStep,
  probeNliStep,
  probeScanRate,
  probeTextEmbedding,
  textConfig,
} from "./unit_probes.ts";

/** What to measure in one probe (serialisable: it crosses to a child process as JSON). */
export type ProbeSpec =
  | {
    kind: "k-step";
    text: string;
    image: string;
    textLayers: number;
    imageLayers: number;
    images: number;
    tokens: number;
    vocab: number;
    projection: number;
  }
  | {
    kind: "text-embed";
    text: string;
    layers: number;
    batch: number;
    tokens: number;
    vocab: number;
    /** Overrides of width (a DistilBERT-sized proxy): hidden, heads, intermediate. */
    width?: { hidden: number; heads: number; intermediate: number };
  }
  | { kind: "image-embed"; image: string; layers: number; batch: number; patch?: number }
  | { kind: "heads" }
  | { kind: "io" }
  | {
    kind: "nli-step";
    /** Embedding width: the MLP's input is `4d`. */
    d: number;
    hidden: number[];
    batch: number;
    predictBatch: number;
  };

/** The result of one probe. */
export interface ProbeOutput {
  ms?: number;
  cpuMs?: number;
  denseParams?: number;
  peakRssBytes: number | null;
  heads?: { linearStepMs: number; mlpStepMs: number; evalFoldMs: number; geometryFoldMs: number };
  scanMBps?: number;
  hashMBps?: number;
  imagePrepMs?: number;
  /** NLI probe: CPU and wall milliseconds of one `predict` of `predictBatch` pairs. */
  predictMs?: number;
  predictWallMs?: number;
}

/** Runs one probe (in this process, or in a child process). */
export type ProbeRunner = (spec: ProbeSpec) => Promise<ProbeOutput>;

/** Runs `spec` in this process (the backend must be initialised). */
export async function runProbeInProcess(spec: ProbeSpec): Promise<ProbeOutput> {
  switch (spec.kind) {
    case "k-step": {
      const r = await probeKStep(
        await textConfig(spec.text, spec.textLayers, spec.vocab),
        await imageConfig(spec.image, spec.imageLayers),
        { images: spec.images, tokens: spec.tokens },
        { projection: spec.projection },
      );
      return r;
    }
    case "text-embed": {
      let c: XlmRobertaConfig = await textConfig(spec.text, spec.layers, spec.vocab);
      if (spec.width) {
        c = {
          ...c,
          hidden_size: spec.width.hidden,
          num_attention_heads: spec.width.heads,
          intermediate_size: spec.width.intermediate,
        };
      }
      return await probeTextEmbedding(c, spec.batch, spec.tokens);
    }
    case "image-embed":
      return await probeImageEmbedding(
        await imageConfig(spec.image, spec.layers, spec.patch),
        spec.batch,
      );
    case "heads":
      return { heads: await probeHeadWorkloads(), peakRssBytes: peakRssBytes() };
    case "io":
      return {
        scanMBps: await probeScanRate(),
        hashMBps: await probeHashRate(),
        imagePrepMs: await probeImagePrep(),
        peakRssBytes: peakRssBytes(),
      };
    case "nli-step": {
      const r = await probeNliStep(spec.d, {
        hidden: spec.hidden,
        batch: spec.batch,
        predictBatch: spec.predictBatch,
      });
      return {
        ms: r.step.ms,
        cpuMs: r.step.cpuMs,
        predictMs: r.predict.cpuMs,
        predictWallMs: r.predict.ms,
        peakRssBytes: r.peakRssBytes,
      };
    }
  }
}

/** This machine, as the cache key sees it. */
export interface MachineInfo {
  key: string;
  cpu: string;
  cores: number;
  memoryBytes: number;
  host: string;
}

/** The machine's description and a short key (sha256 of CPU model, cores, memory, host name). */
export function machineInfo(): MachineInfo {
  const c = cpus();
  const cpu = c[0]?.model ?? "unknown CPU";
  const cores = c.length, memoryBytes = totalmem(), host = hostname();
  return {
    key: sha256Hex(`${cpu}|${cores}|${memoryBytes}|${host}`).slice(0, 12),
    cpu,
    cores,
    memoryBytes,
    host,
  };
}

/** The probe shapes: the paper's widths, reduced depth and vocabulary (see `measureUnitCosts`). */
export interface ProbeShapes {
  kText: string;
  kImage: string;
  /** Vocabulary of the probes' text towers (the word table is row-sparse: time does not depend on it). */
  vocab: number;
  tokens: number;
  projection: number;
  embedBatch: number;
  imageBatch: number;
  /** Image config of D's CLIP tower proxy (with `clipPatch`). */
  clipImage: string;
  clipPatch: number;
  /** Width of D's multilingual text encoder (DistilBERT): hidden, heads, intermediate. */
  dTextWidth: { hidden: number; heads: number; intermediate: number };
  /**
   * Notebook 04's NLI probe: the embedding widths it is trained on (untuned XLM-R-large's 1024,
   * the tuned setups' projection), its hidden layers, batch, and the batch of a timed `predict`.
   */
  nli: { widths: number[]; hidden: number[]; batch: number; predictBatch: number };
}

/** The paper's shapes: XLM-R-large + ViT-B/16 for K, a ViT-B/32 and a DistilBERT-width proxy for D. */
export const PAPER_PROBE_SHAPES: ProbeShapes = {
  kText: "xlm-roberta-large",
  kImage: "vit-base-patch16-224-in21k",
  vocab: 32_000,
  tokens: 32,
  projection: 512,
  embedBatch: 16,
  imageBatch: 8,
  clipImage: "vit-base-patch16-224-in21k",
  clipPatch: 32,
  dTextWidth: { hidden: 768, heads: 12, intermediate: 3072 },
  nli: { widths: [1024, 512], hidden: [512, 512, 512], batch: 32, predictBatch: 1024 },
};

/** Everything measured, as cached. */
export interface UnitCosts {
  version: 2;
  machine: MachineInfo;
  backend: string;
  measuredAt: string;
  /** Seconds the measurement took. */
  measureSeconds: number;
  /** The 1-minute load average when the measurement ended (other processes slow the probes). */
  loadAverage: number;
  shapes: ProbeShapes;
  kStep: KStepSample[];
  /** XLM-R-large width (K's text tower, the untuned baseline). */
  textLarge: EmbedSample[];
  /** DistilBERT width (D's multilingual text encoder, proxy). */
  textBase: EmbedSample[];
  /** ViT-B/32 (D's CLIP image tower, proxy). */
  imageB32: EmbedSample[];
  heads: { linearStepMs: number; mlpStepMs: number; evalFoldMs: number; geometryFoldMs: number };
  scanMBps: number;
  hashMBps: number;
  /** Milliseconds to validate and normalise one COCO-sized JPEG to a 224-pixel PNG. */
  imagePrepMs: number;
  /** Notebook 04's NLI probe: a step and a prediction batch, one sample per embedding width. */
  nliStep: NliStepSample[];
}

/**
 * Unit costs as a cache file may hold them: one written before a probe was added lacks its
 * samples (`completeUnitCosts` measures only those).
 */
export type StoredUnitCosts = Omit<UnitCosts, "nliStep"> & { nliStep?: NliStepSample[] };

/** The probes `measureUnitCosts` runs, in order. */
export function unitCostProbes(s: ProbeShapes): ProbeSpec[] {
  const out: ProbeSpec[] = K_STEP_PROBE_SHAPES.map((k) => ({
    kind: "k-step" as const,
    text: s.kText,
    image: s.kImage,
    ...k,
    tokens: s.tokens,
    vocab: s.vocab,
    projection: s.projection,
  }));
  for (const layers of [1, 2]) {
    out.push({
      kind: "text-embed",
      text: s.kText,
      layers,
      batch: s.embedBatch,
      tokens: s.tokens,
      vocab: s.vocab,
    });
  }
  for (const layers of [1, 2]) {
    out.push({
      kind: "text-embed",
      text: s.kText,
      layers,
      batch: s.embedBatch,
      tokens: s.tokens,
      vocab: s.vocab,
      width: s.dTextWidth,
    });
  }
  for (const layers of [1, 2]) {
    out.push({
      kind: "image-embed",
      image: s.clipImage,
      layers,
      batch: s.imageBatch,
      patch: s.clipPatch,
    });
  }
  out.push({ kind: "heads" }, { kind: "io" });
  out.push(...nliStepProbes(s));
  return out;
}

/** The NLI probe's probes: one per embedding width. */
export function nliStepProbes(s: ProbeShapes): ProbeSpec[] {
  return s.nli.widths.map((d) => ({
    kind: "nli-step" as const,
    d,
    hidden: [...s.nli.hidden],
    batch: s.nli.batch,
    predictBatch: s.nli.predictBatch,
  }));
}

function nliSample(
  spec: Extract<ProbeSpec, { kind: "nli-step" }>,
  r: ProbeOutput,
  need: (v: number | undefined) => number,
): NliStepSample {
  return {
    d: spec.d,
    hidden: [...spec.hidden],
    batch: spec.batch,
    ms: need(r.cpuMs),
    wallMs: need(r.ms),
    predictBatch: spec.predictBatch,
    predictMs: need(r.predictMs),
    predictWallMs: need(r.predictWallMs),
    peakRssBytes: r.peakRssBytes,
  };
}

function needTime(spec: ProbeSpec): (v: number | undefined) => number {
  return (v) => {
    if (v === undefined || !Number.isFinite(v)) {
      throw new KitError(`plan: probe ${JSON.stringify(spec)} returned no time`);
    }
    return v;
  };
}

function probeLine(i: number, total: number, spec: ProbeSpec, r: ProbeOutput, t0: number) {
  return `probe ${i + 1}/${total} ${describeProbe(spec)}: ${
    r.cpuMs !== undefined && r.ms !== undefined
      ? `${r.cpuMs.toFixed(0)} ms CPU, ${r.ms.toFixed(0)} ms wall`
      : "done"
  } (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
}

/** The NLI probes `shapes` asks for whose width `u` has no sample of the same hidden and batch. */
export function missingNliProbes(
  u: StoredUnitCosts,
  shapes: ProbeShapes = PAPER_PROBE_SHAPES,
): ProbeSpec[] {
  return nliStepProbes(shapes).filter((p) =>
    p.kind === "nli-step" &&
    !(u.nliStep ?? []).some((s) =>
      s.d === p.d && s.batch === p.batch && s.predictBatch === p.predictBatch &&
      s.hidden.join() === p.hidden.join()
    )
  );
}

/**
 * Cached unit costs with the samples a newer kit added measured now (only those: a cache file
 * written before the NLI probe's probe existed gets that probe, the rest is kept as measured).
 * `measured` counts the probes run; when it is > 0 the caller writes the file back.
 */
export async function completeUnitCosts(
  u: StoredUnitCosts,
  run: ProbeRunner,
  shapes: ProbeShapes = PAPER_PROBE_SHAPES,
  log: (line: string) => void = () => {},
): Promise<{ costs: UnitCosts; measured: number }> {
  const missing = missingNliProbes(u, shapes);
  const nliStep = [...(u.nliStep ?? [])];
  if (missing.length > 0) {
    log(
      `plan: the cached unit costs have no ${
        missing.map(describeProbe).join("; ")
      } (added to the plan since they were measured): measuring only those`,
    );
  }
  for (const [i, spec] of missing.entries()) {
    if (spec.kind !== "nli-step") continue;
    const a = performance.now();
    const r = await run(spec);
    nliStep.push(nliSample(spec, r, needTime(spec)));
    log(probeLine(i, missing.length, spec, r, a));
  }
  return {
    costs: { ...u, shapes: { ...u.shapes, nli: shapes.nli }, nliStep },
    measured: missing.length,
  };
}

/**
 * Runs every probe of `unitCostProbes(shapes)` through `run` and gathers the results. `log` gets
 * one line a probe.
 */
export async function measureUnitCosts(
  run: ProbeRunner,
  backend: string,
  shapes: ProbeShapes = PAPER_PROBE_SHAPES,
  log: (line: string) => void = () => {},
): Promise<UnitCosts> {
  const t0 = performance.now();
  const kStep: KStepSample[] = [], textLarge: EmbedSample[] = [], textBase: EmbedSample[] = [];
  const imageB32: EmbedSample[] = [], nliStep: NliStepSample[] = [];
  let heads: UnitCosts["heads"] | null = null, scanMBps = NaN, hashMBps = NaN, imagePrepMs = NaN;
  const probes = unitCostProbes(shapes);
  for (const [i, spec] of probes.entries()) {
    const a = performance.now();
    const r = await run(spec);
    const need = needTime(spec);
    switch (spec.kind) {
      case "k-step":
        kStep.push({
          textLayers: spec.textLayers,
          imageLayers: spec.imageLayers,
          images: spec.images,
          tokens: spec.tokens,
          denseParams: need(r.denseParams),
          ms: need(r.cpuMs),
          wallMs: need(r.ms),
          peakRssBytes: r.peakRssBytes,
        });
        break;
      case "text-embed":
        (spec.width ? textBase : textLarge).push({
          layers: spec.layers,
          batch: spec.batch,
          tokens: spec.tokens,
          ms: need(r.cpuMs),
          wallMs: need(r.ms),
          peakRssBytes: r.peakRssBytes,
        });
        break;
      case "image-embed":
        imageB32.push({
          layers: spec.layers,
          batch: spec.batch,
          tokens: (224 / (spec.patch ?? 16)) ** 2 + 1,
          ms: need(r.cpuMs),
          wallMs: need(r.ms),
          peakRssBytes: r.peakRssBytes,
        });
        break;
      case "heads":
        heads = r.heads ?? null;
        break;
      case "io":
        scanMBps = need(r.scanMBps);
        hashMBps = need(r.hashMBps);
        imagePrepMs = need(r.imagePrepMs);
        break;
      case "nli-step":
        nliStep.push(nliSample(spec, r, need));
        break;
    }
    log(probeLine(i, probes.length, spec, r, a));
  }
  if (!heads) throw new KitError("plan: the heads probe returned nothing");
  return {
    version: 2,
    machine: machineInfo(),
    backend,
    measuredAt: new Date().toISOString(),
    measureSeconds: (performance.now() - t0) / 1000,
    loadAverage: Deno.loadavg()[0] ?? NaN,
    shapes,
    kStep,
    textLarge,
    textBase,
    imageB32,
    heads,
    scanMBps,
    hashMBps,
    imagePrepMs,
    nliStep,
  };
}

/** One line describing a probe. */
export function describeProbe(s: ProbeSpec): string {
  switch (s.kind) {
    case "k-step":
      return `K step, ${s.textLayers}+${s.imageLayers} layers, ${s.images} images × ${s.tokens} tokens`;
    case "text-embed":
      return `${
        s.width ? `text (width ${s.width.hidden})` : "text (XLM-R-large width)"
      } embedding, ${s.layers} layer(s), ${s.batch} × ${s.tokens} tokens`;
    case "image-embed":
      return `image embedding (patch ${s.patch ?? 16}), ${s.layers} layer(s), ${s.batch} images`;
    case "heads":
      return "D's head workloads";
    case "io":
      return "gunzip + scan and sha256 rates, image preparation";
    case "nli-step":
      return `NLI probe step, MLP ${4 * s.d} → ${
        s.hidden.join(" → ")
      } → 3, batch ${s.batch}; predict ${s.predictBatch} pairs`;
  }
}

/** The cache file of this machine and backend. */
export function unitCostsPath(backend: string, machine: MachineInfo = machineInfo()): string {
  return join(cacheDir(), "plan", `unit-costs-${machine.key}-${backend}.json`);
}

/**
 * The cached unit costs of this machine and backend, or null (absent, other version,
 * unreadable); a file from before a probe was added lacks its samples (`completeUnitCosts`).
 */
export async function readUnitCosts(path: string): Promise<StoredUnitCosts | null> {
  try {
    const u = JSON.parse(await Deno.readTextFile(path)) as StoredUnitCosts;
    return u.version === 2 && Array.isArray(u.kStep) ? u : null;
  } catch {
    return null;
  }
}

/** Writes unit costs atomically. */
export async function writeUnitCosts(path: string, u: UnitCosts): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await atomicWriteJson(path, u);
}
