import { isAbsolute, relative } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";
import type { ArtifactStore, ArtifactTable } from "./artifact_store.ts";
import { type ClaimSpec, describeRule, type Locator } from "./claim_spec.ts";
import {
  bootstrapInterval,
  type ClaimedSide,
  describeSide,
  type IntervalVerdict,
  intervalVerdict,
  observedWeights,
  percentile,
  type WeightedStatistic,
} from "../stats/mod.ts";
import {
  type ItemOutcomes,
  type ItemSelector,
  type ReplicateSeries,
  replicateSeries,
} from "./item_outcomes.ts";
import { ITEMS_DIR } from "./item_outcomes_file.ts";
import { type SelectedStatistic, selectedStatistic } from "./item_statistics.ts";

/**
 * A claim's verdict, from the interval of the difference it rests on: it holds in this run, it
 * does not, the interval cannot tell (inconclusive), or this run's artifacts have no numbers or
 * per-item outcomes behind it (not measurable).
 */
export type Verdict = IntervalVerdict | "not measurable";

/** Every verdict, in the order the summaries count them. */
export const VERDICTS: readonly Verdict[] = [
  "holds",
  "does not hold",
  "inconclusive",
  "not measurable",
];

/** One row of the CLAIMS artifact (design: `{ id, paper, claim, values, verdict, note }`). */
export interface ClaimRow {
  [key: string]: string;
  id: string;
  paper: string;
  claim: string;
  values: string;
  verdict: Verdict;
  note: string;
}

/** Thrown inside an evaluator when the artifacts cannot tell (missing artifact, row or value). */
class NotMeasurable extends Error {}

/** A number as printed in the values column: 4 decimals below 10, 2 above. */
export function formatClaimNumber(x: number, signed = false): string {
  const s = x.toFixed(Math.abs(x) >= 10 ? 2 : 4);
  return signed && x >= 0 ? `+${s}` : s;
}

const whereText = (where: Readonly<Record<string, string>>) =>
  Object.entries(where).map(([k, v]) => `${k}=${v}`).join(", ");

function table(store: ArtifactStore, id: string): ArtifactTable {
  const t = store.get(id);
  if (!t) {
    throw new NotMeasurable(`artifact ${id} is missing (no ${id}.json in ${shownDir(store.dir)})`);
  }
  return t;
}

function matching(
  t: ArtifactTable,
  where: Readonly<Record<string, string>>,
): Record<string, unknown>[] {
  return t.rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));
}

function numberField(
  t: ArtifactTable,
  row: Record<string, unknown>,
  field: string,
  at: string,
): number {
  if (!(field in row)) {
    throw new KitError(`${t.path}: row ${at}: no field "${field}" (see the artifact schema)`);
  }
  const x = row[field];
  if (x === null) throw new NotMeasurable(`${t.id} row ${at}: "${field}" is empty`);
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new KitError(
      `${t.path}: row ${at}: "${field}" expected a number, got ${JSON.stringify(x)}`,
    );
  }
  return x;
}

/** The number a locator points at (NotMeasurable when the artifact or row is missing). */
function locate(store: ArtifactStore, loc: Locator): number {
  const t = table(store, loc.artifact);
  const hits = matching(t, loc.where);
  const at = whereText(loc.where);
  if (hits.length === 0) throw new NotMeasurable(`${loc.artifact} has no row with ${at}`);
  if (hits.length > 1) {
    throw new KitError(`${t.path}: ${hits.length} rows with ${at}; expected one`);
  }
  return numberField(t, hits[0]!, loc.field, at);
}

/** How the claims' intervals are drawn: resamples, seed and coverage. */
export interface ClaimBootstrap {
  seed: number;
  resamples: number;
  level: number;
}

/** The claims' default bootstrap: 1000 resamples, seed 2025, 95 % percentile interval. */
export const CLAIM_BOOTSTRAP: ClaimBootstrap = { seed: 2025, resamples: 1000, level: 0.95 };

function statisticOf(
  store: ArtifactStore,
  sel: ItemSelector | undefined,
  label: string,
): SelectedStatistic {
  if (!sel) {
    throw new NotMeasurable(
      `no per-item outcomes behind ${label}, so no interval (a verdict needs one)`,
    );
  }
  const s = selectedStatistic(itemsOf(store, sel), sel);
  if (!s) {
    throw new NotMeasurable(
      `${ITEMS_DIR}/${sel.items}.json has no series with ${whereText(sel.where)}${
        sel.group ? ` in group ${sel.group}` : ""
      }`,
    );
  }
  return s;
}

