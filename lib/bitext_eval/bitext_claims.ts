import { K_SETUP_LABELS, type KSetupId } from "../encoders/encoder.ts";
import type { PairedBootstrapResult } from "../stats/mod.ts";
import type { KT1LangRow, KT1Row } from "./bitext_table.ts";
import { type ClaimCheck, formatPercent as pct } from "./claim_check.ts";

/** "Without hurting other languages much": a mean drop of at most 2 points (as lib/claims). */
export const NOT_MUCH_DROP = 0.02;

function cell(rows: readonly KT1Row[], setup: KSetupId, group: string): number | null {
  return rows.find((r) => r.setup === setup && r.group === group && r.score === "cosine")?.mean ??
    null;
}

const sig = (t: PairedBootstrapResult | undefined) =>
  t
    ? `paired bootstrap: Δ = ${
      (Math.abs(t.difference) < 5e-4 ? 0 : 100 * t.difference).toFixed(1)
    } points, 95% CI [${(100 * t.low).toFixed(1)}, ${(100 * t.high).toFixed(1)}], p = ${
      t.pValue.toFixed(3)
    }`
    : "";

function greater(
  id: string,
  claim: string,
  a: [string, number | null],
  b: [string, number | null],
  test?: PairedBootstrapResult,
): ClaimCheck {
  if (a[1] === null || b[1] === null) {
    return {
      id,
      claim,
      values: "—",
      verdict: "not measurable",
      note: "a setup or group is missing",
    };
  }
  return {
    id,
    claim,
    values: `${a[0]} ${pct(a[1])} vs ${b[0]} ${pct(b[1])}`,
    verdict: a[1] > b[1] ? "holds" : "does not hold",
    note: [`rule: ${a[0]} > ${b[0]} (cosine, mean of both directions)`, sig(test)].filter((s) => s)
      .join("; "),
  };
}

/**
 * Paper K's bitext claims (SPEC §1) decided on K-T1 / K-T1-LANGS rows: Eng-Only < Multilingual
 * < Eng-Pivot on all languages; + Quechua raises Quechua; and does not lower the other FLORES
 * languages' mean by more than {@link NOT_MUCH_DROP}. `tests` (paired bootstrap results by
 * claim id) are quoted beside the verdicts.
 */
export function bitextClaims(
  groupRows: readonly KT1Row[],
  langRows: readonly KT1LangRow[],
  tests: Readonly<Record<string, PairedBootstrapResult>> = {},
): ClaimCheck[] {
  const L = K_SETUP_LABELS;
  const out = [
    greater(
      "K1a",
      "Bitext: Eng-Only < Multilingual (all languages)",
      [L["multilingual"], cell(groupRows, "multilingual", "all")],
      [L["eng-only"], cell(groupRows, "eng-only", "all")],
      tests.K1a,
    ),
    greater(
      "K1b",
      "Bitext: Multilingual < Eng-Pivot (all languages)",
      [L["eng-pivot"], cell(groupRows, "eng-pivot", "all")],
      [L["multilingual"], cell(groupRows, "multilingual", "all")],
      tests.K1b,
    ),
    greater(
      "K2a",
      "Adding Quechua captions raises Quechua bitext accuracy",
      [L["multilingual-qu"], cell(groupRows, "multilingual-qu", "quechua")],
      [L["multilingual"], cell(groupRows, "multilingual", "quechua")],
      tests.K2a,
    ),
  ];
  const others = (setup: KSetupId) => {
    const xs = langRows.filter((r) =>
      r.setup === setup && r.score === "cosine" && r.benchmark === "flores" && !/^qu/.test(r.lang)
    );
    return xs.length === 0 ? null : xs.reduce((s, r) => s + r.mean, 0) / xs.length;
  };
  const w = others("multilingual-qu"), wo = others("multilingual");
  out.push(
    w === null || wo === null
      ? {
        id: "K2b",
        claim: "Adding Quechua does not hurt the other languages much",
        values: "—",
        verdict: "not measurable",
        note: "a setup is missing",
      }
      : {
        id: "K2b",
        claim: "Adding Quechua does not hurt the other languages much",
        values: `other FLORES languages: ${L["multilingual-qu"]} ${pct(w)} vs ${
          L["multilingual"]
        } ${pct(wo)}`,
        verdict: w - wo >= -NOT_MUCH_DROP ? "holds" : "does not hold",
        note: `rule: drop ≤ ${100 * NOT_MUCH_DROP} points (cosine, mean of both directions)`,
      },
  );
  return out;
}
