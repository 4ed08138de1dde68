import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { sha256File } from "../util/sha256.ts";
import type { Partition } from "./sample.ts";

/** One shard of a built dataset. */
export interface ShardInfo {
  /** File name inside the dataset folder, e.g. `train-00000.tar`. */
  name: string;
  partition: Partition;
  samples: number;
  bytes: number;
  sha256: string;
  firstKey: string;
  lastKey: string;
}

/** Images and captions of one language among the kept samples. */
export interface LanguageCoverage {
  language: string;
  images: number;
  captions: number;
}

/** How many images have captions in every language of a set. */
export interface IntersectionCount {
  name: string;
  languages: string[];
  images: number;
}

/** Rejected or skipped items of one reason. */
export interface RejectCount {
  reason: string;
  action: "rejected" | "skipped";
  count: number;
}

/** One source's contribution and the fingerprint of what it read. */
export interface ManifestInput {
  source: string;
  /** Registry dataset name, or null for a user folder. */
  dataset: string | null;
  /** sha256 over the sorted `path size sha256` lines of every file read. */
  fingerprint: string;
  files: number;
  candidates: number;
  kept: number;
  stats?: Record<string, number>;
}

/**
 * `manifest.json` of a built dataset. It holds no timestamps or machine paths: the same config
 * and inputs give the same bytes (how a rerun is seen to change nothing).
 */
export interface DatasetManifest {
  format: "kit-webdataset";
  formatVersion: number;
  profile: string;
  /** First 16 hex of sha256(config + input fingerprints); also the folder name. */
  configHash: string;
  config: Record<string, unknown>;
  inputs: ManifestInput[];
  /** The layout: one `<key>.png` (RGB) and one `<key>.json` (`SampleRecord`) per sample, key-sorted in each shard. */
  layout: string;
  samples: { count: number; index: string; indexSha256: string };
  partitions: Record<Partition, number>;
  languages: LanguageCoverage[];
  intersections: IntersectionCount[];
  rejects: { rejected: number; skipped: number; byReason: RejectCount[]; report: string[] };
  shards: ShardInfo[];
}

/** Reads `manifest.json` of a dataset folder (KitError when absent or not a kit dataset). */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const path = join(dir, "manifest.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new KitError(
      `${path}: no dataset manifest (the build did not finish; rerun it to complete)`,
    );
  }
  const m = JSON.parse(text) as DatasetManifest;
  if (m.format !== "kit-webdataset") throw new KitError(`${path}: not a kit dataset manifest`);
  return m;
}

/** Result of `verifyDataset`. */
export interface VerifyResult {
  ok: boolean;
  /** One line per problem: missing or altered shard/index, with the file name. */
  problems: string[];
}

/**
 * Checks every shard (and the sample index) of a built dataset against the sha256 and size in
 * its manifest.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { verifyDataset } from "./manifest.ts";
 * import { buildDataset } from "./build_dataset.ts";
 * import { tuxPaintSource } from "./dataset_sources.ts";
 * const outRoot = await Deno.makeTempDir();
 * const r = await buildDataset({ sources: [tuxPaintSource()], limit: 8, outRoot, quiet: true });
 * assert.deepEqual(await verifyDataset(r.dir), { ok: true, problems: [] });
 * await Deno.writeTextFile(join(r.dir, r.manifest.shards[0]!.name), "damaged");
 * const { ok, problems } = await verifyDataset(r.dir);
 * assert.equal(ok, false);
 * assert.match(problems[0]!, new RegExp(r.manifest.shards[0]!.name));
 * await Deno.remove(outRoot, { recursive: true });
 * ```
 */
export async function verifyDataset(
  dir: string,
  manifest?: DatasetManifest,
): Promise<VerifyResult> {
  const m = manifest ?? (await readManifest(dir));
  const problems: string[] = [];
  const check = async (name: string, sha: string, bytes?: number) => {
    const p = join(dir, name);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(p);
    } catch {
      problems.push(`${name}: missing`);
      return;
    }
    if (bytes !== undefined && info.size !== bytes) {
      problems.push(`${name}: ${info.size} bytes, manifest says ${bytes}`);
      return;
    }
    const got = await sha256File(p);
    if (got !== sha) problems.push(`${name}: sha256 ${got}, manifest says ${sha}`);
  };
  for (const s of m.shards) await check(s.name, s.sha256, s.bytes);
  await check(m.samples.index, m.samples.indexSha256);
  return { ok: problems.length === 0, problems };
}
