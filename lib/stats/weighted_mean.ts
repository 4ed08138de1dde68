import { KitError } from "../util/kit_error.ts";
import type { WeightedStatistic } from "./bootstrap_interval.ts";

/** Scores of one item set (e.g. one language) on a subset of the resampled units. */
export interface UnitScores {
  /** One value per row (e.g. 1 = retrieved correctly, 0 = not). */
  values: ArrayLike<number>;
  /** The unit (resampled item, e.g. a sentence or an image) of each row; default row i ↦ unit i. */
  units?: ArrayLike<number>;
}

function unitOf(s: UnitScores, i: number): number {
  return s.units ? s.units[i]! : i;
}

/**
 * The mean of `values` as a {@link WeightedStatistic}: `Σ w[u_i]·v_i / Σ w[u_i]` (NaN when no
 * row is drawn).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightedMeanStatistic } from "./weighted_mean.ts";
 * const f = weightedMeanStatistic([0, 1]);
 * assert(f(new Int32Array([1, 1])) === 0.5 && f(new Int32Array([0, 2])) === 1);
 * ```
 */
export function weightedMeanStatistic(
  values: ArrayLike<number>,
  units?: ArrayLike<number>,
): WeightedStatistic {
  const s: UnitScores = units ? { values, units } : { values };
  if (units && units.length !== values.length) {
    throw new KitError(`weightedMeanStatistic: ${values.length} values but ${units.length} units`);
  }
  return (w) => {
    let num = 0, den = 0;
    for (let i = 0; i < values.length; i++) {
      const c = w[unitOf(s, i)]!;
      num += c * values[i]!;
      den += c;
    }
    return den === 0 ? NaN : num / den;
  };
}

/**
 * The mean over item sets (e.g. languages) of each set's weighted mean — a macro average, as
 * K's tables average languages. Sets whose rows were not drawn in a resample are left out of
 * that resample's average (NaN if none is left).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { macroMeanStatistic } from "./weighted_mean.ts";
 * const f = macroMeanStatistic([{ values: [1, 1] }, { values: [0, 1] }]);
 * assert(f(new Int32Array([1, 1])) === 0.75);
 * ```
 */
export function macroMeanStatistic(sets: readonly UnitScores[]): WeightedStatistic {
  if (sets.length === 0) throw new KitError("macroMeanStatistic: no item sets to average");
  const parts = sets.map((s) => weightedMeanStatistic(s.values, s.units));
  return (w) => {
    let sum = 0, count = 0;
    for (const f of parts) {
      const m = f(w);
      if (!Number.isNaN(m)) {
        sum += m;
        count++;
      }
    }
    return count === 0 ? NaN : sum / count;
  };
}
