import { KitError } from "../util/kit_error.ts";
import type { SymmetricMatrix } from "./gram.ts";
import type { NeighbourLists } from "./knn.ts";

/**
 * The strict upper triangle of a Gram matrix, row by row (numpy `G[np.triu_indices(n, 1)]`),
 * centred and scaled to unit norm, so that the Pearson correlation of two such vectors is their
 * dot product (`standardizedUpperTriangle` once per language, `pearsonOfStandardized` per pair).
 */
export function standardizedUpperTriangle(g: SymmetricMatrix): Float64Array {
  const n = g.size;
  const m = (n * (n - 1)) / 2;
  if (m < 2) throw new KitError(`Gram correlation: need at least 3 rows, got ${n}`);
  const u = new Float64Array(m);
  let t = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) u[t++] = g.data[i * n + j]!;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += u[i]!;
  mean /= m;
  let ss = 0;
  for (let i = 0; i < m; i++) {
    const v = u[i]! - mean;
    u[i] = v;
    ss += v * v;
  }
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : NaN; // constant triangle: correlation undefined
  for (let i = 0; i < m; i++) u[i]! *= inv;
  return u;
}

/** Pearson correlation of two vectors from `standardizedUpperTriangle`. */
export function pearsonOfStandardized(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) {
    throw new KitError(`Gram correlation: triangles differ in length (${a.length} vs ${b.length})`);
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * RSA: Pearson correlation of the strict upper triangles of two Gram matrices over the same items.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { gramCorrelation } from "./cross_lingual.ts";
 * import { gram } from "./gram.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * const x = matrixFromRows([[1, 0], [0.6, 0.8], [0, 1]]);
 * assert(Math.abs(gramCorrelation(gram(x), gram(x)) - 1) < 1e-12);
 * ```
 */
export function gramCorrelation(a: SymmetricMatrix, b: SymmetricMatrix): number {
  return pearsonOfStandardized(standardizedUpperTriangle(a), standardizedUpperTriangle(b));
}

/**
 * Neighbourhood overlap: per item the Jaccard index |A∩B| / |A∪B| of its kNN sets in two
 * languages, averaged over items. Both lists must cover the same items with the same k.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { neighbourOverlap } from "./cross_lingual.ts";
 * const a = { indices: new Int32Array([1, 2, 0, 2, 0, 1]), rows: 3, k: 2 };
 * const b = { indices: new Int32Array([1, 2, 0, 2, 0, 1]), rows: 3, k: 2 };
 * assert(neighbourOverlap(a, b) === 1);
 * ```
 */
export function neighbourOverlap(a: NeighbourLists, b: NeighbourLists): number {
  if (a.rows !== b.rows || a.k !== b.k) {
    throw new KitError(
      `neighbourOverlap: lists differ (${a.rows} rows, k=${a.k} vs ${b.rows} rows, k=${b.k})`,
    );
  }
  const { rows: n, k } = a;
  const mark = new Int32Array(n).fill(-1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let r = 0; r < k; r++) mark[a.indices[o + r]!] = i;
    let inter = 0;
    for (let r = 0; r < k; r++) if (mark[b.indices[o + r]!] === i) inter++;
    total += inter / (2 * k - inter);
  }
  return total / n;
}
