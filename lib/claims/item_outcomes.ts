import { KitError } from "../util/kit_error.ts";

/**
 * One series of per-item outcomes: one value per item (1/0 = right/wrong, 0.5 = right in one of
 * two directions, or any per-item metric), the resampling unit of each value, and the key that
 * says what it measures (`{ setup, score, benchmark, lang }`, `{ head, metric, lang }`).
 */
export interface ItemSeries {
  key: Record<string, string>;
  /** Groups the series belongs to (K-T1's language groups). */
  groups?: string[];
  /** The unit space its units index (one of the file's `spaces`). */
  space: string;
  /** Unit of each value (default: value i ↦ unit i). */
  units?: number[];
  /**
   * Stratum of each value (D's fold), for statistics computed within a stratum and then
   * averaged over strata (`reduce` other than `mean`).
   */
  strata?: number[];
  values: number[];
}

/** A resampling unit space: how many units, and what a unit is ("FLORES sentence"). */
export interface UnitSpace {
  units: number;
  unit: string;
}

/**
 * The per-item outcomes behind an artifact (or a family of artifacts, `D` for D-T1…D-T6),
 * written by the notebook beside the artifact as `<artifactDir>/items/<id>.json`, read by the
 * claims step to bootstrap intervals of the differences the claims rest on.
 */
export interface ItemOutcomes {
  id: string;
  description: string;
  spaces: Record<string, UnitSpace>;
  series: ItemSeries[];
  /** Set statistics recomputed on the claims' bootstrap resamples (see {@link ReplicateSeries}). */
  replicates?: ReplicateSeries[];
}

/**
 * Bootstrap replicates of a set statistic that has no per-item outcomes (D-T6's effective rank,
 * Gram correlation): `values[b]` is the statistic recomputed on resample b of
 * `forEachBootstrapResample(units of space, values.length, seed)` — the first `values.length`
 * resamples the claims' bootstrap draws with that seed — null where it is undefined. Every
 * series of one file with the same seed saw the same resampled units, so two series pair.
 */
export interface ReplicateSeries {
  key: Record<string, string>;
  space: string;
  seed: number;
  values: (number | null)[];
}

/** Which series a number is the macro mean of: series whose key matches `where`. */
export interface ItemSelector {
  /** The outcomes file (`items/<items>.json`). */
  items: string;
  where: Readonly<Record<string, string>>;
  /** Only series in this group. */
  group?: string;
  /** Leave out series whose `key[field]` matches the regular expression `pattern`. */
  exclude?: { field: string; pattern: string };
  /**
   * How a series becomes a number (default `mean`: the mean over its units). `skewness`: the
   * population skewness of its values within each stratum, averaged over strata; `hubRatio`: the
   * sum of the largest max(1, round(0.01·n)) values of each stratum (n its size; values are
   * k-occurrences / k) divided by n, averaged over strata — Table 6's hubness, per fold then
   * over folds. `pooledPerStratum`: the mean of all picked series' values within each stratum,
   * the series pooled (not averaged), then averaged over strata — Table 6's lang-ID accuracy, the
   * share of a fold's probe test rows (all languages) classified right, then over folds.
   * Resampled units enter with their multiplicity. `replicates`: not per-item outcomes but the
   * file's {@link ReplicateSeries} matching `where` (exactly one), the statistic already
   * recomputed on each resample (`replicateSeries`; `selectedStatistic` rejects it).
   */
  reduce?: "mean" | "skewness" | "hubRatio" | "pooledPerStratum" | "replicates";
}

