import { type DisplayTable, displayTable } from "../artifacts/display_table.ts";
import type { Row } from "../artifacts/table_render.ts";
import { K_SETUP_LABELS } from "../encoders/encoder.ts";
import { rankOfTruth } from "../retrieval/rank.ts";
import { cosineSimilarityMatrix } from "../retrieval/similarity.ts";
import { bootstrapInterval } from "../stats/bootstrap_interval.ts";
import { weightedMeanStatistic } from "../stats/weighted_mean.ts";
import { KitError } from "../util/kit_error.ts";
import type { KCaptionLang } from "./k_caption_records.ts";
import { heldOutRecords, kProjectImages, kProjectTexts } from "./k_report.ts";
import { isTextOnlySetup, type KTrainedSetup } from "./k_training_set.ts";
import { type KFineTunePlan } from "./k_setup_loop.ts";
import { type KSetupModel } from "./k_setup_model.ts";
import { trainKSetup } from "./k_setup_training.ts";
import type { MiniKSetups } from "../models/mini_models.ts";

/** Options of {@link kTrainingTryIt}. */
export interface KTrainingTryItOptions {
  /** The image-tuned setup to retrain (default `eng-only`). */
  setup?: KTrainedSetup;
  /** Training steps of each variant (the default run's steps are always the first row). */
  steps: readonly number[];
  /** Caption language of the held-out queries (default `en`). */
  lang?: KCaptionLang;
}

/** The experiment's table and what it took. */
export interface KTrainingTryItResult extends DisplayTable {
  seconds: number;
  /** The default run's 95 % bootstrap interval of MRR over the held-out queries. */
  defaultInterval: { low: number; high: number };
  /** MRR of a random ranking of the n candidates: (1 + 1/2 + … + 1/n) / n. */
  chance: number;
  readings: string[];
}

/** K's fine-tuning plan with `steps` steps; warm-up and frozen-tower steps scale with it. */
export function kPlanWithSteps(plan: KFineTunePlan, steps: number): KFineTunePlan {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new KitError(`try it: steps ${steps}: expected a whole number of training steps ≥ 1`);
  }
  const scale = steps / plan.schedule.steps;
  return {
    ...plan,
    freezeSteps: Math.round(plan.freezeSteps * scale),
    schedule: {
      ...plan.schedule,
      steps,
      warmupSteps: Math.max(1, Math.round(plan.schedule.warmupSteps * scale)),
    },
  };
}

/**
 * A small experiment on paper K's training for students: retrains one image-tuned mini setup
 * with other numbers of steps (each cached like the notebook's models, so a rerun is instant)
 * and compares text→image retrieval on the held-out (test) images — one per concept, queried
 * by their captions in `lang` — with the default run: MRR (more sensitive than R@1 near chance),
 * R@10, the chance level of both, the default's 95 % bootstrap interval over the queries, and
 * one sentence reading each variant against it.
 *
 * ```ts ignore
 * // ignored by `deno test --doc`: it trains the mini models (minutes)
 * import assert from "node:assert/strict";
 * import { kTrainingTryIt, miniKSetups } from "../models/mod.ts";
 * const t = await kTrainingTryIt(await miniKSetups(), { steps: [30] });
 * assert.equal(t.rows.length, 2); // the default run and the 30-step variant
 * assert.equal(t.readings.length, 2); // one sentence on each
 * ```
 */
