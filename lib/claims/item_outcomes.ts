import { join } from "node:path";
import { macroMeanStatistic, type WeightedStatistic } from "../stats/mod.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
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
  (x.series as unknown[]).forEach((s, i) => {
    const at = `series[${i}]`;
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
  return x as unknown as ItemOutcomes;
}

/**
 * Writes `<artifactDir>/items/<id>.json` atomically (checked first); returns its path.
 *
 * ```ts
 * import { readItemOutcomes, writeItemOutcomes } from "./item_outcomes.ts";
 * const dir = await Deno.makeTempDir();
 * await writeItemOutcomes(dir, { id: "X", description: "toy", spaces: { s: { units: 2, unit: "item" } },
 *   series: [{ key: { setup: "a" }, space: "s", values: [1, 0] }] });
 * console.assert((await readItemOutcomes(dir, "X"))!.series.length === 1);
 * ```
 */
export async function writeItemOutcomes(artifactDir: string, o: ItemOutcomes): Promise<string> {
  const path = itemOutcomesPath(artifactDir, o.id);
  checkItemOutcomes(o, path);
  await Deno.mkdir(join(artifactDir, ITEMS_DIR), { recursive: true });
  await atomicWriteJson(path, o);
  return path;
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
  return checkItemOutcomes(json, path);
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
  return {
    statistic: pooledMacroMean(picked),
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