/** Checks an outcomes object; a KitError names `path` and the offending key. */
export function checkItemOutcomes(o: unknown, path: string): ItemOutcomes {
  const fail = (what: string): never => {
    throw new KitError(`${path}: ${what}`, [
      "rerun the notebook that writes it (./kit task reproduce --only NN)",
    ]);
  };
  if (typeof o !== "object" || o === null) fail("expected an object");
  const x = o as Record<string, unknown>;
  if (typeof x.id !== "string") fail(`"id": expected a string`);
  if (typeof x.description !== "string") fail(`"description": expected a string`);
  if (typeof x.spaces !== "object" || x.spaces === null) fail(`"spaces": expected an object`);
  const spaces = x.spaces as Record<string, unknown>;
  for (const [name, s] of Object.entries(spaces)) {
    const u = (s as Record<string, unknown> | null)?.units;
    if (!Number.isInteger(u) || (u as number) < 1) {
      fail(`spaces.${name}.units: expected a positive integer, got ${JSON.stringify(u)}`);
    }
  }
  if (!Array.isArray(x.series)) fail(`"series": expected an array`);
  // An entry of `series` or `replicates`: an object with a string-valued key and a known space.
  const keyedEntry = (s: unknown, at: string): Record<string, unknown> => {
    const r = s as Record<string, unknown> | null;
    if (typeof r !== "object" || r === null) fail(`${at}: expected an object`);
    const key = r!.key as Record<string, unknown> | null;
    if (
      typeof key !== "object" || key === null ||
      Object.values(key).some((v) => typeof v !== "string")
    ) {
      fail(`${at}.key: expected an object of strings`);
    }
    if (typeof r!.space !== "string" || !(r!.space in spaces)) {
      fail(
        `${at}.space: expected one of ${Object.keys(spaces).join(", ")}, got ${
          JSON.stringify(r!.space)
        }`,
      );
    }
    return r!;
  };
  (x.series as unknown[]).forEach((s, i) => {
    const at = `series[${i}]`;
    const r = keyedEntry(s, at);
    const n = (spaces[r!.space as string] as UnitSpace).units;
    if (!Array.isArray(r!.values) || r!.values.length === 0) {
      fail(`${at}.values: expected a non-empty array`);
    }
    const values = r!.values as unknown[];
    values.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        fail(`${at}.values[${j}]: expected a finite number, got ${JSON.stringify(v)}`);
      }
    });
    if (r!.units !== undefined) {
      if (!Array.isArray(r!.units) || r!.units.length !== values.length) {
        fail(`${at}.units: expected ${values.length} unit indices`);
      }
      (r!.units as unknown[]).forEach((u, j) => {
        if (!Number.isInteger(u) || (u as number) < 0 || (u as number) >= n) {
          fail(`${at}.units[${j}]: expected an integer in [0, ${n}), got ${JSON.stringify(u)}`);
        }
      });
    } else if (values.length > n) {
      fail(`${at}: ${values.length} values but the space has ${n} units and no "units" is given`);
    }
    if (
      r!.groups !== undefined &&
      (!Array.isArray(r!.groups) || r!.groups.some((g) => typeof g !== "string"))
    ) {
      fail(`${at}.groups: expected an array of strings`);
    }
  });
  if (x.replicates !== undefined) {
    if (!Array.isArray(x.replicates)) fail(`"replicates": expected an array`);
    (x.replicates as unknown[]).forEach((s, i) => {
      const at = `replicates[${i}]`;
      const r = keyedEntry(s, at);
      if (!Number.isInteger(r!.seed)) fail(`${at}.seed: expected an integer`);
      if (!Array.isArray(r!.values) || r!.values.length === 0) {
        fail(`${at}.values: expected a non-empty array`);
      }
      (r!.values as unknown[]).forEach((v, j) => {
        if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
          fail(`${at}.values[${j}]: expected a finite number or null, got ${JSON.stringify(v)}`);
        }
      });
    });
  }
  return x as unknown as ItemOutcomes;
}

/** The one replicate series of `o` whose key matches `where` (null when none; KitError when several). */
export function replicateSeries(
  o: ItemOutcomes,
  where: Readonly<Record<string, string>>,
): ReplicateSeries | null {
  const hits = (o.replicates ?? []).filter((s) =>
    Object.entries(where).every(([k, v]) => s.key[k] === v)
  );
  if (hits.length > 1) {
    throw new KitError(
      `items/${o.id}.json: ${hits.length} replicate series match ${
        JSON.stringify(where)
      }; expected one`,
    );
  }
  return hits[0] ?? null;
}

/** The series a selector picks, in file order. */
export function selectSeries(o: ItemOutcomes, sel: ItemSelector): ItemSeries[] {
  const re = sel.exclude ? new RegExp(sel.exclude.pattern) : null;
  return o.series.filter((s) =>
    Object.entries(sel.where).every(([k, v]) => s.key[k] === v) &&
    (sel.group === undefined || (s.groups ?? []).includes(sel.group)) &&
    !(re && re.test(s.key[sel.exclude!.field] ?? ""))
  );
}
