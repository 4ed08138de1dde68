import { kitConfig } from "../config/kit_config.ts";
import type { DataRegistry } from "../data/registry.ts";
import { buildDataset, type BuildOptions, type BuildResult } from "./build_dataset.ts";
import { cocoSource, tuxPaintSource } from "./dataset_sources.ts";
import type { DatasetSource } from "./sample.ts";

/** Stamps kept in a smoke run (`KIT_SMOKE=1`): enough for every code path, seconds to build. */
export const MINI_SMOKE_LIMIT = 60;

/** Options of `buildMiniDataset` (any `buildDataset` option may be overridden). */
export interface MiniDatasetOptions extends Partial<Omit<BuildOptions, "sources">> {
  /** Registry to resolve the mirrored datasets from (default the process-wide one). */
  registry?: DataRegistry;
  /** Also add the 51 CC-licensed COCO images with their English captions (source `coco`). Default false. */
  includeCoco?: boolean;
  /** Smoke subset (default `kitConfig().smoke`): the first `MINI_SMOKE_LIMIT` candidates in key order. */
  smoke?: boolean;
}

/**
 * The mini profile's dataset: the Tux Paint stamps (real photos and SVGs with human-written
 * descriptions in ~77 locales), optionally plus the 51 CC-licensed COCO images with English
 * captions; 64×64 RGB PNGs; seeded 0.8/0.1/0.1 split (seed 7). Built under
 * `.cache/datasets/mini/<hash>/` (or `mini-smoke`), idempotent and resumable.
 *
 * ```ts
 * import { buildMiniDataset } from "./mini_dataset.ts";
 * // const r = await buildMiniDataset(); console.log(r.manifest.samples.count, r.dir);
 * ```
 */
export async function buildMiniDataset(opts: MiniDatasetOptions = {}): Promise<BuildResult> {
  const { registry, includeCoco, smoke: smokeOpt, ...rest } = opts;
  const smoke = smokeOpt ?? kitConfig().smoke;
  const sources: DatasetSource[] = [tuxPaintSource({ registry })];
  if (includeCoco) sources.push(cocoSource({ registry }));
  return await buildDataset({
    profile: smoke ? "mini-smoke" : "mini",
    limit: smoke ? MINI_SMOKE_LIMIT : null,
    samplesPerShard: smoke ? 32 : 256,
    ...rest,
    image: { size: 64, ...rest.image },
    sources,
  });
}
