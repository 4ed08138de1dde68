import { type DisplayTable, displayTable } from "../artifacts/display_table.ts";
import type { Row } from "../artifacts/table_render.ts";
import type { KSetupId, SentenceEncoder } from "../encoders/encoder.ts";
import type { BootstrapOptions } from "../stats/mod.ts";
import { KitError } from "../util/kit_error.ts";
import type { BitextBenchmark } from "./bitext_benchmark.ts";
import { evaluateBitext } from "./bitext_evaluation.ts";
import { bitextLanguageRows } from "./bitext_table.ts";

/** Options of {@link bitextScoreTryIt}. */
export interface BitextTryItOptions {
  /** The language to retrieve against English (a code of `bench.sets`, e.g. `quy_Latn`). */
  lang: string;
  /** Setups to compare (each needs an encoder). */
  setups: readonly KSetupId[];
  /** Bootstrap of the interval (as K-T1: seed 2025, 1000 resamples). */
  boot?: BootstrapOptions;
}

/** The experiment's table (one row per setup, one column group per score) and what it took. */
export interface BitextTryItResult extends DisplayTable {
  seconds: number;
  /** Accuracy of guessing: 1 / the number of candidate sentences. */
  chance: number;
  /** One sentence per setup reading each other score against the first score's interval. */
  readings: string[];
}

/**
 * A small experiment on paper K's bitext retrieval for students: one language against English,
 * with each chosen setup's encoder, scored by every score K-T1 reports (plain cosine nearest
 * neighbour, K's default, and the margin score) — the same numbers as that language's K-T1-LANGS
 * rows, computed by the same functions (`evaluateBitext`, `bitextLanguageRows`) — side by side,
 * with the change from the first score.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitextScoreTryIt } from "./bitext_try_it.ts";
 * import { rowMatrix } from "../retrieval/row_matrix.ts";
 * // a toy encoder: letter counts, so a sentence and its copy are nearest neighbours
 * const letters = {
 *   id: "toy/letters",
 *   dim: 26,
 *   embed: (texts: readonly string[]) => {
 *     const d = new Float32Array(texts.length * 26);
 *     texts.forEach((t, i) => {
 *       for (const ch of t) if (ch >= "a" && ch <= "z") d[i * 26 + ch.charCodeAt(0) - 97]! += 1;
 *     });
 *     return Promise.resolve(rowMatrix(d, texts.length, 26));
 *   },
 *   dispose: () => {},
 * };
 * const pivot = ["a cat", "the dog", "red car", "sun up", "blue sea", "old hill"];
 * const bench = {
 *   name: "toy",
 *   description: "six sentences and their copies",
 *   pivotLang: "en",
 *   pivot,
 *   inputs: {},
 *   sets: [{ lang: "xx", texts: [...pivot], units: Int32Array.from(pivot.keys()), groups: ["all"] }],
 * };
 * const t = await bitextScoreTryIt({ xlmr: letters }, bench, {
 *   lang: "xx",
 *   setups: ["xlmr"],
 *   boot: { seed: 1, resamples: 50 },
 * });
 * assert.equal(t.rows.length, 1);
 * assert.equal(t.chance, 1 / 6);
 * assert.equal(t.rows[0]!.cosine, 1); // every copy found (in a notebook: Deno.jupyter.display(t))
 * ```
 */
export async function bitextScoreTryIt(
  encoders: Partial<Record<KSetupId, SentenceEncoder>>,
  bench: BitextBenchmark,
  opts: BitextTryItOptions,
): Promise<BitextTryItResult> {
  const t0 = performance.now();
  const set = bench.sets.find((s) => s.lang === opts.lang);
  if (!set) {
    throw new KitError(
      `try it: language "${opts.lang}" is not in the ${bench.name} benchmark; expected one of ${
        bench.sets.map((s) => s.lang).join(" ")
      }`,
    );
  }
  const boot = opts.boot ?? { seed: 2025, resamples: 1000 };
  const one: BitextBenchmark = { ...bench, sets: [set] };
  const rows: Row[] = [];
  const readings: string[] = [];
  const chance = 1 / set.texts.length;
  let scores: string[] = [];
  for (const setup of opts.setups) {
    const enc = encoders[setup];
    if (!enc) {
      throw new KitError(
        `try it: no encoder for setup "${setup}"; expected one of ${
          Object.keys(encoders).join(" ")
        }`,
      );
    }
    const langRows = bitextLanguageRows(setup, await evaluateBitext(enc, one), boot);
    scores = [...new Set(langRows.map((r) => String(r.score)))];
    const row: Row = { setup, lang: set.lang, n: set.texts.length, chance };
    for (const r of langRows) {
      row[`${r.score}`] = r.mean;
      row[`${r.score}_ci`] = `${r.ci_low.toFixed(3)}–${r.ci_high.toFixed(3)}`;
    }
    const first = langRows[0]!;
    for (const r of langRows.slice(1)) row[`${r.score}_minus_${first.score}`] = r.mean - first.mean;
    rows.push(row);
    const f = (x: number) => x.toFixed(3);
    for (const r of langRows.slice(1)) {
      const where = r.mean < first.ci_low ? "below" : r.mean > first.ci_high ? "above" : "inside";
      readings.push(
        `${setup}: ${r.score} ${f(r.mean)} is ${where} ${first.score}'s 95% interval ${
          f(first.ci_low)
        }–${f(first.ci_high)}${
          where === "inside"
            ? ": no difference beyond noise"
            : `: ${where === "above" ? "better" : "worse"} beyond noise`
        } (chance ${f(chance)}, ${first.score} at ${(first.mean / chance).toFixed(1)}× chance).`,
      );
    }
  }
  const diffs = scores.slice(1).map((s) => `${s}_minus_${scores[0]}`);
  const columns = [
    "setup",
    "lang",
    "n",
    "chance",
    ...scores.flatMap((s) => [s, `${s}_ci`]),
    ...diffs,
  ];
  const formats = Object.fromEntries([...scores, ...diffs, "chance"].map((c) => [c, 3]));
  const seconds = (performance.now() - t0) / 1000;
  const table = displayTable(
    `Try it: bitext retrieval of ${set.lang} against English, ${scores.join(" vs ")}`,
    columns,
    rows,
    formats,
    [
      ...readings,
      `accuracy = mean of eng→x and x→eng (fractions) over ${set.texts.length} ${bench.name} sentences; ` +
      `95% bootstrap interval (seed ${boot.seed}, ${boot.resamples} resamples); ${
        scores[0]
      } is K's default; chance = 1 / ${set.texts.length} candidates`,
      `${seconds.toFixed(1)} s`,
    ],
  );
  return Object.assign(table, { seconds, chance, readings });
}
