/**
 * The notebooks' "try it" experiments: their default rows equal what the notebooks' own
 * pipelines compute (runImagePivotCv for D's head, K-T1-LANGS rows for bitext retrieval).
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import {
  bitextLanguageRows,
  bitextScoreTryIt,
  evaluateBitext,
  floresBenchmarkFrom,
} from "../lib/bitext_eval/mod.ts";
import type { KSetupId, SentenceEncoder } from "../lib/encoders/encoder.ts";
import {
  alignmentEmbeddings,
  headTrainingTryIt,
  headVariantLabel,
  runImagePivotCv,
} from "../lib/image_pivot/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { kPlanWithSteps, MINI_TRAINING_PLAN } from "../lib/models/mod.ts";
import { plantedModalityGapEmbeddings } from "./helpers/planted_embeddings.ts";
import {
  hashedNgramEncoder,
  identicalEncoder,
  independentEncoder,
} from "./helpers/test_encoders.ts";

const tiny = { epochs: 2, stepsPerEpoch: 3, batchPerLang: 8, warmupSteps: 1 };

function plantedEmbeddings() {
  const p = plantedModalityGapEmbeddings({ n: 60, d: 16, langs: ["en", "de", "ja"], seed: 5 });
  return alignmentEmbeddings(p.images, p.textByLang);
}

Deno.test("headTrainingTryIt() default row equals runImagePivotCv()'s fold-1 linear head; an unchanged variant equals it too", async () => {
  await initBackend("wasm");
  const emb = plantedEmbeddings();
  const t = await headTrainingTryIt(emb, {
    variants: [
      { label: "same", train: {} },
      { label: "all langs", trainLangs: ["en", "de", "ja"] },
      { label: "τ = 0.5", train: { temperature: 0.5 } },
    ],
    base: tiny,
  });
  const cv = await runImagePivotCv(emb, {
    heads: ["linear"],
    train: tiny,
    diagnostics: false,
    progress: false,
  });
  const fold0 = cv.results.find((r) => r.fold === 0 && r.head === "linear")!;
  assert.deepEqual(t.rows.map((r) => r.variant), ["default (D)", "same", "all langs", "τ = 0.5"]);
  assert.equal(t.rows[0]!.t2i_r1, fold0.evaluation.t2iMacro.r1);
  assert.equal(t.rows[0]!.i2t_r1, fold0.evaluation.i2tMacro.r1);
  assert.equal(t.rows[0]!.best_epoch, fold0.training!.bestEpoch + 1);
  for (const i of [1, 2]) {
    for (const c of ["t2i_r1", "i2t_r1", "best_epoch", "temperature", "lambda_prox"]) {
      assert.equal(t.rows[i]![c], t.rows[0]![c], `${t.rows[i]!.variant} ${c}`);
    }
  }
  assert.equal(t.rows[0]!.temperature, 0.07);
  assert.equal(t.rows[3]!.temperature, 0.5);
  assert.ok(t.markdown.includes("| default (D) |"));
  assert.ok(t.seconds > 0);
});

Deno.test("headTrainingTryIt() leaves a language out of training, still evaluates it, and rejects unknown languages", async () => {
  await initBackend("wasm");
  const emb = plantedEmbeddings();
  const t = await headTrainingTryIt(emb, {
    variants: [{ label: "without ja", trainLangs: ["en", "de"] }],
    focusLangs: ["ja"],
    base: tiny,
  });
  assert.deepEqual(t.columns.filter((c) => c.startsWith("t2i")), ["t2i_r1", "t2i_r1_ja"]);
  assert.equal(t.rows[1]!.train_langs, "all but ja");
  assert.equal(t.rows[0]!.train_langs, "all");
  for (const r of t.rows) {
    assert.ok(typeof r.t2i_r1_ja === "number" && r.t2i_r1_ja >= 0 && r.t2i_r1_ja <= 1);
  }
  await assert.rejects(
    headTrainingTryIt(emb, { variants: [], focusLangs: ["qu"], base: tiny }),
    (e: unknown) => e instanceof KitError && /focus language "qu"/.test(e.message),
  );
  await assert.rejects(
    headTrainingTryIt(emb, { variants: [{ label: "x", trainLangs: ["xx"] }], base: tiny }),
    (e: unknown) => e instanceof KitError && /trainLangs xx/.test(e.message),
  );
  await assert.rejects(
    headTrainingTryIt(emb, { variants: [], evalFolds: [5], base: tiny }),
    (e: unknown) => e instanceof KitError && /fold 5/.test(e.message),
  );
});

Deno.test("headTrainingTryIt(): labels follow the values, chance and the default's interval beside each row, one reading per variant", async () => {
  await initBackend("wasm");
  const emb = plantedEmbeddings();
  const t = await headTrainingTryIt(emb, {
    variants: [{ train: { temperature: 0.5 } }, { trainLangs: ["en", "de"] }],
    focusLangs: ["ja"],
    base: tiny,
  });
  assert.deepEqual(t.rows.map((r) => r.variant), ["default (D)", "τ = 0.5", "without ja"]);
  assert.equal(
    headVariantLabel({ train: { lambdaProx: 0, epochs: 3 } }, emb.langs),
    "prox λ = 0, epochs = 3",
  );
  // Fold 1 of 5 over 60 items: 12 holdout images to choose from.
  assert.equal(t.chance, 1 / 12);
  const d = t.rows[0]!;
  assert.ok(
    t.defaultInterval.low <= (d.t2i_r1 as number) && (d.t2i_r1 as number) <= t.defaultInterval.high,
  );
  for (const r of t.rows) {
    assert.equal(r.chance, 1 / 12);
    assert.equal(
      r.default_95ci,
      `${t.defaultInterval.low.toFixed(3)}–${t.defaultInterval.high.toFixed(3)}`,
    );
    assert.match(String(r.default_95ci_ja), /^\d\.\d{3}–\d\.\d{3}$/);
  }
  // default + (macro + ja) per variant
  assert.equal(t.readings.length, 1 + 2 * 2);
  assert.match(t.readings[0]!, /^default \(D\): t2i R@1 \d\.\d{3} \(95% interval .*× chance/);
  for (const line of t.readings.slice(1)) {
    assert.match(
      line,
      /is (inside|above|below) the default's 95% interval .*(no difference|beyond noise)/,
    );
  }
  const r1 = t.rows[1]!.t2i_r1 as number;
  const where = r1 < t.defaultInterval.low
    ? "below"
    : r1 > t.defaultInterval.high
    ? "above"
    : "inside";
  assert.ok(
    t.readings[1]!.startsWith(`τ = 0.5: t2i R@1 ${r1.toFixed(3)} is ${where}`),
    t.readings[1]!,
  );
  assert.ok(t.markdown.includes(t.readings[1]!));
});

function benchmark(n: number) {
  const langs = ["eng_Latn", "quy_Latn", "spa_Latn"];
  const sentences: Record<string, string[]> = {};
  for (const l of langs) {
    sentences[l] = Array.from({ length: n }, (_, i) => `${l}:${i} sentence number ${i}`);
  }
  return floresBenchmarkFrom({
    languages: langs,
    ids: sentences.eng_Latn!.map((_, i) => String(i)),
    sentences,
  }, "synthetic");
}

Deno.test("bitextScoreTryIt() rows are that language's K-T1-LANGS rows, one column per score, beside each other", async () => {
  const bench = benchmark(24);
  const encoders: Partial<Record<KSetupId, SentenceEncoder>> = {
    xlmr: independentEncoder(16, 1),
    multilingual: identicalEncoder(16, (t) => t.split(":")[1]!.split(" ")[0]!),
    "eng-only": hashedNgramEncoder(32),
  };
  const boot = { seed: 2025, resamples: 50 };
  const t = await bitextScoreTryIt(encoders, bench, {
    lang: "quy_Latn",
    setups: ["xlmr", "multilingual", "eng-only"],
    boot,
  });
  assert.equal(t.rows.length, 3);
  for (const row of t.rows) {
    const setup = row.setup as KSetupId;
    // Oracle: the K-T1-LANGS rows of the whole benchmark, filtered to the language.
    const full = bitextLanguageRows(setup, await evaluateBitext(encoders[setup]!, bench), boot)
      .filter((r) => r.lang === "quy_Latn");
    assert.ok(full.length >= 2);
    for (const r of full) {
      assert.equal(row[String(r.score)], r.mean, `${setup} ${r.score}`);
      assert.equal(row[`${r.score}_ci`], `${r.ci_low.toFixed(3)}–${r.ci_high.toFixed(3)}`);
    }
    assert.equal(row[`${full[1]!.score}_minus_${full[0]!.score}`], full[1]!.mean - full[0]!.mean);
    assert.equal(row.n, 24);
  }
  assert.equal(
    t.rows[1]![String(t.columns[4])],
    1,
    "identical embeddings retrieve every translation",
  );
  assert.equal(t.chance, 1 / 24);
  for (const row of t.rows) assert.equal(row.chance, 1 / 24);
  assert.equal(t.readings.length, 3, "one reading per setup (one score besides cosine)");
  for (const line of t.readings) {
    assert.match(
      line,
      /^(xlmr|multilingual|eng-only): \w+ \d\.\d{3} is (inside|above|below) cosine's 95% interval/,
    );
  }
  await assert.rejects(
    bitextScoreTryIt(encoders, bench, { lang: "deu_Latn", setups: ["xlmr"] }),
    (e: unknown) => e instanceof KitError && /"deu_Latn" is not in/.test(e.message),
  );
  await assert.rejects(
    bitextScoreTryIt(encoders, bench, { lang: "quy_Latn", setups: ["eng-pivot"] }),
    (e: unknown) => e instanceof KitError && /no encoder for setup "eng-pivot"/.test(e.message),
  );
});

Deno.test("kPlanWithSteps() scales the warm-up and frozen-tower steps with the steps and rejects nonsense", () => {
  const plan = MINI_TRAINING_PLAN.k;
  const p = kPlanWithSteps(plan, 30);
  assert.equal(p.schedule.steps, 30);
  assert.equal(p.freezeSteps, Math.round(plan.freezeSteps * 30 / plan.schedule.steps));
  assert.equal(p.schedule.warmupSteps, Math.max(1, Math.round(plan.schedule.warmupSteps / 10)));
  assert.equal(p.schedule.lr, plan.schedule.lr);
  assert.equal(p.schedule.seed, plan.schedule.seed);
  assert.deepEqual(kPlanWithSteps(plan, plan.schedule.steps), plan);
  for (const bad of [0, -3, 2.5]) {
    assert.throws(
      () => kPlanWithSteps(plan, bad),
      (e: unknown) => e instanceof KitError && /steps/.test(e.message),
    );
  }
});