/** The per-item outcomes file a selector reads (NotMeasurable when the run wrote none). */
function itemsOf(store: ArtifactStore, sel: ItemSelector): ItemOutcomes {
  const o = store.items(sel.items);
  if (!o) {
    throw new NotMeasurable(
      `the per-item outcomes ${ITEMS_DIR}/${sel.items}.json are missing in ${
        shownDir(store.dir)
      } (the notebook that writes the artifact writes them; rerun it)`,
    );
  }
  return o;
}

/** The note's sentence on where the interval lies relative to the claimed side. */
function whereTheIntervalLies(verdict: IntervalVerdict, side: ClaimedSide, level: number): string {
  const pct = `${+(100 * level).toFixed(2)}%`;
  return verdict === "holds"
    ? `the ${pct} interval lies entirely on the claimed side (${describeSide(side)})`
    : verdict === "does not hold"
    ? `the ${pct} interval lies entirely on the other side of ${describeSide(side)}`
    : `the ${pct} interval straddles the claimed bound (${describeSide(side)})`;
}

function checkPaired(stats: readonly SelectedStatistic[], sels: readonly ItemSelector[]): void {
  const s0 = stats[0]!;
  stats.forEach((s, i) => {
    if (s.space !== s0.space || s.units !== s0.units || sels[i]!.items !== sels[0]!.items) {
      throw new KitError(
        `${ITEMS_DIR}/${sels[i]!.items}.json: ${whereText(sels[i]!.where)} is on unit space ` +
          `${s.space} (${s.units} units), ${whereText(sels[0]!.where)} on ${s0.space} ` +
          `(${s0.units}); a paired bootstrap needs the same units`,
      );
    }
  });
}

/**
 * A table's number and the same statistic recomputed from its per-item outcomes must agree (to
 * rounding) where the number is that statistic: series without strata (K's tables are their
 * items' macro means). Stratified series (D: the table averages folds, the items pool the folds'
 * held-out items) have no such identity and are not compared. For a table a run wrote beside its
 * items (provenance `signature`) a gap is a KitError naming both files; for a hand-made table it
 * is returned as a note.
 */
function crossCheck(
  store: ArtifactStore,
  id: string,
  loc: Locator,
  fromTable: number,
  fromItems: number,
): string | null {
  if (Math.abs(fromTable - fromItems) <= 1e-9 * Math.max(1, Math.abs(fromTable))) return null;
  if (store.items(loc.items!.items)?.series.some((s) => s.strata !== undefined)) return null;
  const what =
    `${loc.label} is ${fromTable} in ${loc.artifact} but ${fromItems} from ${ITEMS_DIR}/${
      loc.items!.items
    }.json`;
  if (!table(store, loc.artifact).fromRun) return `note: ${what}`;
  throw new KitError(
    `claim ${id}: ${what}: the table and its per-item outcomes disagree`,
    ["one of the two files is damaged or from another run; rerun the notebook that writes them"],
  );
}

interface Measured {
  values: string;
  verdict: Verdict;
  detail?: string;
}

function decide(
  diff: WeightedStatistic,
  on: SelectedStatistic,
  side: ClaimedSide,
  boot: ClaimBootstrap,
): { estimate: number; low: number; high: number; verdict: IntervalVerdict; how: string } {
  const ci = bootstrapInterval(diff, on.units, boot);
  const verdict = intervalVerdict(ci.low, ci.high, side);
  const where = whereTheIntervalLies(verdict, side, boot.level);
  return {
    estimate: ci.estimate,
    low: ci.low,
    high: ci.high,
    verdict,
    how: `${where}; paired percentile bootstrap over ${on.units} ${on.unit}s (${ci.used} of ` +
      `${boot.resamples} resamples used, seed ${boot.seed})`,
  };
}

/** `+0.0320 [+0.0110, +0.0540]`: an estimate and its interval, signed. */
export function formatInterval(estimate: number, low: number, high: number): string {
  const f = (x: number) => formatClaimNumber(x, true);
  return `${f(estimate)} [${f(low)}, ${f(high)}]`;
}

function replicatesOf(store: ArtifactStore, sel: ItemSelector, label: string): ReplicateSeries {
  const r = replicateSeries(itemsOf(store, sel), sel.where);
  if (!r) {
    throw new NotMeasurable(
      `${ITEMS_DIR}/${sel.items}.json has no bootstrap replicates of ${label} (${
        whereText(sel.where)
      })`,
    );
  }
  return r;
}

