import { KitError } from "../util/kit_error.ts";
import { gram, type SymmetricMatrix } from "./gram.ts";
import type { Matrix } from "./matrix.ts";

/** The k nearest neighbours of every row: `indices[i·k + r]` is row i's r-th neighbour. */
export interface NeighbourLists {
  readonly indices: Int32Array;
  readonly rows: number;
  readonly k: number;
}

/**
 * Within-set cosine kNN from a Gram matrix `G = X·Xᵀ`: for each row i the `k` rows j ≠ i with the
 * largest cosine `G_ij / (‖x_i‖·‖x_j‖)` (norms floored at 1e-12 like `F.normalize`), most
 * similar first; equal similarities are ordered by lower index. Self is excluded by index, so a
 * duplicate row still counts as a neighbour. O(n²) with an insertion list of length k.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineKnnFromGram } from "./knn.ts";
 * import { gram } from "./gram.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * const nn = cosineKnnFromGram(gram(matrixFromRows([[1, 0], [1, 0.1], [0, 1]])), 1);
 * assert(nn.indices[0] === 1 && nn.indices[1] === 0 && nn.indices[2] === 1);
 * ```
 */
export function cosineKnnFromGram(g: SymmetricMatrix, k: number): NeighbourLists {
  const n = g.size;
  if (!Number.isInteger(k) || k < 1 || k > n - 1) {
    throw new KitError(`kNN: k must be an integer in [1, ${n - 1}] for ${n} rows, got ${k}`);
  }
  const a = g.data;
  const invNorm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    invNorm[i] = 1 / Math.max(Math.sqrt(Math.max(a[i * n + i]!, 0)), 1e-12);
  }
  const out = new Int32Array(n * k);
  const bestS = new Float64Array(k);
  const bestJ = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const ni = invNorm[i]!;
    let count = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      // same rounding as the cosine of normalised rows up to one ulp; ranking is what matters
      const s = a[row + j]! * ni * invNorm[j]!;
      if (count === k && !(s > bestS[k - 1]!)) continue; // ties keep the lower (earlier) index
      let pos = count < k ? count++ : k - 1;
      while (pos > 0 && bestS[pos - 1]! < s) {
        bestS[pos] = bestS[pos - 1]!;
        bestJ[pos] = bestJ[pos - 1]!;
        pos--;
      }
      bestS[pos] = s;
      bestJ[pos] = j;
    }
    out.set(bestJ, i * k);
  }
  return { indices: out, rows: n, k };
}

/** Within-set cosine kNN of the rows of `x` (see `cosineKnnFromGram`). */
export function cosineKnn(x: Matrix, k: number): NeighbourLists {
  return cosineKnnFromGram(gram(x), k);
}
