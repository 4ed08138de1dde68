import { isAbsolute, relative } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";
import type { ArtifactStore, ArtifactTable } from "./artifact_store.ts";
import { type ClaimSpec, describeRule, type Locator } from "./claim_spec.ts";

/** A claim's verdict: it holds in this run, it does not, or this run's artifacts cannot tell. */
export type Verdict = "holds" | "does not hold" | "not measurable";

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

function evaluate(
  store: ArtifactStore,
  spec: ClaimSpec,
): { values: string; verdict: Verdict; detail?: string } {
  const t = spec.test;
  const f = formatClaimNumber;
  switch (t.kind) {
    case "greater":
    case "flatOrDown":
    case "aboutSame": {
      const a = locate(store, t.a);
      const b = locate(store, t.b);
      const d = a - b;
      const values = `${t.a.label} = ${f(a)}; ${t.b.label} = ${f(b)}; difference ${f(d, true)}`;
      let ok: boolean;
      if (t.kind === "greater") ok = d > t.margin;
      else if (t.kind === "flatOrDown") ok = d <= t.flat;
      else {
        ok = (t.relative === undefined || Math.abs(d) <= t.relative * Math.abs(b)) &&
          (t.absolute === undefined || Math.abs(d) <= t.absolute);
        if (t.relative !== undefined && b !== 0) {
          return {
            values: `${values} (${d >= 0 ? "+" : ""}${((100 * d) / Math.abs(b)).toFixed(1)}%)`,
            verdict: ok ? "holds" : "does not hold",
          };
        }
      }
      return { values, verdict: ok ? "holds" : "does not hold" };
    }
    case "allPositive": {
      const tab = table(store, t.artifact);
      if (tab.rows.length < t.minRows) {
        throw new NotMeasurable(
          `${t.artifact} has ${tab.rows.length} row(s); at least ${t.minRows} needed`,
        );
      }
      const parts = tab.rows.map((r, i) => {
        const key = r[t.key];
        if (typeof key !== "string") {
          throw new KitError(`${tab.path}: rows[${i}].${t.key}: expected a string`);
        }
        return { key, x: numberField(tab, r, t.field, `${t.key}=${key}`) };
      });
      const failing = parts.filter((p) => !(p.x > 0)).map((p) => p.key);
      const min = parts.reduce((m, p) => (p.x < m.x ? p : m));
      return {
        values: `${t.field}: ${
          parts.map((p) => `${p.key} ${f(p.x, true)}`).join(", ")
        } (min ${min.key} ${f(min.x, true)})`,
        verdict: failing.length === 0 ? "holds" : "does not hold",
        detail: failing.length === 0 ? undefined : `not raised on: ${failing.join(", ")}`,
      };
    }
    case "greatest": {
      const tab = table(store, t.artifact);
      const rows = matching(tab, t.where);
      const bySetup = new Map<string, number>();
      for (const r of rows) {
        const id = r[t.vary];
        if (typeof id !== "string") {
          throw new KitError(`${tab.path}: a row's "${t.vary}" is not a string`);
        }
        if (bySetup.has(id)) {
          throw new KitError(`${tab.path}: two rows with ${t.vary}=${id}, ${whereText(t.where)}`);
        }
        bySetup.set(id, numberField(tab, r, t.field, `${t.vary}=${id}, ${whereText(t.where)}`));
      }
      const best = bySetup.get(t.best);
      if (best === undefined) {
        throw new NotMeasurable(
          `${t.artifact} has no row with ${t.vary}=${t.best}, ${whereText(t.where)}`,
        );
      }
      const others = [...bySetup].filter(([k]) => k !== t.best);
      if (others.length === 0) {
        throw new NotMeasurable(`${t.artifact} has no other ${t.vary} to compare with`);
      }
      const beaten = others.filter(([, x]) => !(best > x)).map(([k]) => k);
      return {
        values: `${t.label}: ${[...bySetup].map(([k, x]) => `${k} ${f(x)}`).join(", ")}`,
        verdict: beaten.length === 0 ? "holds" : "does not hold",
        detail: beaten.length === 0 ? undefined : `${t.best} is not above: ${beaten.join(", ")}`,
      };
    }
    case "otherLanguagesNotHurt": {
      const langs = store.get(t.artifact);
      let a: number, b: number, what: string;
      if (langs) {
        const re = new RegExp(t.exclude);
        const meanOf = (setup: string): { mean: number; n: number } => {
          const rows = matching(langs, { ...t.where, [t.setupField]: setup }).filter((r) => {
            const lang = r[t.langField];
            if (typeof lang !== "string") {
              throw new KitError(`${langs.path}: a row's "${t.langField}" is not a string`);
            }
            return !re.test(lang);
          });
          if (rows.length === 0) {
            throw new NotMeasurable(
              `${t.artifact} has no non-Quechua rows for ${t.setupField}=${setup}`,
            );
          }
          const xs = rows.map((r) =>
            numberField(
              langs,
              r,
              t.field,
              `${t.setupField}=${setup}, ${t.langField}=${r[t.langField]}`,
            )
          );
          return { mean: xs.reduce((s, x) => s + x, 0) / xs.length, n: xs.length };
        };
        const ma = meanOf(t.with), mb = meanOf(t.without);
        a = ma.mean;
        b = mb.mean;
        what = `${t.artifact}, mean over ${ma.n} non-Quechua languages`;
      } else {
        const loc = (setup: string): Locator => ({
          artifact: t.fallback.artifact,
          where: { ...t.fallback.where, [t.setupField]: setup },
          field: t.field,
          label: setup,
        });
        a = locate(store, loc(t.with));
        b = locate(store, loc(t.without));
        what = `${t.fallback.artifact} ${whereText(t.fallback.where)} (${t.artifact} missing)`;
      }
      const d = a - b;
      return {
        values: `${what}: ${t.without} ${f(b)}, ${t.with} ${f(a)}; difference ${f(d, true)}`,
        verdict: d >= -t.maxDrop ? "holds" : "does not hold",
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
 * import { ArtifactStore } from "./artifact_store.ts";
 * import { CLAIMS } from "./claim_list.ts";
 * import { evaluateClaim } from "./evaluate_claim.ts";
 * const store = await ArtifactStore.load(await Deno.makeTempDir(), ["K-T1"]);
 * console.assert(evaluateClaim(store, CLAIMS[0]!).verdict === "not measurable");
 * ```
 */
export function evaluateClaim(store: ArtifactStore, spec: ClaimSpec): ClaimRow {
  const rule = describeRule(spec);
  const base = { id: spec.id, paper: spec.paper, claim: spec.claim };
  try {
    const r = evaluate(store, spec);
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
