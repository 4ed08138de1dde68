import { UMAP } from "umap-js";
import { SeededRandom } from "../util/seeded_random.ts";
import { KitError } from "../util/kit_error.ts";

/** UMAP settings of paper D's figure (n_neighbors 25, min_dist 0.1, cosine, seed 7). */
export interface LocalUmapOptions {
  nNeighbors?: number;
  minDist?: number;
  seed?: number;
  /** Optimisation epochs (default: umap-js's, 500 for fewer than 2500 points). */
  nEpochs?: number;
}

/** Cosine distance 1 − x·y / (‖x‖‖y‖) (1 when either vector is zero). */
export function cosineDistance(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  return xx > 0 && yy > 0 ? 1 - xy / Math.sqrt(xx * yy) : 1;
}

/**
 * Exact k nearest neighbours by cosine distance, each point's own index first (as umap-learn's
 * exact search for small sets); ties by index.
 */
export function exactCosineKnn(
  points: number[][],
  k: number,
): { indices: number[][]; distances: number[][] } {
  const n = points.length;
  const norms = points.map((p) => Math.sqrt(p.reduce((s, x) => s + x * x, 0)));
  const indices: number[][] = [], distances: number[][] = [];
  for (let i = 0; i < n; i++) {
    const d = new Float64Array(n);
    const pi = points[i]!;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const pj = points[j]!;
      let dot = 0;
      for (let c = 0; c < pi.length; c++) dot += pi[c]! * pj[c]!;
      const den = norms[i]! * norms[j]!;
      d[j] = den > 0 ? Math.max(0, 1 - dot / den) : 1;
    }
    const order = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i);
    order.sort((a, b) => d[a]! - d[b]! || a - b);
    const nn = [i, ...order.slice(0, k - 1)];
    indices.push(nn);
    distances.push(nn.map((j) => (j === i ? 0 : d[j]!)));
  }
  return { indices, distances };
}

/**
 * A seeded 2-D UMAP of `points` with cosine distance (exact neighbour graph; umap-js's random
 * initialisation drawn from `SeededRandom(seed)`), so the same input and seed give the same
 * layout. n_neighbors is clamped to the number of points − 1.
 */
export function localUmap(points: number[][], opts: LocalUmapOptions = {}): number[][] {
  if (points.length < 3) {
    throw new KitError(`localUmap: ${points.length} point(s); at least 3 needed`);
  }
  const k = Math.min(opts.nNeighbors ?? 25, points.length - 1);
  const rng = new SeededRandom(opts.seed ?? 7);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: k,
    minDist: opts.minDist ?? 0.1,
    distanceFn: cosineDistance,
    random: () => rng.next(),
    ...(opts.nEpochs ? { nEpochs: opts.nEpochs } : {}),
  });
  const knn = exactCosineKnn(points, k);
  umap.setPrecomputedKNN(knn.indices, knn.distances);
  return umap.fit(points);
}
