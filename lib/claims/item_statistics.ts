import { roundHalfEven } from "../util/round_half_even.ts";
import { macroMeanStatistic, type WeightedStatistic } from "../stats/mod.ts";
import { KitError } from "../util/kit_error.ts";
import {
  type ItemOutcomes,
  type ItemSelector,
  type ItemSeries,
  selectSeries,
} from "./item_outcomes.ts";

/** A selector's statistic: the macro mean over its series of each series' mean over its units. */
export interface SelectedStatistic {
  statistic: WeightedStatistic;
  /** The unit space resampled, and its size. */
  space: string;
  units: number;
  unit: string;
  /** Number of series averaged. */
  series: number;
}

/**
 * The macro-mean statistic of the series `sel` picks (null when none matches), as a function of
 * resampled unit counts. All picked series must share one unit space (a KitError otherwise).
 */
export function selectedStatistic(o: ItemOutcomes, sel: ItemSelector): SelectedStatistic | null {
  const picked = selectSeries(o, sel);
  if (picked.length === 0) return null;
  const spaces = [...new Set(picked.map((s) => s.space))];
  if (spaces.length > 1) {
    throw new KitError(
      `items/${o.id}.json: the series selected by ${JSON.stringify(sel.where)} span unit spaces ${
        spaces.join(", ")
      }; a bootstrap needs one`,
    );
  }
  const space = o.spaces[spaces[0]!]!;
  const reduce = sel.reduce ?? "mean";
  if (reduce === "replicates") {
    throw new KitError(`selectedStatistic: "replicates" selectors are read by replicateSeries`);
  }
  if (reduce !== "mean") {
    const missing = picked.find((s) => !s.strata);
    if (missing) {
      throw new KitError(
        `items/${o.id}.json: series ${
          JSON.stringify(missing.key)
        } has no "strata"; ${reduce} needs them`,
      );
    }
  }
  return {
    statistic: reduce === "mean"
      ? pooledMacroMean(picked)
      : reduce === "pooledPerStratum"
      ? pooledPerStratumMean(picked)
      : macroOfStrata(picked, reduce === "skewness" ? weightedSkewness : weightedTopShare),
    space: spaces[0]!,
    units: space.units,
    unit: space.unit,
    series: picked.length,
  };
}

/**
 * `macroMeanStatistic` over the series, computed faster: series with the same units (the usual
 * case: every language of a benchmark, every head of a fold split) have the same denominators in
 * every resample, so their mean of means is the weighted mean of their element-wise average;
 * groups then enter with weight (series in the group) / (series), leaving out a group none of
 * whose units was drawn, as `macroMeanStatistic` leaves out such series.
 */
export function pooledMacroMean(series: readonly ItemSeries[]): WeightedStatistic {
  const groups = new Map<string, { units?: number[]; sum: Float64Array; count: number }>();
  for (const s of series) {
    const sig = s.units ? s.units.join(",") : `#${s.values.length}`;
    let g = groups.get(sig);
    if (!g) {
      groups.set(sig, g = { units: s.units, sum: new Float64Array(s.values.length), count: 0 });
    }
    for (let i = 0; i < s.values.length; i++) g.sum[i]! += s.values[i]!;
    g.count++;
  }
  const parts = [...groups.values()].map((g) => ({
    weight: g.count,
    mean: macroMeanStatistic([
      g.units
        ? { values: g.sum.map((x) => x / g.count), units: g.units }
        : { values: g.sum.map((x) => x / g.count) },
    ]),
  }));
  return (w) => {
    let num = 0, den = 0;
    for (const p of parts) {
      const m = p.mean(w);
      if (!Number.isNaN(m)) {
        num += p.weight * m;
        den += p.weight;
      }
    }
    return den === 0 ? NaN : num / den;
  };
}

/**
 * Per stratum (ascending), Σ m·v / Σ m over every value v of every series in it (m = the
 * multiplicity of v's unit), then the mean over the strata that have a drawn value. On the
 * observed sample with 0/1 values this is (Σ over strata of hits/rows) / strata, in the same
 * order of operations as a mean over folds of per-fold accuracies: the same floating-point number.
 */
