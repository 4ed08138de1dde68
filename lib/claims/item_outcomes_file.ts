import { join } from "node:path";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/sha256.ts";
import { KitError } from "../util/kit_error.ts";
import { checkItemOutcomes, type ItemOutcomes, type ItemSeries } from "./item_outcomes.ts";

/** The folder the outcomes files live in, inside an artifact folder. */
export const ITEMS_DIR = "items";

export function itemOutcomesPath(artifactDir: string, id: string): string {
  return join(artifactDir, ITEMS_DIR, `${id}.json`);
}

/**
 * Writes `<artifactDir>/items/<id>.json` atomically (checked first); returns its path.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readItemOutcomes, writeItemOutcomes } from "./item_outcomes_file.ts";
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
