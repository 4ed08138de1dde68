import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/** Row indices of a train/test split, each list ascending. */
export interface TrainTestSplit {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * The kit's deterministic stratified train/test split (not scikit-learn's RNG stream):
 * 1. `nTest = ceil(testShare·n)` (scikit-learn's rule for a fractional `test_size`);
 * 2. class c gets `floor(n_c·nTest/n)` test rows, and the rows still missing go one each to the
 *    classes with the largest fractional remainders (ties → lower label);
 * 3. one `SeededRandom(seed)` stream shuffles (Fisher–Yates) each class's ascending row list,
 *    classes in ascending label order; the first test-count rows of each go to test;
 * 4. both lists are returned sorted ascending.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { stratifiedSplit } from "./stratified_split.ts";
 * const s = stratifiedSplit([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 0.3, 7);
 * assert(s.test.length === 3 && s.train.length === 7);
 * ```
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  testShare: number,
  seed: number,
): TrainTestSplit {
  const n = labels.length;
  if (!(testShare > 0 && testShare < 1)) {
    throw new KitError(`stratifiedSplit: testShare must be in (0, 1), got ${testShare}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l)) {
      throw new KitError(`stratifiedSplit: label ${i} is ${l}, expected an integer`);
    }
    let list = byClass.get(l);
    if (!list) byClass.set(l, list = []);
    list.push(i);
  }
  const classes = [...byClass.keys()].sort((p, q) => p - q);
  const nTest = Math.ceil(testShare * n);
  if (nTest >= n) throw new KitError(`stratifiedSplit: ${n} rows leave no training rows`);
  const quota = classes.map((c) => (byClass.get(c)!.length * nTest) / n);
  const counts = quota.map(Math.floor);
  let missing = nTest - counts.reduce((s, v) => s + v, 0);
  const order = classes.map((_, i) => i).sort((p, q) =>
    (quota[q]! - counts[q]!) - (quota[p]! - counts[p]!) || p - q
  );
  for (const i of order) {
    if (missing <= 0) break;
    counts[i]!++;
    missing--;
  }
  const rng = new SeededRandom(seed);
  const train: number[] = [], test: number[] = [];
  classes.forEach((c, ci) => {
    const rows = rng.shuffle(byClass.get(c)!.slice());
    rows.forEach((r, k) => (k < counts[ci]! ? test : train).push(r));
  });
  return {
    train: Int32Array.from(train).sort(),
    test: Int32Array.from(test).sort(),
  };
}
