import { join, resolve } from "node:path";
import { canonicalJson } from "../util/canonical_json.ts";
import { atomicWriteChunks, atomicWriteFile, atomicWriteJson } from "../util/atomic_write.ts";
import { KitError } from "../util/kit_error.ts";
import { ProgressBar } from "../util/progress.ts";
import { sha256File, sha256Hex } from "../util/sha256.ts";
import { cacheDir } from "../util/paths.ts";
import { kitConfig } from "../config/kit_config.ts";
import { type SourceIssue, sourceIssue } from "../sources/source_issue.ts";
import {
  imageLibraryVersions,
  type ImageOptions,
  imageOptionsRecord,
  type ImageRejection,
  type OriginalImageInfo,
  prepareImageFile,
} from "../images/prepare_image.ts";
import type {
  CandidateSample,
  DatasetSource,
  LoadedSource,
  Partition,
  SampleRecord,
} from "./sample.ts";
import { PARTITIONS } from "./sample.ts";
import { assignPartitions, DEFAULT_PARTITION, type PartitionOptions } from "./partition.ts";
import { FileHashCache } from "./file_hash_cache.ts";
import { installedFontsDigest } from "../util/installed_fonts.ts";
import { encodeTar, type TarEntry } from "./tar.ts";
import type { DatasetManifest, ManifestInput, ShardInfo } from "./manifest.ts";
import { verifyDataset } from "./manifest.ts";
import {
  countIssues,
  DEFAULT_LANGUAGE_SETS,
  languageCoverage,
  languageIntersections,
  type LanguageSet,
} from "./data_report.ts";
import { writeRejectsReport } from "./rejects_report.ts";
import { readSampleIndex } from "./read_dataset.ts";

/** Bumped when the layout or the meaning of a field changes (part of the config hash). */
export const DATASET_FORMAT_VERSION = 1;

/** Options of `buildDataset`. */
export interface BuildOptions {
  /** The sources merged into the dataset (their names must differ). */
  sources: readonly DatasetSource[];
  /** Folder level under `outRoot` (default `kitConfig().profile`). */
  profile?: string;
  /** Image normalisation; `size` defaults to 64 (mini) or 224 (paper). */
  image?: Partial<ImageOptions>;
  /** Seeded train/val/test split (default seed 7, 0.8/0.1/0.1). */
  partition?: PartitionOptions;
  /** Samples per shard (default 256). */
  samplesPerShard?: number;
  /** Keep only the first `limit` candidates in key order (smoke runs); null = all. */
  limit?: number | null;
  /** Keep only images with captions in all of these languages (D's rule); null = keep all. */
  requireLanguages?: readonly string[] | null;
  /** Drop images whose original bytes equal an earlier (key order) image's (default true). */
  dedupe?: boolean;
  /** Intersections reported in the manifest (default K's four, D's nine, all ten). */
  languageSets?: readonly LanguageSet[];
  /** Root of built datasets (default `<cache>/datasets`). */
  outRoot?: string;
  /** No progress bars. */
  quiet?: boolean;
  /** Images decoded at once (default 4). */
  concurrency?: number;
  /** Bytes of resized PNGs kept in memory between validation and shard writing (default 512 MB). */
  memoryBudgetBytes?: number;
  /** Stops the build between shards (what a kill does; a rerun resumes). */
  signal?: AbortSignal;
  /** Called after each shard is written and recorded in the progress file. */
  onShardWritten?: (shard: ShardInfo) => void;
  /**
   * Fingerprint of the installed fonts, part of the config hash: SVG images with `<text>` (Tux
   * Paint stamps) rasterise differently with other fonts (e.g. after fonts-noto is installed).
   * Default: `installedFontsDigest()`, as the figure-render cache; tests pass their own.
   */
  fontsDigest?: string | null;
}

/** What `buildDataset` did. */
export interface BuildResult {
  /** The dataset folder `<outRoot>/<profile>/<configHash>/`. */
  dir: string;
  manifest: DatasetManifest;
  /** `built` (from scratch), `resumed` (an earlier partial build completed), `up-to-date` (nothing to do). */
  status: "built" | "resumed" | "up-to-date";
  shardsWritten: number;
  shardsReused: number;
  seconds: number;
  /** Paths of the rejects report. */
  rejects: { json: string; markdown: string };
  /** Files (re)written in the dataset folder by this run. */
  filesWritten: string[];
}

