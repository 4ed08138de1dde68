/**
 * Notebook 02 under the rehearsal (`--rehearse-k-steps`): the step cap's environment parsing and
 * arithmetic (unit tests with hand-computed values), and a tiny wiring run of 02 in its own
 * `reproduce` process — the ViT-B/16 and translations stand-ins (`tools/rehearsal_k_training.py`)
 * in the formats the paper path reads, K's four setups trained 1 step each at K's plan, 02's row
 * measured with the cap stated and an extrapolated time, the setups' folders written, the cap in
 * the models' cache key (a cached shortened model reused under the same cap only).
 */
import { withEnv } from "./helpers/with_env.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/backend/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import {
  appendKStepCapLog,
  cappedKSteps,
  extrapolatedKTrainingSeconds,
  kStepCapLine,
  type KStepCapLogEntry,
  kStepRate,
  readKStepCapLog,
  rehearsalKStepCap,
  runRehearsal,
} from "../lib/rehearsal/mod.ts";
import { kPaperSetupFingerprint, kStepCapTimes } from "../lib/k_finetune/k_paper_setups.ts";
import { paperKSetups } from "../lib/models/mod.ts";
import { readKTranslationsFile } from "../lib/k_finetune/k_translations_file.ts";

await initBackend("wasm");

Deno.test("KIT_REHEARSE_K_STEPS: unset or empty is no cap; a bad value or a missing log is a KitError", () => {
  assert.equal(rehearsalKStepCap({}), null);
  assert.equal(rehearsalKStepCap({ KIT_REHEARSE_K_STEPS: "" }), null);
  assert.deepEqual(
    rehearsalKStepCap({
      KIT_REHEARSE_K_STEPS: "3",
      KIT_REHEARSE_K_LOG: "/tmp/k.jsonl",
      KIT_REHEARSE_NOTEBOOK: "02_training",
    }),
    { steps: 3, log: "/tmp/k.jsonl", notebook: "02_training" },
  );
  for (const bad of ["0", "-1", "1.5", "abc", "2x", "1e3", " "]) {
    assert.throws(
      () => rehearsalKStepCap({ KIT_REHEARSE_K_STEPS: bad, KIT_REHEARSE_K_LOG: "/tmp/k" }),
      (e: unknown) =>
        e instanceof KitError && e.message.includes(`KIT_REHEARSE_K_STEPS=${bad}`) &&
        e.message.includes("positive integer"),
      bad,
    );
  }
  assert.throws(
    () => rehearsalKStepCap({ KIT_REHEARSE_K_STEPS: "2" }),
    (e: unknown) => e instanceof KitError && /KIT_REHEARSE_K_LOG is not/.test(e.message),
  );
  assert.match(kStepCapLine(2), /^K shortened to 2 steps a setup \(rehearsal/);
  assert.match(kStepCapLine(1), /^K shortened to 1 step a setup \(rehearsal/);
});

Deno.test("the cap keeps the plan's first steps and shrinks the frozen warm-up to half of them", () => {
  // K's plan over COCO's 118,287 train images: 3,697 batches an epoch × 10, 1,849 frozen
  assert.deepEqual(cappedKSteps({ steps: 36970, freezeSteps: 1849 }, 1), {
    steps: 1,
    freezeSteps: 0,
  });
  assert.deepEqual(cappedKSteps({ steps: 36970, freezeSteps: 1849 }, 5), {
    steps: 5,
    freezeSteps: 2,
  });
  assert.deepEqual(cappedKSteps({ steps: 10, freezeSteps: 2 }, 50), { steps: 10, freezeSteps: 2 });
});

Deno.test("the step cap's timings: steps end at the next event, validations and the checkpoint apart; the extrapolation prices the plan's rest", async () => {
  // steps 0 (frozen) and 1 (thawed) at ms 0 and 1000, validation 3000–3500, end 3700
  const t = kStepCapTimes(
    { steps: [{ step: 0, t: 0 }, { step: 1, t: 1000 }], validations: [{ t0: 3000, t1: 3500 }] },
    3700,
    1,
  );
  assert.deepEqual(t, {
    frozenSteps: 1,
    thawedSteps: 1,
    frozenSeconds: 1,
    thawedSeconds: 2,
    frozenStepSeconds: [1],
    thawedStepSeconds: [2],
    validations: 1,
    validationSeconds: 0.5,
    checkpoints: 1,
    checkpointSeconds: 0.2,
  });
  const e: KStepCapLogEntry = {
    notebook: "02_training",
    setup: "multilingual",
    ...t,
    plannedSteps: 100,
    plannedFrozenSteps: 10,
    plannedValidations: 4,
    plannedCheckpoints: 3,
  };
  // 9 frozen × 1 s + 89 thawed × 2 s + 3 validations × 0.5 s + 2 checkpoints × 0.2 s
  const x = extrapolatedKTrainingSeconds([e, { ...e, setup: "eng-pivot" }]);
  assert.ok(Math.abs(x.extraSeconds - 2 * (9 + 178 + 1.5 + 0.4)) < 1e-9, String(x.extraSeconds));
  assert.equal(x.steps, 4);
  assert.equal(x.plannedSteps, 200);
  // one kind of step measured: the other priced at its rate
  const only = extrapolatedKTrainingSeconds([{
    ...e,
    frozenSteps: 0,
    frozenSeconds: 0,
    thawedSteps: 1,
    thawedSeconds: 2,
  }]);
  assert.ok(Math.abs(only.extraSeconds - (10 * 2 + 89 * 2 + 1.5 + 0.4)) < 1e-9);
  // two thawed steps: the first (compiling) is left out of the rate
  const warm = extrapolatedKTrainingSeconds([{
    ...e,
    thawedSteps: 2,
    thawedSeconds: 7,
    thawedStepSeconds: [5, 2],
  }]);
  assert.ok(Math.abs(warm.extraSeconds - (9 + 88 * 2 + 1.5 + 0.4)) < 1e-9);
  assert.equal(kStepRate(7, 2, [5, 2]), 2);
  assert.equal(kStepRate(7, 2), 3.5, "no per-step times: the mean of all");
  assert.equal(kStepRate(0, 0), null);
  assert.throws(
    () => extrapolatedKTrainingSeconds([{ ...e, validations: 0 }]),
    (err: unknown) =>
      err instanceof KitError && /multilingual ran 2 steps and 0 validations/.test(err.message),
  );

  const dir = await Deno.makeTempDir();
  try {
    const log = join(dir, "k.jsonl");
    assert.deepEqual(await readKStepCapLog(log), [], "no log: no entries");
    await appendKStepCapLog(log, e);
    await Deno.writeTextFile(log, '{"setup": "x", "frozenSteps": -1}\n', { append: true });
    await assert.rejects(
      () => readKStepCapLog(log),
      (err: unknown) => err instanceof KitError && err.message.includes(`${log}:2:`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the cap is in a paper setup's fingerprint, and only when set", () => {
  const o = {
    setup: "multilingual" as const,
    base: { text: "t", image: "i" },
    dropout: { text: { hidden: 0.1, attention: 0.1 }, image: { hidden: 0, attention: 0 } },
    dropoutThroughout: false,
    onDevice: false,
    set: { train: [], val: [] },
  };
  const plain = kPaperSetupFingerprint({ ...o, rehearsalKSteps: null });
  const one = kPaperSetupFingerprint({ ...o, rehearsalKSteps: 1 });
  assert.notEqual(plain, one);
  assert.notEqual(one, kPaperSetupFingerprint({ ...o, rehearsalKSteps: 2 }));
  assert.equal(plain, kPaperSetupFingerprint({ ...o, rehearsalKSteps: null }), "deterministic");
});

Deno.test("--rehearse-k-steps 0 is a KitError before anything is made", async () => {
  await assert.rejects(
    () => runRehearsal({ scale: "tiny", only: ["02"], kSteps: 0, runDir: "/nonexistent/x" }),
    (e: unknown) =>
      e instanceof KitError && /--rehearse-k-steps 0: expected a positive integer/.test(e.message),
  );
});

Deno.test({
  name:
    "a tiny rehearsal of 02 with --rehearse-k-steps 1 trains K's four setups 1 step each in its own reproduce process, records 02 measured with the cap and an extrapolated time",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "rehearsal-02-" });
    try {
      const runDir = join(root, "run");
      const record = await runRehearsal({
        scale: "tiny",
        only: ["02"],
        standinRoot: root,
        runDir,
        kSteps: 1,
        backend: "wasm",
      });
      assert.equal(record.kSteps, 1);
      assert.equal(record.rows.length, 1);
      const row = record.rows[0]!;
      assert.equal(row.notebook, "02_training");
      assert.equal(row.status, "measured", `${row.note} (log ${row.log})`);
      assert.ok(row.seconds! > 0 && row.peakRssBytes! > 0);
      assert.match(row.shortened, /^TINY stand-ins .*K SHORTENED TO 1 STEP A SETUP/);
      const entries = await readKStepCapLog(row.kStepLog!);
      assert.deepEqual(
        entries.map((e) => e.setup).sort(),
        ["eng-only", "eng-pivot", "multilingual", "multilingual-qu"],
      );
      for (const e of entries) {
        assert.equal(e.notebook, "02_training");
        assert.equal(e.frozenSteps + e.thawedSteps, 1, e.setup);
        assert.equal(e.validations, 1, `${e.setup}: validated once after its step`);
        // the tiny COCO: 40 train images, one record each → 2 batches of 32 × 10 epochs
        assert.equal(e.plannedSteps, 20, e.setup);
      }
      assert.ok(row.extrapolatedSeconds! > row.seconds!, "19 more steps a setup extrapolated");
      assert.match(row.extrapolation!, /remaining steps \(76; 4 measured/);
      const md = await Deno.readTextFile(join(runDir, "rehearsal.md"));
      assert.match(md, /K shortened to 1 step a setup/);
      // the notebook's log (its progress lines reach it only on some runners: CI prints none)
      const log = await Deno.readTextFile(row.log!);
      assert.match(log, /02_training\.ipynb/);

      // the stand-ins: a ViT folder and a translations file over the tiny COCO's 50 images
      const vit = JSON.parse(await Deno.readTextFile(join(record.standins.vit!, "config.json")));
      assert.equal(vit.model_type, "vit");
      const lines = await readKTranslationsFile(record.standins.kTranslations!);
      assert.equal(lines.length, 50);
      assert.equal(new Set(lines.map((l) => l.image_id)).size, 50, "one line an image");
      for (const l of lines.slice(0, 5)) {
        assert.deepEqual(Object.keys(l.captions).sort(), ["en", "es", "hi", "ja", "qu"]);
        assert.match(l.captions.hi!, /[\u0900-\u097f]/);
        assert.match(l.captions.ja!, /[\u3040-\u309f]/);
      }

      // the trained setups: a folder each, 1 step, validated once; under the same cap the
      // cache is reused (same folders), under another cap other folders
      const env = {
        KIT_PROFILE: "paper",
        KIT_CACHE_DIR: join(runDir, "cache"),
        KIT_MODELS_DIR: join(runDir, "models"),
        KIT_K_TEXT_MODEL: join(runDir, "models", "FacebookAI", "xlm-roberta-large"),
        KIT_K_IMAGE_MODEL: join(runDir, "models", "google", "vit-base-patch16-224-in21k"),
        KIT_K_TRANSLATIONS: record.standins.kTranslations!,
        KIT_REHEARSE_K_LOG: join(root, "in-process.jsonl"),
      };
      const one = await withEnv(
        { ...env, KIT_REHEARSE_K_STEPS: "1" },
        () => paperKSetups({ smoke: false, quiet: true }),
      );
      assert.equal(one.rehearsalKSteps, 1);
      assert.deepEqual(await readKStepCapLog(env.KIT_REHEARSE_K_LOG), [], "loaded, not trained");
      const dirs = Object.values(one.models).map((m) => m.dir).sort();
      const made: string[] = [];
      for await (const d of Deno.readDir(join(runDir, "cache", "models"))) {
        if (d.name.startsWith("k-paper-")) made.push(join(runDir, "cache", "models", d.name));
      }
      assert.deepEqual(made.sort(), dirs, "the rehearsal's four setup folders, reused");
      for (const m of Object.values(one.models)) {
        assert.equal(one.plan.schedule.steps, 1, "the capped plan");
        assert.equal(m.training.lossHistory.length, 1, m.setup);
        assert.equal(m.training.valHistory.length, 1, m.setup);
        await Deno.stat(join(m.dir, "projection.safetensors"));
        await Deno.stat(join(m.dir, "model.safetensors"));
      }
      const two = await withEnv(
        { ...env, KIT_REHEARSE_K_STEPS: "2" },
        () => paperKSetups({ smoke: false, quiet: true }),
      );
      for (const s of Object.keys(one.models) as (keyof typeof one.models)[]) {
        assert.notEqual(two.models[s].dir, one.models[s].dir, `${s}: another cap, another key`);
        assert.equal(two.models[s].training.lossHistory.length, 2, s);
      }
      const twoLog = await readKStepCapLog(env.KIT_REHEARSE_K_LOG);
      assert.equal(twoLog.length, 4);
      assert.ok(twoLog.every((e) => e.frozenSteps === 1 && e.thawedSteps === 1));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
