import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { readLines } from "../sources/text_io.ts";
import { decodeTar } from "./tar.ts";
import { type DatasetManifest, readManifest } from "./manifest.ts";
import type { Partition, SampleRecord } from "./sample.ts";

/** A sample read back from a shard: its record and its PNG bytes. */
export interface ShardSample {
  key: string;
  record: SampleRecord;
  png: Uint8Array;
}

/**
 * Reads one shard (`<key>.png` + `<key>.json` per sample) and groups the entries by key, as
 * WebDataset does (key = file name up to the first dot).
 */
export async function readShard(path: string): Promise<ShardSample[]> {
  const entries = decodeTar(await Deno.readFile(path), path);
  const byKey = new Map<string, { png?: Uint8Array; json?: Uint8Array }>();
  const order: string[] = [];
  for (const e of entries) {
    const base = e.name.split("/").pop()!;
    const dot = base.indexOf(".");
    if (dot <= 0) continue;
    const key = base.slice(0, dot), ext = base.slice(dot + 1);
    if (!byKey.has(key)) {
      byKey.set(key, {});
      order.push(key);
    }
    const s = byKey.get(key)!;
    if (ext === "png") s.png = e.data;
    else if (ext === "json") s.json = e.data;
  }
  return order.map((key) => {
    const s = byKey.get(key)!;
    if (!s.png || !s.json) {
      throw new KitError(`${path}: sample ${key} lacks its ${s.png ? ".json" : ".png"}`);
    }
    return {
      key,
      png: s.png,
      record: JSON.parse(new TextDecoder().decode(s.json)) as SampleRecord,
    };
  });
}

/**
 * Streams the samples of a built dataset, shard by shard (optionally one partition).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { iterateDataset } from "./read_dataset.ts";
 * import { buildDataset } from "./build_dataset.ts";
 * import { tuxPaintSource } from "./dataset_sources.ts";
 * const outRoot = await Deno.makeTempDir();
 * const r = await buildDataset({ sources: [tuxPaintSource()], limit: 10, outRoot, quiet: true });
 * let n = 0;
 * for await (const s of iterateDataset(r.dir, { partition: "train" })) {
 *   assert.equal(s.record.partition, "train");
 *   assert(s.png.length > 0 && s.record.captions.en !== undefined);
 *   n++;
 * }
 * assert.equal(n, r.manifest.partitions.train);
 * await Deno.remove(outRoot, { recursive: true });
 * ```
 */
export async function* iterateDataset(
  dir: string,
  opts: { partition?: Partition; manifest?: DatasetManifest } = {},
): AsyncGenerator<ShardSample> {
  const m = opts.manifest ?? (await readManifest(dir));
  for (const shard of m.shards) {
    if (opts.partition && shard.partition !== opts.partition) continue;
    for (const s of await readShard(join(dir, shard.name))) yield s;
  }
}

/** The sample records of a built dataset from its `samples.jsonl` index (captions without images). */
export async function readSampleIndex(dir: string): Promise<SampleRecord[]> {
  const out: SampleRecord[] = [];
  for await (const { text } of readLines(join(dir, "samples.jsonl"))) {
    if (text.trim() !== "") out.push(JSON.parse(text) as SampleRecord);
  }
  return out;
}