export async function kTrainingTryIt(
  k: MiniKSetups,
  opts: KTrainingTryItOptions,
): Promise<KTrainingTryItResult> {
  const t0 = performance.now();
  const setup = opts.setup ?? "eng-only";
  const lang = opts.lang ?? "en";
  if (isTextOnlySetup(setup)) {
    throw new KitError(`try it: ${setup} is text only (no image space to retrieve in)`, [
      "choose eng-only, multilingual or multilingual-qu",
    ]);
  }
  const plan = k.base.plan.k;
  const byKey = new Map(k.base.samples.map((s) => [s.key, s]));
  const recs = heldOutRecords(k, "test").filter((r) => r.captions[lang]);
  if (recs.length < 2) throw new KitError(`try it: no held-out captions in "${lang}"`);
  const n = recs.length;
  const evaluate = async (m: KSetupModel) => {
    const images = await kProjectImages(m, recs.map((r) => byKey.get(r.image_id)!.png));
    const text = await kProjectTexts(m, recs.map((r) => r.captions[lang]!));
    const ranks = rankOfTruth(await cosineSimilarityMatrix(text, images), n, n);
    return Array.from(ranks, (r) => 1 / (r + 1));
  };
  const runs: { label: string; steps: number; rr: number[]; seconds: number }[] = [];
  runs.push({
    label: `default (${plan.schedule.steps} steps)`,
    steps: plan.schedule.steps,
    rr: await evaluate(k.models[setup]),
    seconds: k.models[setup].training.seconds,
  });
  for (const steps of opts.steps) {
    const m = await trainKSetup({
      setup,
      records: k.captions.records,
      samples: k.base.samples,
      textBase: k.base.text,
      imageBase: k.base.image,
      plan: kPlanWithSteps(plan, steps),
      quiet: true,
    });
    try {
      runs.push({
        label: `${steps} steps`,
        steps,
        rr: await evaluate(m),
        seconds: m.training.seconds,
      });
    } finally {
      m.dispose();
    }
  }
  const boot = { seed: 2025, resamples: 1000 };
  const ci = bootstrapInterval(weightedMeanStatistic(runs[0]!.rr), n, boot);
  const defaultInterval = { low: ci.low, high: ci.high };
  let harmonic = 0;
  for (let i = 1; i <= n; i++) harmonic += 1 / i;
  const chance = harmonic / n;
  const f = (x: number) => x.toFixed(3);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows: Row[] = runs.map((r) => ({
    variant: r.label,
    steps: r.steps,
    mrr: mean(r.rr),
    default_95ci: `${f(ci.low)}–${f(ci.high)}`,
    chance_mrr: chance,
    r10: r.rr.filter((x) => x >= 0.1).length / n,
    chance_r10: Math.min(1, 10 / n),
    train_seconds: Math.round(r.seconds),
  }));
  const readings = [
    `${rows[0]!.variant}: MRR ${f(rows[0]!.mrr as number)} (95% interval ${f(ci.low)}–${
      f(ci.high)
    }), ${((rows[0]!.mrr as number) / chance).toFixed(1)}× chance (${f(chance)}).`,
    ...rows.slice(1).map((r) => {
      const v = r.mrr as number;
      const where = v < ci.low ? "below" : v > ci.high ? "above" : "inside";
      return `${r.variant}: MRR ${f(v)} is ${where} the default's 95% interval${
        where === "inside"
          ? ": no difference beyond noise"
          : `: ${where === "above" ? "better" : "worse"} beyond noise`
      }.`;
    }),
  ];
  const seconds = (performance.now() - t0) / 1000;
  const table = displayTable(
    `Try it: ${K_SETUP_LABELS[setup]} trained for ${runs.map((r) => r.steps).join(" vs ")} steps`,
    ["variant", "steps", "mrr", "default_95ci", "chance_mrr", "r10", "chance_r10", "train_seconds"],
    rows,
    { mrr: 3, chance_mrr: 3, r10: 3, chance_r10: 3 },
    [
      ...readings,
      `text→image retrieval on the ${n} held-out (test) images with a caption in ${lang}, one per ` +
      `concept (as K-RET); MRR = mean of 1/rank; interval: 95% bootstrap over the queries (seed ${boot.seed}); ` +
      `the first ${
        Math.round(plan.freezeSteps / plan.schedule.steps * 100)
      }% of each run's steps train the projections only`,
      `${seconds.toFixed(1)} s (models cached: a rerun only evaluates)`,
    ],
  );
  return Object.assign(table, { seconds, defaultInterval, chance, readings });
}
