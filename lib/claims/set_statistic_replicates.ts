import { gram, type SymmetricMatrix } from "../diagnostics/gram.ts";
import { type Matrix, matrix, transpose } from "../diagnostics/matrix.ts";
import { effectiveRankFromSpectrum } from "../diagnostics/spectrum.ts";
import { symmetricEigenvalues } from "../diagnostics/symmetric_eigen.ts";
import { forEachBootstrapResample } from "../stats/mod.ts";
import { KitError } from "../util/kit_error.ts";

/** One fold's holdout: its items (unit indices) and their embeddings per language, rows aligned. */
export interface FoldSet {
  units: readonly number[];
  byLang: Readonly<Record<string, Matrix>>;
}

/**
 * Effective rank of the column-centred rows of `x` taken with integer multiplicities `w` (row i
 * repeated `w[i]` times; rows with w = 0 left out): the eigenvalues of the weighted scatter
 * `Σ wᵢ (xᵢ − μ)(xᵢ − μ)ᵀ` (μ the weighted mean) are the squared singular values of the centred
 * expanded matrix, so this equals `effectiveRank` of the expanded matrix (up to round-off).
 * Duplicates add no new direction: a resample with m distinct rows has rank ≤ min(m − 1, d).
 * The eigenproblem is the smaller of d × d and m × m (m distinct rows drawn).
 *
 * `rowGram` (optional) is `x·xᵀ` (`gram(x).data`, n × n). When it is given and m < d (paper D:
 * about 350 distinct rows of 512-d per fold), the m × m centred Gram is read off it
 * (`centredWeightedGram`, O(n·m + m²)) instead of being multiplied out from the centred rows
 * (O(m²·d)): the same matrix up to round-off (tests/set_statistic_replicates_test.ts bounds the
 * effective rank's difference). Without it, or with m ≥ d (the mini profile's 64-d rows, whose
 * values thus stay bit for bit), the rows are centred and multiplied as before.
 */
export function weightedEffectiveRank(
  x: Matrix,
  w: ArrayLike<number>,
  rowGram?: Float64Array,
): number {
  const { rows: n, cols: d, data } = x;
  if (rowGram !== undefined) {
    if (rowGram.length !== n * n) {
      throw new KitError(
        `weightedEffectiveRank: rowGram has ${rowGram.length} entries, expected ${n}² for ${n} rows`,
      );
    }
    let m = 0;
    for (let i = 0; i < n; i++) if (w[i]! > 0) m++;
    if (m > 0 && m < d) {
      const ev = symmetricEigenvalues(centredWeightedGram(rowGram, n, w, m));
      for (let i = 0; i < ev.length; i++) if (!(ev[i]! > 0)) ev[i] = 0;
      return effectiveRankFromSpectrum(ev);
    }
  }
  let total = 0;
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    total += wi;
    for (let j = 0; j < d; j++) mu[j]! += wi * data[i * d + j]!;
  }
  if (total === 0) return NaN;
  for (let j = 0; j < d; j++) mu[j]! /= total;
  let m = 0;
  for (let i = 0; i < n; i++) if (w[i]! > 0) m++;
  const xs = new Float64Array(m * d);
  let r = 0;
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    const s = Math.sqrt(wi);
    for (let j = 0; j < d; j++) xs[r * d + j] = s * (data[i * d + j]! - mu[j]!);
    r++;
  }
  // The nonzero eigenvalues of XsᵀXs (d × d) and XsXsᵀ (m × m) are the same: take the smaller.
  const xm = matrix(xs, m, d);
  const ev = symmetricEigenvalues(m < d ? gram(xm) : gram(transpose(xm)));
  for (let i = 0; i < ev.length; i++) if (!(ev[i]! > 0)) ev[i] = 0;
  return effectiveRankFromSpectrum(ev);
}

/**
 * The m × m Gram of the weighted, centred rows `√wᵢ (xᵢ − μ)` (rows with w = 0 left out, μ the
 * weighted mean), from the Gram `g = x·xᵀ` (n × n) alone:
 * `√(wᵢwⱼ) (gᵢⱼ − uᵢ − uⱼ + c)` with `uᵢ = xᵢ·μ = Σₖ wₖ gᵢₖ / W` and `c = μ·μ = Σₖ wₖ uₖ / W`.
 */
export function centredWeightedGram(
  g: Float64Array,
  n: number,
  w: ArrayLike<number>,
  m: number,
): SymmetricMatrix {
  const drawn = new Int32Array(m);
  let r = 0, total = 0;
  for (let i = 0; i < n; i++) {
    if (w[i]! > 0) {
      drawn[r++] = i;
      total += w[i]!;
    }
  }
  const u = new Float64Array(m), sw = new Float64Array(m);
  let c = 0;
  for (let a = 0; a < m; a++) {
    const i = drawn[a]!, o = i * n;
    let s = 0;
    for (let b = 0; b < m; b++) {
      const k = drawn[b]!;
      s += w[k]! * g[o + k]!;
    }
    u[a] = s / total;
    sw[a] = Math.sqrt(w[i]!);
    c += w[i]! * u[a]!;
  }
  c /= total;
  const out = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const o = drawn[a]! * n, ua = u[a]!, sa = sw[a]!;
    for (let b = a; b < m; b++) {
      const v = sa * sw[b]! * (g[o + drawn[b]!]! - ua - u[b]! + c);
      out[a * m + b] = v;
      out[b * m + a] = v;
    }
  }
  return { data: out, size: m };
}