/**
 * A `greater` claim on set statistics: the interval of a − b from replicates recomputed on the
 * same resamples (the first R of the claims' draws), the estimate from the artifact (D-T6).
 */
function decideFromReplicates(
  store: ArtifactStore,
  a: Locator,
  b: Locator,
  margin: number,
  boot: ClaimBootstrap,
): Measured {
  const f = formatClaimNumber;
  const va = locate(store, a), vb = locate(store, b);
  const ra = replicatesOf(store, a.items!, a.label), rb = replicatesOf(store, b.items!, b.label);
  const o = store.items(a.items!.items)!;
  const R = ra.values.length;
  if (ra.seed !== rb.seed || R !== rb.values.length || ra.space !== rb.space) {
    throw new KitError(
      `${ITEMS_DIR}/${
        a.items!.items
      }.json: the replicates of ${a.label} and ${b.label} differ in seed, count or unit space; a paired bootstrap needs the same resamples`,
    );
  }
  if (ra.seed !== boot.seed || R > boot.resamples) {
    throw new NotMeasurable(
      `the replicates of ${a.label} were drawn with seed ${ra.seed} (${R} resamples), the claims' bootstrap uses seed ${boot.seed} (${boot.resamples}); rerun the notebook`,
    );
  }
  const diffs: number[] = [];
  for (let i = 0; i < R; i++) {
    const x = ra.values[i], y = rb.values[i];
    if (x !== null && x !== undefined && y !== null && y !== undefined) diffs.push(x - y);
  }
  if (diffs.length === 0) {
    throw new NotMeasurable(
      `the replicates of ${a.label} − ${b.label} are undefined in every resample`,
    );
  }
  const al = (1 - boot.level) / 2;
  const low = percentile(diffs, 100 * al), high = percentile(diffs, 100 * (1 - al));
  const side: ClaimedSide = { kind: "above", threshold: margin };
  const verdict = intervalVerdict(low, high, side);
  const where = whereTheIntervalLies(verdict, side, boot.level);
  const space = o.spaces[ra.space]!;
  const est = va - vb;
  const bias = diffs.reduce((acc, x) => acc + x, 0) / diffs.length - est;
  const outside = est < low || est > high
    ? `; the estimate lies outside its interval: the resamples' duplicated items shift the difference`
    : "";
  return {
    values: `${a.label} = ${f(va)}; ${b.label} = ${f(vb)}; difference ${
      formatInterval(est, low, high)
    }`,
    verdict,
    detail: `${where}; paired percentile bootstrap over ${space.units} ${space.unit}s with the ` +
      `set statistic recomputed on each resample (each fold's drawn holdout items with their ` +
      `multiplicities; Gram pairs of two copies of one item left out; a resample holds ≈ 63 % ` +
      `distinct items, so its effective rank sits below the observed one; the interval is of the ` +
      `paired difference), the first ${R} of ` +
      `the ${boot.resamples} resamples (seed ${ra.seed}; ${diffs.length} used); estimate from ${a.artifact}; ` +
      `bootstrap bias of the difference (mean of the resamples' differences − estimate) ${
        formatClaimNumber(bias, true)
      }${outside}`,
  };
}

