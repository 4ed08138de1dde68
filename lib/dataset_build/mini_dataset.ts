import { kitConfig } from "../config/kit_config.ts";
import type { DataRegistry } from "../data/registry.ts";
import { buildDataset, type BuildOptions, type BuildResult } from "./build_dataset.ts";
import { cocoSource, tuxPaintSource } from "./dataset_sources.ts";
import { cldrEmojiSource } from "./emoji_source.ts";
import type { PartitionOptions } from "./partition.ts";
import type { DatasetSource } from "./sample.ts";

/** Stamps kept in a smoke run (`KIT_SMOKE=1`): enough for every code path, seconds to build. */
export const MINI_SMOKE_LIMIT = 60;

/**
 * The mini profile's split: seed 7, **by concept**, 50/10/40. The large held-out share is what
 * lets D's mini item set (val ∪ test, never seen by the frozen pair) reach N ≥ 1,000 concepts in
 * all nine languages, and gives K's in-domain bitext benchmark ~1,000 test concepts.
 */
export const MINI_PARTITION: PartitionOptions = {
  seed: 7,
  fractions: { train: 0.5, val: 0.1, test: 0.4 },
};

/** Options of `buildMiniDataset` (any `buildDataset` option may be overridden). */
export interface MiniDatasetOptions extends Partial<Omit<BuildOptions, "sources">> {
  /** Registry to resolve the mirrored datasets from (default the process-wide one). */
  registry?: DataRegistry;
  /** Also add the 51 CC-licensed COCO images with their English captions (source `coco`). Default false. */
  includeCoco?: boolean;
  /** Add the emoji (CLDR names × Twemoji/Noto/Fluent drawings, source `cldr-emoji`). Default true. */
  includeEmoji?: boolean;
  /** Smoke subset (default `kitConfig().smoke`): the first `MINI_SMOKE_LIMIT` candidates in key order. */
  smoke?: boolean;
}

/**
 * The mini profile's dataset: the Tux Paint stamps (real photos and SVGs with human-written
 * descriptions in ~77 locales) and the emoji (CLDR's human-written short names in ~150 locales,
 * each emoji drawn by three open sets), optionally plus the 51 CC-licensed COCO images with
 * English captions; 64×64 RGB PNGs; seeded split by concept (`MINI_PARTITION`). Built under
 * `.cache/datasets/mini/<hash>/` (or `mini-smoke`), idempotent and resumable.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildMiniDataset, MINI_SMOKE_LIMIT } from "./mini_dataset.ts";
 * // the smoke subset, stamps only, into a temp folder (a notebook: `await buildMiniDataset()`)
 * const outRoot = await Deno.makeTempDir();
 * const r = await buildMiniDataset({ smoke: true, includeEmoji: false, outRoot, quiet: true });
 * assert(r.dir.startsWith(outRoot));
 * assert(r.manifest.samples.count > 0 && r.manifest.samples.count <= MINI_SMOKE_LIMIT);
 * assert.deepEqual(Object.keys(r.manifest.partitions).sort(), ["test", "train", "val"]);
 * await Deno.remove(outRoot, { recursive: true });
 * ```
 */
export async function buildMiniDataset(opts: MiniDatasetOptions = {}): Promise<BuildResult> {
  const { registry, includeCoco, includeEmoji, smoke: smokeOpt, ...rest } = opts;
  const smoke = smokeOpt ?? kitConfig().smoke;
  const sources: DatasetSource[] = [tuxPaintSource({ registry })];
  if (includeEmoji ?? true) {
    sources.push(
      cldrEmojiSource({ ...(registry ? { registry } : {}), quiet: rest.quiet ?? false }),
    );
  }
  if (includeCoco) sources.push(cocoSource({ registry }));
  return await buildDataset({
    profile: smoke ? "mini-smoke" : "mini",
    limit: smoke ? MINI_SMOKE_LIMIT : null,
    samplesPerShard: smoke ? 32 : 256,
    partition: MINI_PARTITION,
    ...rest,
    image: { size: 64, ...rest.image },
    sources,
  });
}
