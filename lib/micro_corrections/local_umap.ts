import { UMAP } from "umap-js";
import { SeededRandom } from "../util/seeded_random.ts";
import { KitError } from "../util/kit_error.ts";
import { type GraphEntry, umapSpectralInit } from "./spectral_init.ts";

/** UMAP settings of paper D's figure (n_neighbors 25, min_dist 0.1, cosine, seed 7). */
export interface LocalUmapOptions {
  nNeighbors?: number;
  minDist?: number;
  seed?: number;
  /** Optimisation epochs (default: umap-js's, 500 for fewer than 2500 points, as umap-learn). */
  nEpochs?: number;
  /**
   * `spectral` (default, umap-learn's default): `umapSpectralInit` of the pruned fuzzy graph,
   * falling back to random when that graph is not connected; `random`: umap-js's uniform
   * [−10, 10] start.
   */
  init?: "spectral" | "random";
}

/** A layout and the initialisation it started from. */
export interface LocalUmapResult {
  embedding: number[][];
  init: "spectral" | "random" | "random (graph not connected)";
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
 * A seeded 2-D UMAP of `points` with cosine distance: exact neighbour graph (umap-learn's path
 * for fewer than 4096 points), umap-learn's spectral initialisation (`umapSpectralInit`) unless
 * `init: "random"`, then umap-js's optimisation with random draws from `SeededRandom(seed)`, so
 * the same input and seed give the same layout. n_neighbors is clamped to the number of points − 1.
 */
export function localUmap(points: number[][], opts: LocalUmapOptions = {}): number[][] {
  return localUmapWithInit(points, opts).embedding;
}

/** {@link localUmap}, also saying which initialisation was used. */
export function localUmapWithInit(
  points: number[][],
  opts: LocalUmapOptions = {},
): LocalUmapResult {
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
  const nEpochs = umap.initializeFit(points);
  let init: LocalUmapResult["init"] = "random";
  if ((opts.init ?? "spectral") === "spectral") {
    const graph = (umap as unknown as { graph: { getAll(): GraphEntry[] } }).graph.getAll();
    const start = umapSpectralInit(points.length, graph, nEpochs, 2, () => rng.normal());
    if (start) {
      // umap-js optimises the arrays of getEmbedding() in place: overwrite its random start.
      const emb = umap.getEmbedding();
      start.forEach((p, i) => {
        emb[i]![0] = p[0]!;
        emb[i]![1] = p[1]!;
      });
      init = "spectral";
    } else init = "random (graph not connected)";
  }
  for (let e = 0; e < nEpochs; e++) umap.step();
  return { embedding: umap.getEmbedding().map((p) => [p[0]!, p[1]!]), init };
}
