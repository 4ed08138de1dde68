import { roundHalfEven } from "../util/round_half_even.ts";
import { join } from "node:path";
import { macroMeanStatistic, type WeightedStatistic } from "../stats/mod.ts";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/sha256.ts";
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

/** The folder the outcomes files live in, inside an artifact folder. */
export const ITEMS_DIR = "items";

export function itemOutcomesPath(artifactDir: string, id: string): string {
  return join(artifactDir, ITEMS_DIR, `${id}.json`);
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

/**
 * Writes `<artifactDir>/items/<id>.json` atomically (checked first); returns its path.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readItemOutcomes, writeItemOutcomes } from "./item_outcomes.ts";
 * const dir = await Deno.makeTempDir();
 * await writeItemOutcomes(dir, { id: "X", description: "toy", spaces: { s: { units: 2, unit: "item" } },
 *   series: [{ key: { setup: "a" }, space: "s", values: [1, 0] }] });
 * assert((await readItemOutcomes(dir, "X"))!.series.length === 1);
 * ```
 */
export async function writeItemOutcomes(artifactDir: string, o: ItemOutcomes): Promise<string> {
  const path = itemOutcomesPath(artifactDir, o.id);
  checkItemOutcomes(o, path);
  await Deno.mkdir(join(artifactDir, ITEMS_DIR), { recursive: true });
  // Compact JSON, each distinct units/strata list stored once (`layouts`: a D file repeats the
  // same fold order in hundreds of series), and 0/½/1 outcomes as digit strings (`halves`).
  // sealed with the sha256 of that text: `claims` checks it (a damaged file is named, not used)
  const stored = storedForm(o);
  const content_sha256 = sha256Hex(JSON.stringify(stored));
  await atomicWriteFile(path, JSON.stringify({ ...stored, content_sha256 }) + "\n");
  return path;
}

/**
 * The file's content without its `content_sha256`, after checking it: a file whose content no
 * longer matches the hash written with it is a KitError naming it. Files written before the
 * hash (none there) are read as they are.
 */
function unsealed(json: unknown, path: string): unknown {
  if (typeof json !== "object" || json === null || !("content_sha256" in json)) return json;
  const { content_sha256, ...content } = json as Record<string, unknown>;
  if (sha256Hex(JSON.stringify(content)) !== content_sha256) {
    throw new KitError(
      `${path}: damaged (its outcomes do not match the content_sha256 written with them)`,
      ["rerun the notebook that writes it (`./kit task reproduce`); claims are not judged from it"],
    );
  }
  return content;
}

/** Reads `<artifactDir>/items/<id>.json`: null when absent; a KitError when invalid. */
export async function readItemOutcomes(
  artifactDir: string,
  id: string,
): Promise<ItemOutcomes | null> {
  const path = itemOutcomesPath(artifactDir, id);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new KitError(`${path}: cannot read (${err instanceof Error ? err.message : err})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KitError(`${path}: not valid JSON (${err instanceof Error ? err.message : err})`);
  }
  return checkItemOutcomes(expandStoredForm(unsealed(json, path), path), path);
}

/**
 * The file form: series may name a shared `layout` (units and strata) instead of carrying it, and
 * a series whose values are all 0, ½ or 1 (K's bitext and XNLI outcomes, D's hits) stores them as
 * `halves`, one digit 0/1/2 (twice the value) per item, instead of `values`.
 */
interface StoredSeries extends Omit<ItemSeries, "units" | "strata" | "values"> {
  units?: number[];
  strata?: number[];
  layout?: string;
  values?: number[];
  halves?: string;
}

/** `values` as a string of digits 2·v when every value is 0, 0.5 or 1; else null. */
function halvesOf(values: readonly number[]): string | null {
  let out = "";
  for (const v of values) {
    if (v !== 0 && v !== 0.5 && v !== 1) return null;
    out += v === 0 ? "0" : v === 1 ? "2" : "1";
  }
  return out;
}

function valuesOfHalves(halves: unknown, at: string, path: string): number[] {
  if (typeof halves !== "string" || !/^[012]+$/.test(halves)) {
    throw new KitError(`${path}: ${at}.halves: expected a non-empty string of the digits 0, 1, 2`);
  }
  return Array.from(halves, (c) => (c.charCodeAt(0) - 48) / 2);
}

function storedForm(o: ItemOutcomes): Omit<ItemOutcomes, "series"> & {
  layouts: Record<string, { units?: number[]; strata?: number[] }>;
  series: StoredSeries[];
} {
  const layouts: Record<string, { units?: number[]; strata?: number[] }> = {};
  const bySig = new Map<string, string>();
  const series = o.series.map((full): StoredSeries => {
    const { values, ...other } = full;
    const halves = halvesOf(values);
    const s: StoredSeries = halves === null ? full : { ...other, halves };
    if (!s.units && !s.strata) return s;
    const { units, strata, ...rest } = s;
    const sig = `${units?.join(",") ?? "-"}|${strata?.join(",") ?? "-"}`;
    let name = bySig.get(sig);
    if (name === undefined) {
      name = `L${bySig.size}`;
      bySig.set(sig, name);
      layouts[name] = { ...(units ? { units } : {}), ...(strata ? { strata } : {}) };
    }
    return { ...rest, layout: name };
  });
  return { ...o, layouts, series };
}

function expandStoredForm(json: unknown, path: string): unknown {
  const o = json as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null || !Array.isArray(o.series)) return json;
  const layouts = (o.layouts === undefined ? {} : o.layouts) as Record<
    string,
    { units?: number[]; strata?: number[] }
  >;
  if (typeof layouts !== "object" || layouts === null) {
    throw new KitError(`${path}: "layouts": expected an object`);
  }
  const series = (o.series as StoredSeries[]).map((stored, i) => {
    if (typeof stored !== "object" || stored === null) return stored;
    let s = stored;
    if (s.halves !== undefined) {
      if (s.values !== undefined) {
        throw new KitError(`${path}: series[${i}]: expected "values" or "halves", not both`);
      }
      const { halves, ...other } = s;
      s = { ...other, values: valuesOfHalves(halves, `series[${i}]`, path) };
    }
    if (s.layout === undefined) return s;
    const l = layouts[s.layout];
    if (!l) throw new KitError(`${path}: series[${i}].layout: no layout "${s.layout}"`);
    const { layout: _, ...rest } = s;
    return {
      ...rest,
      ...(l.units ? { units: l.units } : {}),
      ...(l.strata ? { strata: l.strata } : {}),
    };
  });
  const { layouts: _l, ...rest } = o;
  return { ...rest, series };
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