export function pooledPerStratumMean(series: readonly ItemSeries[]): WeightedStatistic {
  const by = new Map<number, Map<number, { sum: number; count: number }>>();
  for (const s of series) {
    if (!s.strata) throw new KitError(`series ${JSON.stringify(s.key)} has no "strata"`);
    s.values.forEach((v, i) => {
      const k = s.strata![i]!, u = s.units ? s.units[i]! : i;
      let g = by.get(k);
      if (!g) by.set(k, g = new Map());
      const c = g.get(u);
      if (c) {
        c.sum += v;
        c.count++;
      } else g.set(u, { sum: v, count: 1 });
    });
  }
  const strata = [...by.keys()].sort((p, q) => p - q).map((k) => {
    const g = by.get(k)!;
    return {
      units: Int32Array.from(g.keys()),
      sum: Float64Array.from(g.values(), (c) => c.sum),
      count: Float64Array.from(g.values(), (c) => c.count),
    };
  });
  return (w) => {
    let total = 0, used = 0;
    for (const g of strata) {
      let num = 0, den = 0;
      for (let i = 0; i < g.units.length; i++) {
        const m = w[g.units[i]!]!;
        if (m !== 0) {
          num += m * g.sum[i]!;
          den += m * g.count[i]!;
        }
      }
      if (den > 0) {
        total += num / den;
        used++;
      }
    }
    return used === 0 ? NaN : total / used;
  };
}

/**
 * Population skewness `m₃ / m₂^{3/2}` of `values` with integer multiplicities `w` (NaN for no
 * draw or a constant sample, as scipy's `skew`); equals the skewness of the expanded sample.
 */
export function weightedSkewness(values: ArrayLike<number>, w: ArrayLike<number>): number {
  let n = 0, mean = 0;
  for (let i = 0; i < values.length; i++) {
    n += w[i]!;
    mean += w[i]! * values[i]!;
  }
  if (n === 0) return NaN;
  mean /= n;
  let m2 = 0, m3 = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - mean;
    m2 += w[i]! * d * d;
    m3 += w[i]! * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  const resolution = 1e-15 * mean;
  if (m2 <= resolution * resolution) return NaN;
  return m3 / Math.pow(m2, 1.5);
}

/** Indices of `values` from the largest value down. */
function descendingOrder(values: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[b]! - values[a]!);
}

/**
 * The sum of the largest max(1, round(0.01·n)) values of the expanded sample (value i repeated
 * `w[i]` times, n = Σw) divided by n: Table 6's hub ratio when values are k-occurrences / k.
 */
export function weightedTopShare(
  values: ArrayLike<number>,
  w: ArrayLike<number>,
  order: ArrayLike<number> = descendingOrder(values),
): number {
  let n = 0;
  for (let i = 0; i < w.length; i++) n += w[i]!;
  if (n === 0) return NaN;
  let left = Math.max(1, roundHalfEven(0.01 * n));
  let s = 0;
  for (let r = 0; r < order.length; r++) {
    const i = order[r]!;
    if (left === 0) break;
    const take = Math.min(left, w[i]!);
    s += take * values[i]!;
    left -= take;
  }
  return s / n;
}

/**
 * Mean over series of (mean over each series' strata of `reduce` on the stratum's values with
 * their resampled multiplicities); strata or series where it is NaN are left out.
 */
function macroOfStrata(
  series: readonly ItemSeries[],
  reduce: (values: ArrayLike<number>, w: ArrayLike<number>, order: Int32Array) => number,
): WeightedStatistic {
  const parts = series.map((s) => {
    const by = new Map<number, { values: number[]; units: number[] }>();
    s.values.forEach((v, i) => {
      const k = s.strata![i]!;
      let g = by.get(k);
      if (!g) by.set(k, g = { values: [], units: [] });
      g.values.push(v);
      g.units.push(s.units ? s.units[i]! : i);
    });
    return [...by.values()].map((g) => ({
      values: Float64Array.from(g.values),
      order: descendingOrder(g.values),
      units: Int32Array.from(g.units),
      w: new Float64Array(g.values.length),
    }));
  });
  return (w) => {
    let sum = 0, count = 0;
    for (const strata of parts) {
      let ss = 0, sc = 0;
      for (const g of strata) {
        for (let i = 0; i < g.units.length; i++) g.w[i] = w[g.units[i]!]!;
        const x = reduce(g.values, g.w, g.order);
        if (!Number.isNaN(x)) {
          ss += x;
          sc++;
        }
      }
      if (sc > 0) {
        sum += ss / sc;
        count++;
      }
    }
    return count === 0 ? NaN : sum / count;
  };
}