function evaluate(store: ArtifactStore, spec: ClaimSpec, boot: ClaimBootstrap): Measured {
  const t = spec.test;
  const f = formatClaimNumber;
  switch (t.kind) {
    case "greater":
    case "flatOrDown":
    case "aboutSame": {
      if (t.kind === "greater" && t.a.items?.reduce === "replicates") {
        if (t.b.items?.reduce !== "replicates") {
          throw new KitError(`claim ${spec.id}: both sides must be "replicates" selectors`);
        }
        return decideFromReplicates(store, t.a, t.b, t.margin, boot);
      }
      const ta = locate(store, t.a), tb = locate(store, t.b);
      const sa = statisticOf(store, t.a.items, t.a.label);
      const sb = statisticOf(store, t.b.items, t.b.label);
      checkPaired([sa, sb], [t.a.items!, t.b.items!]);
      const w0 = observedWeights(sa.units);
      const a = sa.statistic(w0), b = sb.statistic(w0);
      const gaps = [crossCheck(store, spec.id, t.a, ta, a), crossCheck(store, spec.id, t.b, tb, b)]
        .filter((x): x is string => x !== null);
      let side: ClaimedSide;
      if (t.kind === "greater") side = { kind: "above", threshold: t.margin };
      else if (t.kind === "flatOrDown") side = { kind: "atMost", threshold: t.flat };
      else {
        const margins = [
          ...(t.relative !== undefined ? [t.relative * Math.abs(b)] : []),
          ...(t.absolute !== undefined ? [t.absolute] : []),
        ];
        if (margins.length === 0) {
          throw new KitError(`claim ${spec.id}: "aboutSame" needs a relative or absolute margin`);
        }
        side = { kind: "within", margin: +Math.min(...margins).toPrecision(6) };
      }
      const r = decide((w) => sa.statistic(w) - sb.statistic(w), sa, side, boot);
      const rel = t.kind === "aboutSame" && t.relative !== undefined && b !== 0
        ? ` (${r.estimate >= 0 ? "+" : ""}${((100 * r.estimate) / Math.abs(b)).toFixed(1)}%)`
        : "";
      return {
        values: `${t.a.label} = ${f(a)}; ${t.b.label} = ${f(b)}; difference ${
          formatInterval(r.estimate, r.low, r.high)
        }${rel}`,
        verdict: r.verdict,
        detail: [r.how, ...gaps].join("; "),
      };
    }
    case "allPositive": {
      const tab = table(store, t.artifact);
      if (tab.rows.length < t.minRows) {
        throw new NotMeasurable(
          `${t.artifact} has ${tab.rows.length} row(s); at least ${t.minRows} needed`,
        );
      }
      const keys = tab.rows.map((r, i) => {
        const key = r[t.key];
        if (typeof key !== "string") {
          throw new KitError(`${tab.path}: rows[${i}].${t.key}: expected a string`);
        }
        numberField(tab, r, t.field, `${t.key}=${key}`);
        return key;
      });
      if (!t.items) statisticOf(store, undefined, t.label);
      const narrow = (s: ItemSelector, key: string): ItemSelector => ({
        ...s,
        where: { ...s.where, [t.key]: key },
      });
      const pairs = keys.map((key) => {
        const sels = [narrow(t.items!.a, key), narrow(t.items!.b, key)];
        const st = sels.map((s) => statisticOf(store, s, `${t.label} (${t.key}=${key})`));
        return { key, st, sels };
      });
      checkPaired(pairs.flatMap((p) => p.st), pairs.flatMap((p) => p.sels));
      const w0 = observedWeights(pairs[0]!.st[0]!.units);
      const gains = pairs.map((p) => ({
        key: p.key,
        x: p.st[0]!.statistic(w0) - p.st[1]!.statistic(w0),
      }));
      const minGain = (w: Int32Array) => {
        let m = Infinity;
        for (const p of pairs) {
          const x = p.st[0]!.statistic(w) - p.st[1]!.statistic(w);
          if (Number.isNaN(x)) return NaN;
          if (x < m) m = x;
        }
        return m;
      };
      const r = decide(minGain, pairs[0]!.st[0]!, { kind: "above", threshold: 0 }, boot);
      const min = gains.reduce((m, p) => (p.x < m.x ? p : m));
      const failing = gains.filter((p) => !(p.x > 0)).map((p) => p.key);
      return {
        values: `${t.label}: ${gains.map((p) => `${p.key} ${f(p.x, true)}`).join(", ")}; ` +
          `smallest (${min.key}) ${formatInterval(r.estimate, r.low, r.high)}`,
        verdict: r.verdict,
        detail: [r.how, failing.length ? `not raised on: ${failing.join(", ")}` : ""]
          .filter(Boolean).join("; "),
      };
    }
    case "greatest": {
      const tab = table(store, t.artifact);
      const rows = matching(tab, t.where);
      const ids: string[] = [];
      for (const r of rows) {
        const id = r[t.vary];
        if (typeof id !== "string") {
          throw new KitError(`${tab.path}: a row's "${t.vary}" is not a string`);
        }
        if (ids.includes(id)) {
          throw new KitError(`${tab.path}: two rows with ${t.vary}=${id}, ${whereText(t.where)}`);
        }
        numberField(tab, r, t.field, `${t.vary}=${id}, ${whereText(t.where)}`);
        ids.push(id);
      }
      if (!ids.includes(t.best)) {
        throw new NotMeasurable(
          `${t.artifact} has no row with ${t.vary}=${t.best}, ${whereText(t.where)}`,
        );
      }
      const others = ids.filter((k) => k !== t.best);
      if (others.length === 0) {
        throw new NotMeasurable(`${t.artifact} has no other ${t.vary} to compare with`);
      }
      const sels = [t.best, ...others].map((id): ItemSelector | undefined =>
        t.items && { ...t.items, where: { ...t.items.where, [t.vary]: id } }
      );
      const st = sels.map((s, i) =>
        statisticOf(store, s, `${t.label} of ${[t.best, ...others][i]}`)
      );
      checkPaired(st, sels as ItemSelector[]);
      const w0 = observedWeights(st[0]!.units);
      const est = st.map((s) => s.statistic(w0));
      const margin = (w: Int32Array) => {
        let m = -Infinity;
        for (let i = 1; i < st.length; i++) m = Math.max(m, st[i]!.statistic(w));
        return st[0]!.statistic(w) - m;
      };
      const r = decide(margin, st[0]!, { kind: "above", threshold: 0 }, boot);
      let top = 1;
      for (let i = 2; i < est.length; i++) if (est[i]! > est[top]!) top = i;
      const beaten = others.filter((_, i) => !(est[0]! > est[i + 1]!));
      return {
        values:
          `${t.label}: ${[t.best, ...others].map((k, i) => `${k} ${f(est[i]!)}`).join(", ")}; ` +
          `${t.best} − best other (${others[top - 1]}) ${
            formatInterval(r.estimate, r.low, r.high)
          }`,
        verdict: r.verdict,
        detail: [r.how, beaten.length ? `${t.best} is not above: ${beaten.join(", ")}` : ""]
          .filter(Boolean).join("; "),
      };
    }
    case "otherLanguagesNotHurt": {
      table(store, t.artifact);
      const sel = (setup: string): ItemSelector | undefined =>
        t.items && {
          ...t.items,
          where: { ...t.items.where, [t.setupField]: setup },
          exclude: { field: t.langField, pattern: t.exclude },
        };
      const sw = statisticOf(store, sel(t.with), `${t.with} (non-Quechua languages)`);
      const so = statisticOf(store, sel(t.without), `${t.without} (non-Quechua languages)`);
      checkPaired([sw, so], [sel(t.with)!, sel(t.without)!]);
      const w0 = observedWeights(sw.units);
      const a = sw.statistic(w0), b = so.statistic(w0);
      const r = decide(
        (w) => sw.statistic(w) - so.statistic(w),
        sw,
        { kind: "atLeast", threshold: -t.maxDrop },
        boot,
      );
      return {
        values:
          `${t.field} averaged over ${sw.series} non-Quechua languages: ${t.without} ${f(b)}, ` +
          `${t.with} ${f(a)}; difference ${formatInterval(r.estimate, r.low, r.high)}`,
        verdict: r.verdict,
        detail: r.how,
      };
    }
  }
}

