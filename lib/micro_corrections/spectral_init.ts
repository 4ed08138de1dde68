import { KitError } from "../util/kit_error.ts";

/** One entry of a symmetric weighted graph (both (i, j) and (j, i) are listed). */
export interface GraphEntry {
  row: number;
  col: number;
  value: number;
}

/** Number of connected components of the graph (entries with value > 0). */
export function connectedComponents(n: number, entries: readonly GraphEntry[]): number {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (const e of entries) {
    if (e.value <= 0) continue;
    const a = find(e.row), b = find(e.col);
    if (a !== b) parent[a] = b;
  }
  let c = 0;
  for (let i = 0; i < n; i++) if (find(i) === i) c++;
  return c;
}

/**
 * Eigen-decomposition of a small symmetric matrix (cyclic Jacobi), eigenvalues descending.
 *
 * Not merged with `symmetricEigenvalues` (lib/diagnostics/symmetric_eigen.ts): that one is a
 * Householder tridiagonalisation + implicit QL (or LAPACK) for the large Gram matrices of the diagnostics and
 * returns eigenvalues only, while the Rayleigh–Ritz step here needs the eigenvectors of a
 * (dim+1)×(dim+1) matrix; and a different solver would move the spectral layout's coordinates
 * (the UMAP plots' initialisation) by rounding, so committed figures would change.
 */
export function smallSymmetricEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length;
  const m = a.map((r) => r.slice());
  const v: number[][] = Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!, mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!, mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!, vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j]![j]! - m[i]![i]!);
  return {
    values: order.map((i) => m[i]![i]!),
    vectors: order.map((i) => v.map((row) => row[i]!)),
  };
}

/**
 * umap-learn's `spectral_layout` for a connected graph: the eigenvectors of the normalised
 * Laplacian `L = I − D^{-1/2} G D^{-1/2}` for its 2nd … (dim+1)th smallest eigenvalues (umap-learn
 * asks ARPACK's `eigsh(L, dim + 1, which="SM")` and drops the first). Computed here by block
 * subspace iteration with Rayleigh–Ritz on `(I + D^{-1/2} G D^{-1/2}) / 2`, deflated by the known
 * first eigenvector `√deg`. Eigenvector signs are arbitrary in ARPACK; here each vector's entry
 * of largest magnitude is positive. Returns n rows of `dim` coordinates.
 */
export function spectralLayout(
  n: number,
  entries: readonly GraphEntry[],
  dim: number,
  normal: () => number,
): number[][] {
  if (connectedComponents(n, entries) !== 1) {
    throw new KitError("spectralLayout: the graph is not connected");
  }
  const deg = new Float64Array(n);
  for (const e of entries) deg[e.row] = deg[e.row]! + e.value;
  const isq = deg.map((d) => 1 / Math.sqrt(d));
  const rows = Int32Array.from(entries.map((e) => e.row));
  const cols = Int32Array.from(entries.map((e) => e.col));
  const w = Float64Array.from(entries.map((e) => e.value * isq[e.row]! * isq[e.col]!));
  const u0 = deg.map((d) => Math.sqrt(d));
  const u0n = Math.hypot(...u0);
  for (let i = 0; i < n; i++) u0[i]! /= u0n;
  const b = Math.min(n - 1, dim + 4);
  const apply = (x: Float64Array): Float64Array => {
    const y = new Float64Array(n);
    for (let e = 0; e < w.length; e++) {
      const r = rows[e]!;
      y[r] = y[r]! + w[e]! * x[cols[e]!]!;
    }
    for (let i = 0; i < n; i++) y[i] = 0.5 * (y[i]! + x[i]!);
    return y;
  };
  const dot = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * y[i]!;
    return s;
  };
  const orthonormalise = (block: Float64Array[]) => {
    for (let j = 0; j < block.length; j++) {
      const x = block[j]!;
      for (let pass = 0; pass < 2; pass++) {
        const c0 = dot(x, u0);
        for (let i = 0; i < n; i++) x[i]! -= c0 * u0[i]!;
        for (let k = 0; k < j; k++) {
          const c = dot(x, block[k]!);
          for (let i = 0; i < n; i++) x[i]! -= c * block[k]![i]!;
        }
      }
      const nx = Math.sqrt(dot(x, x));
      for (let i = 0; i < n; i++) x[i] = nx > 0 ? x[i]! / nx : normal();
    }
  };
  let x = Array.from({ length: b }, () => Float64Array.from({ length: n }, normal));
  orthonormalise(x);
  for (let it = 0; it < 20000; it++) {
    const y = x.map(apply);
    // Rayleigh–Ritz in span(x): T = xᵀ A x.
    const t = x.map((xi) => y.map((yj) => dot(xi, yj)));
    const sym = t.map((r, i) => r.map((v, j) => 0.5 * (v + t[j]![i]!)));
    const eig = smallSymmetricEigen(sym);
    const values = eig.values;
    const ritz = eig.vectors.map((c) => {
      const z = new Float64Array(n);
      c.forEach((cj, j) => {
        for (let i = 0; i < n; i++) z[i]! += cj * x[j]![i]!;
      });
      return z;
    });
    const ay = eig.vectors.map((c) => {
      const z = new Float64Array(n);
      c.forEach((cj, j) => {
        for (let i = 0; i < n; i++) z[i]! += cj * y[j]![i]!;
      });
      return z;
    });
    let worst = 0;
    for (let k = 0; k < dim; k++) {
      let r = 0;
      for (let i = 0; i < n; i++) r += (ay[k]![i]! - values[k]! * ritz[k]![i]!) ** 2;
      worst = Math.max(worst, Math.sqrt(r));
    }
    if (worst < 1e-7) {
      x = ritz;
      break;
    }
    x = ay;
    orthonormalise(x);
  }
  const vecs = x.slice(0, dim).map((v) => {
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(v[i]!) > Math.abs(v[big]!)) big = i;
    return v[big]! < 0 ? v.map((z) => -z) : v;
  });
  return Array.from({ length: n }, (_, i) => vecs.map((v) => v[i]!));
}

/**
 * umap-learn's spectral initialisation of an embedding from a fuzzy graph, as
 * `simplicial_set_embedding` does it: prune weights below `max / nEpochs`, `spectralLayout`,
 * scale so the largest |coordinate| is 10, add N(0, 1e-4) noise, then rescale each coordinate to
 * [0, 10]. Null when the pruned graph is not connected (umap-learn then lays the components out
 * separately, which this kit does not: the caller falls back to random initialisation).
 */
export function umapSpectralInit(
  n: number,
  entries: readonly GraphEntry[],
  nEpochs: number,
  dim: number,
  normal: () => number,
): number[][] | null {
  let max = 0;
  for (const e of entries) max = Math.max(max, e.value);
  const kept = nEpochs > 10 ? entries.filter((e) => e.value >= max / nEpochs) : [...entries];
  if (connectedComponents(n, kept) !== 1) return null;
  const layout = spectralLayout(n, kept, dim, normal);
  let big = 0;
  for (const r of layout) for (const v of r) big = Math.max(big, Math.abs(v));
  const coords = layout.map((r) => r.map((v) => Math.fround((v * 10) / big) + 1e-4 * normal()));
  for (let c = 0; c < dim; c++) {
    let lo = Infinity, hi = -Infinity;
    for (const r of coords) {
      lo = Math.min(lo, r[c]!);
      hi = Math.max(hi, r[c]!);
    }
    for (const r of coords) r[c] = (10 * (r[c]! - lo)) / (hi - lo);
  }
  return coords;
}