interface Plan {
  configHash: string;
  shards: { name: string; partition: Partition; keys: string[] }[];
  issues: SourceIssue[];
}

/**
 * What validation keeps of an image until the plan is made: the original's facts or why it was
 * rejected, never its pixels or PNG (held for all images, those would grow with the dataset:
 * 118k COCO images at 224 px are ~8 GB of PNGs). The PNG goes to the bounded `pngCache` or is
 * made again when its shard is written.
 */
type ValidationOutcome = { ok: true; original: OriginalImageInfo } | {
  ok: false;
  rejection: ImageRejection;
};

/** Lines of `samples.jsonl` written per chunk (the index is never one string in memory). */
const INDEX_LINES_PER_CHUNK = 1024;

interface Progress {
  configHash: string;
  shards: Record<string, { sha256: string; bytes: number; samples: number }>;
}

async function mapPool<T, R>(
  items: readonly T[],
  n: number,
  fn: (x: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
    throw new KitError(`dataset build interrupted${why} (rerun the same build to resume)`);
  }
}

/**
 * Builds a dataset from image–caption sources: merges the sources' candidates under stable
 * image keys, validates and normalises every image (`prepareImage`; failures go to the rejects
 * report with file and reason), drops duplicate images, splits train/val/test with a seeded
 * hash ranking, and writes WebDataset-style tar shards (`<partition>-00000.tar`, each sample a
 * `<key>.png` + `<key>.json`), `samples.jsonl` (every sample's record, key-sorted), the rejects
 * report (`rejects.json`, `rejects.md`) and `manifest.json` (shard checksums, language coverage,
 * intersections, rejects by reason) into `<outRoot>/<profile>/<hash of config and inputs>/`.
 *
 * Idempotent: a rerun with the same config and inputs verifies the shards against the manifest
 * and writes nothing. Resumable: shards are written atomically and recorded in `progress.json`
 * only once complete; a killed build reruns the plan (`plan.json`) and writes only the shards
 * that are missing, altered or unrecorded.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildDataset, tuxPaintSource } from "./mod.ts";
 * const outRoot = await Deno.makeTempDir();
 * const opts = { sources: [tuxPaintSource()], limit: 12, image: { size: 32 }, outRoot };
 * const r = await buildDataset({ ...opts, quiet: true }); // the first 12 stamps of the mini data, 32×32 PNGs
 * assert.equal(r.status, "built");
 * assert(r.manifest.samples.count > 0 && r.manifest.samples.count <= 12);
 * assert((await Deno.readTextFile(r.rejects.markdown)).length > 0);
 * assert.equal((await buildDataset({ ...opts, quiet: true })).status, "up-to-date"); // a rerun writes nothing
 * await Deno.remove(outRoot, { recursive: true });
 * ```
 */
