import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/** Options shared by the bootstrap functions. */
export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling stream (required: every stochastic function is seeded). */
  seed: number;
  /** Coverage of the percentile interval (default 0.95). */
  level?: number;
}

function checkResampleArgs(n: number, resamples: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new KitError(`${what}: need at least one unit to resample, got n=${n}`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new KitError(`${what}: resamples must be a positive integer, got ${resamples}`);
  }
}

/**
 * The resample indices of a nonparametric bootstrap: `resamples` rows of `n` indices drawn
 * uniformly with replacement from `[0, n)`, row-major (`out[b * n + i]`), from one
 * {@link SeededRandom} stream (mulberry32) seeded with `seed`, drawn row by row. Exposed so that
 * a reference implementation (tests/fixtures/make_stats.py) can reuse the very same draws.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bootstrapIndices } from "./bootstrap_resample.ts";
 * const idx = bootstrapIndices(5, 3, 1);
 * assert(idx.length === 15 && idx.every((i) => i >= 0 && i < 5));
 * ```
 */
export function bootstrapIndices(n: number, resamples: number, seed: number): Int32Array {
  checkResampleArgs(n, resamples, "bootstrapIndices");
  const rng = new SeededRandom(seed);
  const out = new Int32Array(n * resamples);
  for (let i = 0; i < out.length; i++) out[i] = rng.int(n);
  return out;
}

/**
 * Calls `visit(counts, b)` for each bootstrap resample `b`, where `counts[u]` is how many times
 * unit `u` was drawn (the same draws as {@link bootstrapIndices}). The `counts` buffer is reused
 * between calls: copy it to keep it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { forEachBootstrapResample } from "./bootstrap_resample.ts";
 * let total = 0;
 * forEachBootstrapResample(4, 10, 3, (c) => { total += c.reduce((a, x) => a + x, 0); });
 * assert(total === 40);
 * ```
 */
export function forEachBootstrapResample(
  n: number,
  resamples: number,
  seed: number,
  visit: (counts: Int32Array, b: number) => void,
): void {
  checkResampleArgs(n, resamples, "forEachBootstrapResample");
  const all = resampleCounts(n, resamples, seed);
  const counts = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    counts.set(all.subarray(b * n, (b + 1) * n)); // a fresh copy: `visit` may write to it
    visit(counts, b);
  }
}

/** Resample count matrices (`resamples × n`) by `n/resamples/seed`, most recent last. */
const countsMemo = new Map<string, Int32Array>();
/** Int32 entries the memo keeps at most (64 MiB). */
const MEMO_MAX_ENTRIES = 16 << 20;

/**
 * The count vectors of `forEachBootstrapResample`'s resamples, row b = resample b, drawn from
 * one `SeededRandom(seed)` stream exactly as before. Notebooks bootstrap hundreds of statistics
 * over the same `n` units with the same seed (every language of K-T1, every claim), and drawing
 * the stream dominated their time; the matrices are kept (most recent first, 64 MiB at most), so
 * each (n, resamples, seed) is drawn once per process. Same counts, bit for bit.
 */
function resampleCounts(n: number, resamples: number, seed: number): Int32Array {
  const key = `${n}/${resamples}/${seed}`;
  const hit = countsMemo.get(key);
  if (hit) {
    countsMemo.delete(key);
    countsMemo.set(key, hit);
    return hit;
  }
  const rng = new SeededRandom(seed);
  const all = new Int32Array(n * resamples);
  for (let b = 0; b < resamples; b++) {
    const row = b * n;
    for (let i = 0; i < n; i++) all[row + rng.int(n)]!++;
  }
  if (all.length <= MEMO_MAX_ENTRIES) {
    countsMemo.set(key, all);
    let total = 0;
    for (const v of countsMemo.values()) total += v.length;
    for (const [k, v] of countsMemo) {
      if (total <= MEMO_MAX_ENTRIES) break;
      countsMemo.delete(k);
      total -= v.length;
    }
  }
  return all;
}

/**
 * The q-th percentile (q in [0, 100]) of `values` with numpy's default "linear" method:
 * position `q/100 · (m − 1)` in the sorted values, linearly interpolated. NaN entries are an
 * error.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./bootstrap_resample.ts";
 * assert(percentile([1, 2, 3, 4], 50) === 2.5);
 * ```
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new KitError("percentile: no values");
  if (!(q >= 0 && q <= 100)) throw new KitError(`percentile: q must be in [0, 100], got ${q}`);
  const s = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < s.length; i++) {
    if (Number.isNaN(s[i]!)) throw new KitError(`percentile: value ${i} is NaN`);
  }
  s.sort();
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  const frac = pos - lo;
  return frac === 0 ? s[lo]! : s[lo]! + (s[hi]! - s[lo]!) * frac;
}
