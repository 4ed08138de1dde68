/**
 * Dataset build: merge image–caption sources under stable keys, validate images, seeded
 * partitions, WebDataset-style tar shards with a checksummed manifest, rejects report, DATA-T1.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTar, encodeTar, sampleKey } from "./mod.ts";
 * const t = encodeTar([{ name: `${sampleKey("s", "1")}.json`, data: new Uint8Array(3) }]);
 * assert(decodeTar(t).length === 1);
 * ```
 */
export * from "./sample.ts";
export * from "./tar.ts";
export * from "./partition.ts";
export * from "./file_hash_cache.ts";
export * from "./manifest.ts";
export * from "./read_dataset.ts";
export * from "./data_report.ts";
export * from "./rejects_report.ts";
export * from "./dataset_sources.ts";
export * from "./build_dataset.ts";
export * from "./mini_dataset.ts";
export * from "./emoji_source.ts";
export * from "./d_mini_items.ts";
export * from "./d_wit_build.ts";
export * from "./paper_wit_images.ts";
