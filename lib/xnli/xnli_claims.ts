import { type ClaimCheck, formatPercent as pct } from "../bitext_eval/claim_check.ts";
import { K_SETUP_LABELS, K_SETUPS, type KSetupId } from "../encoders/encoder.ts";
import type { PairedBootstrapResult } from "../stats/mod.ts";
import type { KT2Row } from "./xnli_table.ts";

const sig = (t: PairedBootstrapResult | undefined) =>
  t
    ? `paired bootstrap: Δ = ${
      (Math.abs(t.difference) < 5e-4 ? 0 : 100 * t.difference).toFixed(1)
    } points, 95% CI [${(100 * t.low).toFixed(1)}, ${(100 * t.high).toFixed(1)}], p = ${
      t.pValue.toFixed(3)
    }`
    : "";

/**
 * Paper K's XNLI claims (SPEC §1) on K-T2 rows: the image-tuned models (Eng-Only,
 * Multilingual, Multilingual + Quechua) beat untuned XLM-R on the XNLI average, and Eng-Pivot
 * is the best setup. `tests` (paired bootstrap results by claim id) are quoted beside them.
 */
export function xnliClaims(
  rows: readonly KT2Row[],
  tests: Readonly<Record<string, PairedBootstrapResult>> = {},
): ClaimCheck[] {
  const avg = (s: KSetupId) =>
    rows.find((r) => r.setup === s && r.dataset === "xnli" && r.lang === "avg")?.accuracy ?? null;
  const L = K_SETUP_LABELS;
  const out: ClaimCheck[] = (["eng-only", "multilingual", "multilingual-qu"] as const).map(
    (s, i) => {
      const id = `K3${"abc"[i]}`, claim = `XNLI: ${L[s]} beats untuned XLM-R (average)`;
      const a = avg(s), b = avg("xlmr");
      if (a === null || b === null) {
        return { id, claim, values: "—", verdict: "not measurable", note: "a setup is missing" };
      }
      return {
        id,
        claim,
        values: `${L[s]} ${pct(a)} vs XLM-R ${pct(b)}`,
        verdict: a > b ? "holds" : "does not hold",
        note: [`rule: ${L[s]} > XLM-R`, sig(tests[id])].filter((x) => x).join("; "),
      };
    },
  );
  const present = K_SETUPS.filter((s) => avg(s) !== null);
  const best = avg("eng-pivot");
  if (best === null || present.length < 2) {
    out.push({
      id: "K4",
      claim: "XNLI: Eng-Pivot is the best setup (average)",
      values: "—",
      verdict: "not measurable",
      note: "setups missing",
    });
  } else {
    const others = present.filter((s) => s !== "eng-pivot");
    const top = others.reduce((m, s) => (avg(s)! > avg(m)! ? s : m), others[0]!);
    out.push({
      id: "K4",
      claim: "XNLI: Eng-Pivot is the best setup (average)",
      values: `Eng-Pivot ${pct(best)}; best other: ${L[top]} ${pct(avg(top)!)}`,
      verdict: others.every((s) => best > avg(s)!) ? "holds" : "does not hold",
      note: "rule: Eng-Pivot above every other setup",
    });
  }
  return out;
}
