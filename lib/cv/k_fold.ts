import { KitError } from "../util/kit_error.ts";
import { NumpyRandomState } from "./mt19937.ts";

/** One cross-validation fold: row indices to train on and to hold out, both ascending. */
export interface FoldIndices {
  train: number[];
  test: number[];
}

/** Options of {@link kFoldIndices}. */
export interface KFoldOptions {
  /** Shuffle before cutting folds (scikit-learn's `shuffle`); default true. */
  shuffle?: boolean;
}

/**
 * The folds of scikit-learn's `KFold(n_splits=k, shuffle=True, random_state=seed)
 * .split(range(n))`, index for index: `0..n-1` is shuffled with numpy's legacy
 * `RandomState(seed).shuffle`, cut into k contiguous folds (the first `n % k` folds one longer),
 * and each fold's test indices and the remaining train indices are returned **sorted ascending**
 * (scikit-learn goes through a boolean mask, so both come out sorted). With `shuffle: false` the
 * folds are contiguous blocks of `0..n-1` and `seed` is not used.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { kFoldIndices } from "./k_fold.ts";
 * // KFold(3, shuffle=True, random_state=0).split(range(10)) → test [2 4 8 9], [1 6 7], [0 3 5]
 * const folds = kFoldIndices(10, 3, 0);
 * assert(folds[0]!.test.join() === "2,4,8,9" && folds[2]!.test.join() === "0,3,5");
 * ```
 */
export function kFoldIndices(
  n: number,
  k: number,
  seed: number,
  options: KFoldOptions = {},
): FoldIndices[] {
  const shuffle = options.shuffle ?? true;
  if (!Number.isInteger(n) || n < 0) {
    throw new KitError(`kFoldIndices: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(k) || k < 2) {
    throw new KitError(`kFoldIndices: k (n_splits) must be an integer ≥ 2, got ${k}`);
  }
  if (k > n) {
    throw new KitError(`kFoldIndices: cannot make k=${k} folds of n=${n} samples (need k ≤ n)`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new KitError(`kFoldIndices: seed must be an integer in [0, 2^32 - 1], got ${seed}`);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  if (shuffle) new NumpyRandomState(seed).shuffle(order);
  const base = Math.floor(n / k), extra = n % k;
  const folds: FoldIndices[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    const inTest = new Uint8Array(n);
    for (let i = start; i < start + size; i++) inTest[order[i]!] = 1;
    const train: number[] = [], test: number[] = [];
    for (let i = 0; i < n; i++) (inTest[i] ? test : train).push(i);
    folds.push({ train, test });
    start += size;
  }
  return folds;
}

/**
 * For each of the n rows, the fold (0..k−1) whose test set holds it, for the same folds as
 * {@link kFoldIndices}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { kFoldAssignment } from "./k_fold.ts";
 * assert(kFoldAssignment(10, 3, 0)[2] === 0);
 * ```
 */
export function kFoldAssignment(
  n: number,
  k: number,
  seed: number,
  options: KFoldOptions = {},
): Int32Array {
  const out = new Int32Array(n);
  kFoldIndices(n, k, seed, options).forEach((fold, f) => {
    for (const i of fold.test) out[i] = f;
  });
  return out;
}
