import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import type { Partition } from "./sample.ts";

/** Shares of train/val/test; they must sum to 1. */
export interface PartitionFractions {
  train: number;
  val: number;
  test: number;
}

/** How a dataset is split. */
export interface PartitionOptions {
  seed: number;
  fractions: PartitionFractions;
}

export const DEFAULT_PARTITION: PartitionOptions = {
  seed: 7,
  fractions: { train: 0.8, val: 0.1, test: 0.1 },
};

/**
 * Deterministic seeded partition of image keys: keys are ranked by sha256(`<seed>:<key>`) and
 * the first round(n·train) go to train, the next round(n·val) to val, the rest to test. The
 * result depends only on the seed and the set of keys (not on their order), and an image keeps
 * its partition with high probability when other images are added or removed — unlike a
 * shuffle of an index list. Different seeds give independent splits.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { assignPartitions } from "./partition.ts";
 * const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
 * const p = assignPartitions(keys, { seed: 7, fractions: { train: 0.8, val: 0.1, test: 0.1 } });
 * assert([...p.values()].filter((x) => x === "train").length === 8);
 * ```
 */
export function assignPartitions(
  keys: readonly string[],
  opts: PartitionOptions,
): Map<string, Partition> {
  const { train, val, test } = opts.fractions;
  for (const [k, v] of Object.entries(opts.fractions)) {
    if (!(v >= 0 && v <= 1)) {
      throw new KitError(`partition fraction ${k}=${v}: expected a number in [0, 1]`);
    }
  }
  if (Math.abs(train + val + test - 1) > 1e-9) {
    throw new KitError(`partition fractions train+val+test = ${train + val + test}, expected 1`);
  }
  if (!Number.isInteger(opts.seed)) {
    throw new KitError(`partition seed must be an integer, got ${opts.seed}`);
  }
  const ranked = [...new Set(keys)].map((k) => ({ k, r: sha256Hex(`${opts.seed}:${k}`) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : a.k < b.k ? -1 : 1));
  const n = ranked.length;
  const nTrain = Math.round(n * train);
  const nVal = Math.min(n - nTrain, Math.round(n * val));
  const out = new Map<string, Partition>();
  ranked.forEach(({ k }, i) =>
    out.set(k, i < nTrain ? "train" : i < nTrain + nVal ? "val" : "test")
  );
  return out;
}