/**
 * Decides one claim from the loaded artifacts. A missing artifact, row or empty value gives
 * "not measurable" with the reason in the note; an invalid artifact throws a KitError (a failure
 * of the kit, not of the claim).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArtifactStore } from "./artifact_store.ts";
 * import { CLAIMS } from "./claim_list.ts";
 * import { evaluateClaim } from "./evaluate_claim.ts";
 * const store = await ArtifactStore.load(await Deno.makeTempDir(), ["K-T1"]);
 * assert(evaluateClaim(store, CLAIMS[0]!).verdict === "not measurable");
 * ```
 */
export function evaluateClaim(
  store: ArtifactStore,
  spec: ClaimSpec,
  boot: ClaimBootstrap = CLAIM_BOOTSTRAP,
): ClaimRow {
  const rule = describeRule(spec);
  const base = { id: spec.id, paper: spec.paper, claim: spec.claim };
  try {
    const r = evaluate(store, spec, boot);
    return {
      ...base,
      values: r.values,
      verdict: r.verdict,
      note: [rule, r.detail].filter(Boolean).join("; "),
    };
  } catch (err) {
    if (err instanceof NotMeasurable) {
      return {
        ...base,
        values: `not available: ${err.message}`,
        verdict: "not measurable",
        note: `${rule}; not measurable in this run: ${err.message}`,
      };
    }
    throw err;
  }
}

/** A folder as the CLAIMS table shows it: relative to the project when inside it (no user paths). */
function shownDir(dir: string): string {
  const rel = relative(PROJECT_ROOT, dir);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? dir : rel;
}
