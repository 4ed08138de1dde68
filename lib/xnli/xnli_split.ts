import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/** XNLI dev indices split once: English training, English model selection, and test. */
export interface XnliSplit {
  train: Int32Array;
  select: Int32Array;
  test: Int32Array;
  seed: number;
  /** Number of premise groups (pairs sharing a premise stay in one part). */
  groups: number;
}

/** Options of {@link splitXnliIndices}. */
export interface XnliSplitOptions {
  seed: number;
  /** Share of pairs (approximately, whole premise groups) in the test part (default 1/3). */
  testFraction?: number;
  /** Share of pairs in the English selection part (default 0.1). */
  selectFraction?: number;
}

/**
 * Splits XNLI dev pair indices (parallel across its 15 languages) once, seeded, into
 * English-train, English-select and test. Pairs are grouped by their English premise — XNLI
 * writes three hypotheses per premise — and whole groups are assigned, so no test premise is
 * seen in training or selection. Groups are shuffled (seeded) and dealt to test until it holds
 * `testFraction` of the pairs, then to select, the rest to train. Index arrays are sorted; no
 * index is in two parts, and every index is in one.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitXnliIndices } from "./xnli_split.ts";
 * const s = splitXnliIndices(["a", "a", "a", "b", "b", "b", "c", "c", "c"], { seed: 1, testFraction: 0.34, selectFraction: 0.3 });
 * assert(s.train.length + s.select.length + s.test.length === 9);
 * ```
 */
export function splitXnliIndices(premises: readonly string[], opts: XnliSplitOptions): XnliSplit {
  const testFraction = opts.testFraction ?? 1 / 3, selectFraction = opts.selectFraction ?? 0.1;
  if (!(testFraction > 0 && selectFraction > 0 && testFraction + selectFraction < 1)) {
    throw new KitError(
      `splitXnliIndices: fractions test ${testFraction} and select ${selectFraction} must be positive and sum below 1`,
    );
  }
  const byPremise = new Map<string, number[]>();
  premises.forEach((p, i) => {
    const key = p.trim();
    const g = byPremise.get(key);
    if (g) g.push(i);
    else byPremise.set(key, [i]);
  });
  const groups = [...byPremise.values()];
  if (groups.length < 3) {
    throw new KitError(`splitXnliIndices: need at least 3 distinct premises, got ${groups.length}`);
  }
  new SeededRandom(opts.seed).shuffle(groups);
  const n = premises.length;
  const test: number[] = [], select: number[] = [], train: number[] = [];
  let g = 0;
  while (g < groups.length - 2 && test.length < testFraction * n) test.push(...groups[g++]!);
  while (g < groups.length - 1 && select.length < selectFraction * n) select.push(...groups[g++]!);
  while (g < groups.length) train.push(...groups[g++]!);
  const sorted = (xs: number[]) => Int32Array.from(xs).sort();
  const split = {
    train: sorted(train),
    select: sorted(select),
    test: sorted(test),
    seed: opts.seed,
    groups: groups.length,
  };
  assertDisjointSplit(split, n);
  return split;
}

/** Throws a KitError unless the three parts are disjoint and cover `0..n-1`. */
export function assertDisjointSplit(
  split: Pick<XnliSplit, "train" | "select" | "test">,
  n: number,
): void {
  const owner = new Int8Array(n).fill(-1);
  const parts = [split.train, split.select, split.test];
  parts.forEach((idx, p) => {
    for (const i of idx) {
      if (i < 0 || i >= n) throw new KitError(`XNLI split: index ${i} outside [0, ${n})`);
      if (owner[i] !== -1) {
        throw new KitError(
          `XNLI split: index ${i} is in two parts (${["train", "select", "test"][owner[i]!]} and ${
            ["train", "select", "test"][p]
          })`,
        );
      }
      owner[i] = p;
    }
  });
  const missing = owner.indexOf(-1);
  if (missing >= 0) throw new KitError(`XNLI split: index ${missing} is in no part`);
}