/**
 * Mean over language pairs of the weighted Pearson correlation of two Gram matrices' entries
 * over pairs of **distinct** items i < j, pair weight wᵢ·wⱼ (the strict upper triangle of the
 * expanded set's Gram, less the pairs of two copies of one item, whose entry is a squared norm
 * and not a similarity between items). With all weights 1 it is D-T6's Gram correlation mean.
 * NaN when fewer than 2 distinct pairs were drawn or a triangle is constant.
 */
export function weightedGramCorrelation(
  grams: readonly Float64Array[],
  n: number,
  w: ArrayLike<number>,
): number {
  const L = grams.length;
  if (L < 2) throw new KitError(`weightedGramCorrelation: need 2 languages, got ${L}`);
  const drawn: number[] = [];
  for (let i = 0; i < n; i++) if (w[i]! > 0) drawn.push(i);
  const s1 = new Float64Array(L), s2 = new Float64Array(L * L), v = new Float64Array(L);
  let c = 0, pairs = 0;
  for (let p = 0; p < drawn.length; p++) {
    const i = drawn[p]!, wi = w[i]!;
    for (let q = p + 1; q < drawn.length; q++) {
      const j = drawn[q]!, cij = wi * w[j]!;
      c += cij;
      pairs++;
      for (let a = 0; a < L; a++) {
        const g = grams[a]![i * n + j]!;
        v[a] = g;
        s1[a]! += cij * g;
      }
      for (let a = 0; a < L; a++) {
        const ca = cij * v[a]!;
        for (let b = a; b < L; b++) s2[a * L + b]! += ca * v[b]!;
      }
    }
  }
  if (pairs < 2) return NaN;
  let sum = 0, count = 0;
  for (let a = 0; a < L; a++) {
    for (let b = a + 1; b < L; b++) {
      const cov = s2[a * L + b]! - (s1[a]! * s1[b]!) / c;
      const va = s2[a * L + a]! - (s1[a]! * s1[a]!) / c;
      const vb = s2[b * L + b]! - (s1[b]! * s1[b]!) / c;
      sum += cov / Math.sqrt(va * vb);
      count++;
    }
  }
  return sum / count;
}

/** Bootstrap replicates of D-T6's set statistics for one head (one value per resample). */
export interface SetStatisticReplicates {
  effectiveRank: Float64Array;
  gramCorrelation: Float64Array;
}

/**
 * Per resample b of the claims' bootstrap over `n` items (`forEachBootstrapResample(n,
 * resamples, seed)`: the very draws `bootstrapInterval` makes, so every head sees the same
 * resampled items and replicate b pairs with the claims' resample b), D-T6's effective rank
 * (mean over languages) and Gram correlation (mean over language pairs), each computed per fold
 * on the fold's drawn holdout items with their multiplicities and averaged over the folds where
 * it is defined. Every unit must be in exactly one fold.
 */
export function setStatisticReplicates(
  folds: readonly FoldSet[],
  n: number,
  opts: { seed: number; resamples: number },
): SetStatisticReplicates {
  const owner = new Int32Array(n).fill(-1);
  folds.forEach((f, k) =>
    f.units.forEach((u) => {
      if (!Number.isInteger(u) || u < 0 || u >= n || owner[u] !== -1) {
        throw new KitError(
          `setStatisticReplicates: unit ${u} of fold ${k} is out of range or in two folds`,
        );
      }
      owner[u] = k;
    })
  );
  if (owner.includes(-1)) {
    throw new KitError(`setStatisticReplicates: the folds do not cover all ${n} units`);
  }
  const prepared = folds.map((f) => {
    const mats = Object.values(f.byLang);
    mats.forEach((m) => {
      if (m.rows !== f.units.length) {
        throw new KitError(
          `setStatisticReplicates: a fold has ${f.units.length} units but a ${m.rows}-row matrix`,
        );
      }
    });
    return {
      mats,
      grams: mats.map((m) => gram(m).data),
      w: new Float64Array(f.units.length),
    };
  });
  const er = new Float64Array(opts.resamples), gc = new Float64Array(opts.resamples);
  forEachBootstrapResample(n, opts.resamples, opts.seed, (counts, b) => {
    let se = 0, ne = 0, sg = 0, ng = 0;
    folds.forEach((f, k) => {
      const p = prepared[k]!;
      f.units.forEach((u, i) => (p.w[i] = counts[u]!));
      let s = 0, cnt = 0;
      for (const [li, m] of p.mats.entries()) {
        const x = weightedEffectiveRank(m, p.w, p.grams[li]);
        if (!Number.isNaN(x)) {
          s += x;
          cnt++;
        }
      }
      if (cnt > 0) {
        se += s / cnt;
        ne++;
      }
      if (p.mats.length >= 2) {
        const g = weightedGramCorrelation(p.grams, f.units.length, p.w);
        if (!Number.isNaN(g)) {
          sg += g;
          ng++;
        }
      }
    });
    er[b] = ne ? se / ne : NaN;
    gc[b] = ng ? sg / ng : NaN;
  });
  return { effectiveRank: er, gramCorrelation: gc };
}