export async function buildDataset(opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const cfg = kitConfig();
  const profile = opts.profile ?? cfg.profile;
  const quiet = opts.quiet ?? false;
  const samplesPerShard = opts.samplesPerShard ?? 256;
  if (!Number.isInteger(samplesPerShard) || samplesPerShard < 1) {
    throw new KitError(`samplesPerShard must be a positive integer, got ${opts.samplesPerShard}`);
  }
  if (
    opts.limit !== undefined && opts.limit !== null &&
    !(Number.isInteger(opts.limit) && opts.limit > 0)
  ) {
    throw new KitError(`limit must be a positive integer or null, got ${opts.limit}`);
  }
  if (opts.sources.length === 0) throw new KitError("buildDataset: no sources given");
  const image = imageOptionsRecord({ size: profile === "paper" ? 224 : 64, ...opts.image });
  const partition = opts.partition ?? DEFAULT_PARTITION;
  const dedupe = opts.dedupe ?? true;
  const languageSets = opts.languageSets ?? DEFAULT_LANGUAGE_SETS;
  const outRoot = resolve(opts.outRoot ?? join(cacheDir(), "datasets"));

  // 1. Sources (text only: cheap).
  const loaded: LoadedSource[] = [];
  for (const s of opts.sources) loaded.push(await s.load());
  const names = loaded.map((l) => l.name);
  if (new Set(names).size !== names.length) {
    throw new KitError(`buildDataset: source names repeat: ${names.join(", ")}`);
  }
  const byKey = new Map<string, CandidateSample>();
  for (const l of loaded) {
    for (const c of l.candidates) {
      const prev = byKey.get(c.key);
      if (prev) {
        throw new KitError(
          `image key ${c.key} is given twice: ${prev.source}:${prev.sourceId} and ${c.source}:${c.sourceId}`,
        );
      }
      byKey.set(c.key, c);
    }
  }

  // 2. Input fingerprints (file checksums, cached by size and mtime).
  const hashCache = new FileHashCache(join(outRoot, ".file_hashes.json"));
  const inputs: ManifestInput[] = [];
  const hashBar = new ProgressBar(
    "hash inputs",
    loaded.reduce((n, l) => n + l.inputFiles.length + l.candidates.length, 0),
    { silent: quiet, unit: "files" },
  );
  for (const l of loaded) {
    const lines: string[] = [];
    const label = (
      p: string,
    ) => (p.startsWith(l.root + "/") ? p.slice(l.root.length + 1) : p.split("/").pop()!);
    const files = [...l.inputFiles, ...l.candidates.map((c) => c.imagePath)];
    for (const p of files) {
      const h = await hashCache.hash(p);
      lines.push(h ? `${label(p)}\t${h.size}\t${h.sha256}` : `${label(p)}\tmissing`);
      hashBar.tick();
    }
    lines.sort();
    if (l.inputDigest) lines.push(`digest\t${l.inputDigest}`);
    const input: ManifestInput = {
      source: l.name,
      dataset: l.dataset,
      fingerprint: sha256Hex(lines.join("\n")),
      files: files.length,
      candidates: l.candidates.length,
      kept: 0,
    };
    if (l.stats) input.stats = l.stats;
    inputs.push(input);
  }
  hashBar.done();
  await hashCache.save();
  const config: Record<string, unknown> = {
    formatVersion: DATASET_FORMAT_VERSION,
    profile,
    image,
    partition,
    samplesPerShard,
    limit: opts.limit ?? null,
    requireLanguages: opts.requireLanguages ?? null,
    dedupe,
    languageSets: languageSets.map((s) => ({ name: s.name, languages: [...s.languages] })),
    sources: loaded.map((l) => ({ name: l.name, dataset: l.dataset, options: l.options })),
    libraries: imageLibraryVersions(),
    fonts: opts.fontsDigest !== undefined ? opts.fontsDigest : await installedFontsDigest(),
  };
  const configHash = sha256Hex(
    canonicalJson({ config, inputs: inputs.map((i) => [i.source, i.fingerprint]) }),
  ).slice(0, 16);
  const dir = join(outRoot, profile, configHash);
  await Deno.mkdir(dir, { recursive: true });
  const roots = Object.fromEntries(loaded.map((l) => [l.name, l.root]));
  const filesWritten: string[] = [];
  const manifestPath = join(dir, "manifest.json");

  // 3. Up to date?
  const existing = await readJson<DatasetManifest>(manifestPath);
  if (existing && existing.configHash === configHash && (await verifyDataset(dir, existing)).ok) {
    await hashCache.save();
    return {
      dir,
      manifest: existing,
      status: "up-to-date",
      shardsWritten: 0,
      shardsReused: existing.shards.length,
      seconds: (performance.now() - t0) / 1000,
      rejects: { json: join(dir, "rejects.json"), markdown: join(dir, "rejects.md") },
      filesWritten,
    };
  }
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /\.tmp$/.test(e.name)) await Deno.remove(join(dir, e.name)).catch(() => {});
  }

  // 4. Plan: validate images, dedupe, partition, assign shards.
  const planPath = join(dir, "plan.json");
  const indexPath = join(dir, "samples.jsonl");
  let plan = await readJson<Plan>(planPath);
  let records: Map<string, SampleRecord>;
  const pngCache = new Map<string, Uint8Array>();
  let resumed = false;
  if (plan && plan.configHash === configHash && (await Deno.stat(indexPath).catch(() => null))) {
    resumed = true;
    records = new Map((await readSampleIndex(dir)).map((r) => [r.key, r]));
  } else {
    const issues: SourceIssue[] = loaded.flatMap((l) => l.issues);
    let candidates = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    if (opts.requireLanguages && opts.requireLanguages.length > 0) {
      const need = opts.requireLanguages;
      candidates = candidates.filter((c) => {
        const missing = need.filter((l) => (c.captions[l]?.length ?? 0) === 0);
        if (missing.length === 0) return true;
        issues.push(
          sourceIssue(c.source, c.imageFile, "missing required languages", {
            action: "skipped",
            detail: missing.join(", "),
          }),
        );
        return false;
      });
    }
    if (opts.limit) candidates = candidates.slice(0, opts.limit);
    const bar = new ProgressBar("validate images", candidates.length, {
      silent: quiet,
      unit: "images",
    });
    let budget = opts.memoryBudgetBytes ?? 512 * 1024 * 1024;
    const results = await mapPool(
      candidates,
      opts.concurrency ?? 4,
      async (c): Promise<ValidationOutcome> => {
        throwIfAborted(opts.signal);
        const r = await prepareImageFile(c.imagePath, image);
        bar.tick();
        if (!r.ok) return { ok: false, rejection: r.rejection };
        if (budget >= r.image.png.length) {
          pngCache.set(c.key, r.image.png);
          budget -= r.image.png.length;
        }
        return { ok: true, original: r.image.original };
      },
    );
    bar.done();
    const kept: { c: CandidateSample; original: SampleRecord["original"] }[] = [];
    const seen = new Map<string, CandidateSample>();
    candidates.forEach((c, i) => {
      const r = results[i]!;
      if (!r.ok) {
        issues.push(
          sourceIssue(c.source, c.imageFile, r.rejection.reason, { detail: r.rejection.detail }),
        );
        return;
      }
      const o = r.original;
      const first = seen.get(o.sha256);
      if (dedupe && first) {
        issues.push(sourceIssue(c.source, c.imageFile, "duplicate image", {
          detail: `same bytes as ${first.source}:${first.imageFile} (kept)`,
        }));
        pngCache.delete(c.key);
        return;
      }
      seen.set(o.sha256, c);
      kept.push({
        c,
        original: {
          file: c.imageFile,
          sha256: o.sha256,
          bytes: o.bytes,
          format: o.format,
          width: o.width,
          height: o.height,
        },
      });
    });
    // Partitions are assigned per group (concept): every image of a concept in one partition.
    const groupOf = (c: CandidateSample) => c.group ?? c.key;
    const parts = assignPartitions(kept.map((k) => groupOf(k.c)), partition);
    const shards: Plan["shards"] = [];
    records = new Map();
    for (const p of PARTITIONS) {
      const inPart = kept.filter((k) => parts.get(groupOf(k.c)) === p);
      for (let s = 0; s * samplesPerShard < inPart.length; s++) {
        const chunk = inPart.slice(s * samplesPerShard, (s + 1) * samplesPerShard);
        const name = `${p}-${String(s).padStart(5, "0")}.tar`;
        shards.push({ name, partition: p, keys: chunk.map((k) => k.c.key) });
        for (const { c, original } of chunk) {
          const rec: SampleRecord = {
            key: c.key,
            source: c.source,
            sourceId: c.sourceId,
            partition: p,
            ...(c.group !== undefined ? { group: c.group } : {}),
            shard: name,
            captions: c.captions,
            languages: Object.keys(c.captions).filter((l) => c.captions[l]!.length > 0).sort(),
            image: { file: `${c.key}.png`, width: image.size, height: image.size },
            original,
          };
          if (c.meta) rec.meta = c.meta;
          records.set(c.key, rec);
        }
      }
    }
    const sortedKeys = [...records.keys()].sort();
    const recordsById = records;
    await atomicWriteChunks(
      indexPath,
      (function* () {
        for (let i = 0; i < sortedKeys.length; i += INDEX_LINES_PER_CHUNK) {
          let chunk = "";
          for (const key of sortedKeys.slice(i, i + INDEX_LINES_PER_CHUNK)) {
            chunk += JSON.stringify(recordsById.get(key)) + "\n";
          }
          yield chunk;
        }
      })(),
    );
    filesWritten.push(indexPath);
    plan = { configHash, shards, issues };
    await atomicWriteJson(planPath, plan);
    filesWritten.push(planPath);
  }

  // 5. Shards.
  const progressPath = join(dir, "progress.json");
  const prior = await readJson<Progress>(progressPath);
  const progress: Progress = prior && prior.configHash === configHash
    ? prior
    : { configHash, shards: {} };
  const total = plan.shards.reduce((s, x) => s + x.keys.length, 0);
  const shardInfos: ShardInfo[] = [];
  let written = 0, reused = 0;
  const done: typeof plan.shards = [];
  for (const s of plan.shards) {
    const rec = progress.shards[s.name];
    if (
      rec && rec.samples === s.keys.length &&
      (await sha256File(join(dir, s.name)).catch(() => null)) === rec.sha256
    ) {
      done.push(s);
    }
  }
  const bar = new ProgressBar("write shards", total, {
    silent: quiet,
    unit: "images",
    start: done.reduce((n, s) => n + s.keys.length, 0),
  });
  for (const s of plan.shards) {
    const info = (sha256: string, bytes: number): ShardInfo => ({
      name: s.name,
      partition: s.partition,
      samples: s.keys.length,
      bytes,
      sha256,
      firstKey: s.keys[0]!,
      lastKey: s.keys[s.keys.length - 1]!,
    });
    if (done.includes(s)) {
      const r = progress.shards[s.name]!;
      shardInfos.push(info(r.sha256, r.bytes));
      reused++;
      continue;
    }
    throwIfAborted(opts.signal);
    const pngs = await mapPool(s.keys, opts.concurrency ?? 4, async (key) => {
      const hit = pngCache.get(key);
      if (hit) {
        pngCache.delete(key); // each PNG goes into one shard: release it once used
        return hit;
      }
      const c = byKey.get(key);
      const r = c ? await prepareImageFile(c.imagePath, image) : null;
      if (!c || !r || !r.ok || r.image.original.sha256 !== records.get(key)?.original.sha256) {
        throw new KitError(
          `dataset build ${dir}: image ${key} (${
            c ? `${c.source}:${c.imageFile}` : "unknown"
          }) changed since the build was planned`,
          [`delete ${planPath} and rerun`],
        );
      }
      return r.image.png;
    });
    const entries: TarEntry[] = [];
    s.keys.forEach((key, i) => {
      const record = records.get(key);
      if (!record) {
        throw new KitError(`${indexPath}: no record for ${key} (delete ${planPath} and rerun)`);
      }
      entries.push({ name: `${key}.png`, data: pngs[i]! });
      entries.push({ name: `${key}.json`, data: new TextEncoder().encode(JSON.stringify(record)) });
    });
    const tar = encodeTar(entries);
    const sha256 = sha256Hex(tar);
    await atomicWriteFile(join(dir, s.name), tar);
    filesWritten.push(join(dir, s.name));
    progress.shards[s.name] = { sha256, bytes: tar.length, samples: s.keys.length };
    await atomicWriteJson(progressPath, progress);
    const si = info(sha256, tar.length);
    shardInfos.push(si);
    written++;
    bar.tick(s.keys.length);
    opts.onShardWritten?.(si);
  }
  bar.done();

  // 6. Reports and manifest.
  const all = [...records.values()];
  const rejects = await writeRejectsReport(dir, plan.issues, roots);
  filesWritten.push(rejects.json, rejects.markdown);
  for (const i of inputs) i.kept = all.filter((r) => r.source === i.source).length;
  const partitions = Object.fromEntries(
    PARTITIONS.map((p) => [p, all.filter((r) => r.partition === p).length]),
  ) as Record<Partition, number>;
  const byReason = countIssues(plan.issues);
  const manifest: DatasetManifest = {
    format: "kit-webdataset",
    formatVersion: DATASET_FORMAT_VERSION,
    profile,
    configHash,
    config,
    inputs,
    layout:
      "WebDataset tar shards <partition>-NNNNN.tar (POSIX ustar, mtime 0); per sample <key>.png (RGB) and <key>.json (SampleRecord); samples key-sorted within each shard",
    samples: {
      count: all.length,
      index: "samples.jsonl",
      indexSha256: await sha256File(indexPath),
    },
    partitions,
    languages: languageCoverage(all),
    intersections: languageIntersections(all, languageSets),
    rejects: {
      rejected: plan.issues.filter((i) => i.action === "rejected").length,
      skipped: plan.issues.filter((i) => i.action === "skipped").length,
      byReason,
      report: ["rejects.json", "rejects.md"],
    },
    shards: shardInfos,
  };
  const text = JSON.stringify(manifest, null, 2) + "\n";
  const old = await Deno.readTextFile(manifestPath).catch(() => null);
  if (old !== text) {
    await atomicWriteFile(manifestPath, text);
    filesWritten.push(manifestPath);
  }
  await hashCache.save();
  return {
    dir,
    manifest,
    status: resumed || reused > 0 ? "resumed" : "built",
    shardsWritten: written,
    shardsReused: reused,
    seconds: (performance.now() - t0) / 1000,
    rejects: { json: rejects.json, markdown: rejects.markdown },
    filesWritten,
  };
}
