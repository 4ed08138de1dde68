import type { SourceIssue } from "../sources/source_issue.ts";
import { sha256Hex } from "../util/sha256.ts";

/** The three partitions of a built dataset. */
export type Partition = "train" | "val" | "test";
export const PARTITIONS: readonly Partition[] = ["train", "val", "test"];

/** Small per-sample facts a source wants kept (licence, upstream split, category...). */
export type SampleMeta = Record<string, string | number | boolean | null>;

/** An image with its captions, as a source offers it, before validation. */
export interface CandidateSample {
  /** Stable image key (20 hex characters), unique across the merged sources. */
  key: string;
  /** The source's name, e.g. `tuxpaint-stamps`. */
  source: string;
  /** The item's id inside its source (stamp path, COCO id, WIT image URL). */
  sourceId: string;
  /** Absolute path of the original image file. */
  imagePath: string;
  /** The image file relative to the source root (what reports and records show). */
  imageFile: string;
  /** Language → captions (several per language for COCO, one for stamps and WIT). */
  captions: Record<string, string[]>;
  /**
   * The concept the image shows, when several images show one (an emoji drawn by several sets:
   * `emoji:1f408`). Partitions are assigned per group, so that no image of a held-out concept
   * lands in train; images without a group are their own group.
   */
  group?: string;
  meta?: SampleMeta;
}

/** What a source adapter hands to the build. */
export interface LoadedSource {
  name: string;
  /** The registry dataset it came from, or null for a user folder. */
  dataset: string | null;
  /** Absolute root folder that `imageFile` and issue paths are relative to. */
  root: string;
  candidates: CandidateSample[];
  issues: SourceIssue[];
  /** Absolute paths of the text/annotation files read; with the images they form the input fingerprint. */
  inputFiles: string[];
  /** A digest of inputs that are not files (e.g. records passed in memory); part of the fingerprint. */
  inputDigest?: string;
  /** Counts worth reporting (e.g. WIT rows scanned, images in all languages). */
  stats?: Record<string, number>;
  /** Options that change what the source yields (part of the build's config hash). */
  options: Record<string, unknown>;
}

/** A source of image–caption samples for `buildDataset`. */
export interface DatasetSource {
  readonly name: string;
  load(): Promise<LoadedSource>;
}

/** A sample of a built dataset: its record in `samples.jsonl` and `<key>.json` in its shard. */
export interface SampleRecord {
  key: string;
  source: string;
  sourceId: string;
  partition: Partition;
  /** The candidate's `group` (concept), where its source gives one; partitions split by it. */
  group?: string;
  shard: string;
  /** Language → captions. */
  captions: Record<string, string[]>;
  /** Languages with at least one caption, sorted. */
  languages: string[];
  /** The stored image: `<key>.png` in the shard, RGB, `width`×`height`. */
  image: { file: string; width: number; height: number };
  /** The original file: path relative to its source root, checksum, format, dimensions. */
  original: {
    file: string;
    sha256: string;
    bytes: number;
    format: string;
    width: number;
    height: number;
  };
  meta?: SampleMeta;
}

/**
 * The kit's stable image key for a source item: the first 20 hex characters of
 * sha256(`<source>:<id>`), the same shape as D's `sha256(image_url)[:20]` WIT keys.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleKey } from "./sample.ts";
 * assert(sampleKey("tuxpaint-stamps", "animals/mammals/badger").length === 20);
 * ```
 */
export function sampleKey(source: string, id: string): string {
  return sha256Hex(`${source}:${id}`).slice(0, 20);
}
