import { TSNE } from "@keckelt/tsne";
import { l2NormalizeRows, type RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";
import { sha256Hex } from "../util/sha256.ts";
import { cachedResult, type ResultCacheOptions } from "../eval_cache/result_cache.ts";
import { codeFingerprint } from "../eval_cache/code_fingerprint.ts";
import { numericEnvironment } from "../eval_cache/numeric_environment.ts";

/** Options of {@link tsneLayout}. */
export interface TsneOptions {
  seed: number;
  /** Effective number of neighbours (default 30, capped at (n − 1)/3). */
  perplexity?: number;
  /** Gradient steps (default 500). */
  iterations?: number;
  /** Learning rate (default 10, the library's). */
  learningRate?: number;
  /** L2-normalise rows first, so distances follow cosine similarity (default true). */
  normalize?: boolean;
}

interface TsneInstance {
  gaussRandom: () => number;
  initDataRaw(X: number[][]): void;
  step(): number;
  getSolution(): number[][];
}

/**
 * A 2-D t-SNE layout of the rows of `points` (exact t-SNE of `@keckelt/tsne` 1.0.2, Karpathy's
 * tsnejs: Gaussian affinities at the given perplexity, early exaggeration ×4 for 100 steps,
 * momentum 0.5 → 0.8 at step 250, gains). The library draws its initial solution from
 * `Math.random`; here its `gaussRandom` is replaced by a seeded normal stream, so a seed gives
 * the same layout. Returns `n × 2` row-major coordinates.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixFromRows } from "../retrieval/row_matrix.ts";
 * import { tsneLayout } from "./tsne_layout.ts";
 * const xy = tsneLayout(matrixFromRows([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]), { seed: 1, iterations: 50 });
 * assert(xy.length === 8);
 * ```
 */
export function tsneLayout(points: RowMatrix, opts: TsneOptions): Float64Array {
  const n = points.rows;
  if (n < 4) throw new KitError(`tsneLayout: need at least 4 points, got ${n}`);
  const iterations = opts.iterations ?? 500;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new KitError(`tsneLayout: iterations must be a positive integer, got ${iterations}`);
  }
  const perplexity = Math.min(opts.perplexity ?? 30, (n - 1) / 3);
  const m = opts.normalize === false ? points : l2NormalizeRows(points);
  const X = Array.from(
    { length: n },
    (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)),
  );
  const rng = new SeededRandom(opts.seed);
  const t = new TSNE({
    perplexity,
    dim: 2,
    epsilon: opts.learningRate ?? 10,
  }) as unknown as TsneInstance;
  t.gaussRandom = () => rng.normal();
  t.initDataRaw(X);
  for (let k = 0; k < iterations; k++) t.step();
  const y = t.getSolution();
  const out = new Float64Array(n * 2);
  y.forEach((p, i) => {
    out[2 * i] = p[0]!;
    out[2 * i + 1] = p[1]!;
  });
  for (const v of out) {
    if (!Number.isFinite(v)) {
      throw new KitError("tsneLayout: the layout diverged (non-finite coordinates)");
    }
  }
  return out;
}

/**
 * {@link tsneLayout}, kept on disk (lib/eval_cache, `.cache/results/tsne/`) keyed by the points'
 * bytes and shape, the options, the code and the numeric environment: a rerun on the same
 * embeddings gets the same layout without its 400+ gradient steps.
 */
export async function cachedTsneLayout(
  points: RowMatrix,
  opts: TsneOptions,
  cache: ResultCacheOptions = {},
): Promise<Float64Array> {
  const key = {
    what: "tsneLayout",
    rows: points.rows,
    cols: points.cols,
    points: sha256Hex(
      new Uint8Array(points.data.buffer, points.data.byteOffset, points.data.byteLength),
    ),
    options: { ...opts },
    code: await codeFingerprint(["lib/embedding_plots/tsne_layout.ts"]),
    numeric: numericEnvironment(),
  };
  return await cachedResult("tsne", key, () => Promise.resolve(tsneLayout(points, opts)), cache);
}
