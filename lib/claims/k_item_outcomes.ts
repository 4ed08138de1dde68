import type { BitextLanguageResult } from "../bitext_eval/bitext_evaluation.ts";
import { BITEXT_SCORES, bothDirectionsCorrect } from "../bitext_eval/bitext_table.ts";
import type { NliLanguageResult } from "../xnli/nli_evaluation.ts";
import { KitError } from "../util/kit_error.ts";
import type { ItemOutcomes, ItemSeries, UnitSpace } from "./item_outcomes.ts";

const isIdentity = (units: ArrayLike<number>, n: number) =>
  units.length === n && Array.prototype.every.call(units, (u: number, i: number) => u === i);

function addSpace(
  spaces: Record<string, UnitSpace>,
  name: string,
  units: number,
  unit: string,
): void {
  const s = spaces[name];
  if (s && s.units !== units) {
    throw new KitError(
      `item outcomes: ${name} has ${s.units} units in one result, ${units} in another`,
    );
  }
  spaces[name] = { units, unit };
}

/**
 * K-T1's per-item outcomes (`items/K-T1.json`): for every setup, benchmark language and score, the
 * per-sentence mean of both directions (0, ½ or 1, as K-T1's bootstrap resamples them), keyed
 * `{ setup, benchmark, lang, score }`, with the language's K-T1 groups and its sentence units.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitextItemOutcomes } from "./k_item_outcomes.ts";
 * assert(bitextItemOutcomes({}).series.length === 0);
 * ```
 */
export function bitextItemOutcomes(
  bySetup: Readonly<Record<string, readonly BitextLanguageResult[]>>,
): ItemOutcomes {
  const spaces: Record<string, UnitSpace> = {};
  const series: ItemSeries[] = [];
  for (const [setup, results] of Object.entries(bySetup)) {
    for (const r of results) {
      addSpace(
        spaces,
        r.benchmark,
        r.benchmarkUnits,
        r.benchmark === "in-domain" ? "held-out concept name" : `${r.benchmark} sentence`,
      );
      for (const score of BITEXT_SCORES) {
        series.push({
          key: { setup, benchmark: r.benchmark, lang: r.lang, score },
          groups: [...r.groups],
          space: r.benchmark,
          ...(isIdentity(r.units, r.benchmarkUnits) ? {} : { units: Array.from(r.units) }),
          values: Array.from(bothDirectionsCorrect(r, score)),
        });
      }
    }
  }
  return {
    id: "K-T1",
    description:
      "Per-sentence bitext retrieval outcome against English: mean of eng→x and x→eng correctness (0, 0.5, 1)",
    spaces,
    series,
  };
}

/**
 * K-T2's per-item outcomes (`items/K-T2.json`): for every setup, dataset and language, 1/0 per
 * test pair (prediction right or wrong), keyed `{ setup, dataset, lang }`; XNLI's parallel pairs
 * share units across languages, so one resample draws the same pairs in every language.
 */
export function nliItemOutcomes(
  bySetup: Readonly<Record<string, readonly NliLanguageResult[]>>,
): ItemOutcomes {
  const spaces: Record<string, UnitSpace> = {};
  const series: ItemSeries[] = [];
  for (const [setup, results] of Object.entries(bySetup)) {
    for (const r of results) {
      addSpace(spaces, r.dataset, r.datasetUnits, `${r.dataset} test pair`);
      series.push({
        key: { setup, dataset: r.dataset, lang: r.lang },
        space: r.dataset,
        ...(isIdentity(r.units, r.datasetUnits) ? {} : { units: Array.from(r.units) }),
        values: Array.from(r.correct),
      });
    }
  }
  return {
    id: "K-T2",
    description: "Per-test-pair NLI outcome of the English-trained probe: 1 = right, 0 = wrong",
    spaces,
    series,
  };
}
