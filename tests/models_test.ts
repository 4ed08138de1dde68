import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { dataRegistry } from "../lib/data/registry.ts";
import { loadSib200 } from "../lib/sources/sib200.ts";
import { loadXnliXtreme } from "../lib/sources/xnli.ts";
import { ParameterSet } from "../lib/encoders/parameter_set.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { dMiniItems, readSampleIndex } from "../lib/dataset_build/mod.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import { VitEncoder } from "../lib/encoders/vit_encoder.ts";
import { linear } from "../lib/encoders/transformer_ops.ts";
import { pivotTextCrossEntropy } from "../lib/losses/mod.ts";
import { readEncoderConfig, type VitConfig } from "../lib/encoders/encoder_config.ts";
import { writeCaptionRecords } from "../lib/translation/caption_records.ts";
import {
  assignCaptionLanguages,
  buildPretrainingCorpus,
  clipTrainingImages,
  distillationPairs,
  humanCaptionRecords,
  imagePretrainingSet,
  K_SETUP_LANGUAGES,
  K_TRAINED_SETUPS,
  kBatchTexts,
  type KCaptionRecord,
  kHeadSpecs,
  kProjectTexts,
  kRecordIds,
  kStepItems,
  kTrainingSet,
  loadClipSpacePair,
  loadKSetupEncoders,
  loadStampSamples,
  loadTrainedTextEncoder,
  type MaskedLmPlan,
  MINI_CORPUS_LIMITS,
  miniKSetups,
  MiniSentenceEncoder,
  moduleGrads,
  type PretrainingCorpus,
  pretrainMaskedLm,
  runResumableTraining,
  type TrainingSchedule,
  trainKSetup,
} from "../lib/models/mod.ts";

await initBackend("wasm");

const SENTENCES = [
  "A red car.",
  "A small dog.",
  "Un coche rojo.",
  "Un perro pequeño.",
  "赤い車",
  "小さい犬",
  "लाल कार",
  "छोटा कुत्ता",
  "Puka awto.",
  "Huch'uy allqu.",
  "A big red bus.",
  "Un autobús grande.",
];

function tinyCorpus(): PretrainingCorpus {
  return {
    sentences: SENTENCES.map((text, i) => ({
      text,
      lang: ["en", "es", "ja", "hi", "quy", "en"][i % 6]!,
      source: "test",
    })),
    stampKeys: [],
    emojiConcepts: [],
    counts: { test: { sentences: SENTENCES.length, languages: 5 } },
    fingerprint: "tiny-test-corpus",
  };
}

function tinySchedule(steps: number, o: Partial<TrainingSchedule> = {}): TrainingSchedule {
  return {
    steps,
    lr: 3e-3,
    warmupSteps: 1,
    finalLrFraction: 0.1,
    maxGradNorm: 1,
    weightDecay: 0.01,
    seed: 3,
    evalEvery: 0,
    checkpointEvery: 2,
    ...o,
  };
}

const tinyPlan = (steps: number): MaskedLmPlan => ({
  config: "tiny-xlmr",
  vocabSize: 60,
  maxLength: 10,
  batchSize: 4,
  maskRate: 0.3,
  schedule: tinySchedule(steps),
});

async function withCacheDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kit-models-test-" });
  const old = Deno.env.get("KIT_CACHE_DIR");
  Deno.env.set("KIT_CACHE_DIR", dir);
  try {
    return await f(dir);
  } finally {
    if (old === undefined) Deno.env.delete("KIT_CACHE_DIR");
    else Deno.env.set("KIT_CACHE_DIR", old);
  }
}

Deno.test("pretrainMaskedLm() stopped midway resumes from its checkpoint on the identical loss trajectory", async () => {
  await withCacheDir(async () => {
    const corpus = tinyCorpus();
    const full = await pretrainMaskedLm(corpus, tinyPlan(6), { quiet: true, name: "full" });
    const stopped = await pretrainMaskedLm(corpus, tinyPlan(6), {
      quiet: true,
      name: "resumed",
      stopAfterSteps: 3,
    });
    assert.equal(stopped.training.lossHistory.length, 3);
    stopped.model.dispose();
    const resumed = await pretrainMaskedLm(corpus, tinyPlan(6), { quiet: true, name: "resumed" });
    assert.deepEqual(resumed.training.lossHistory, full.training.lossHistory);
    for (const n of full.model.params.names) {
      assert.deepEqual(resumed.model.params.values[n], full.model.params.values[n], n);
    }
    // a finished model comes back from its cache folder without training
    const again = await pretrainMaskedLm(corpus, tinyPlan(6), { quiet: true, name: "full" });
    assert.equal(again.dir, full.dir);
    assert.deepEqual(again.training.lossHistory, full.training.lossHistory);
    await assert.rejects(() => Deno.stat(join(full.dir, "checkpoint.safetensors")));
    for (const m of [full, resumed, again]) m.model.dispose();
  });
});

Deno.test("a trained text encoder saved and loaded back gives identical embeddings", async () => {
  await withCacheDir(async () => {
    const t = await pretrainMaskedLm(tinyCorpus(), tinyPlan(3), { quiet: true });
    const loaded = await loadTrainedTextEncoder(t.dir, t.maxLength, { lmHead: false });
    const a = new MiniSentenceEncoder({
      id: "a",
      model: t.model,
      tokenizer: t.tokenizer,
      maxLength: t.maxLength,
    });
    const b = new MiniSentenceEncoder({
      id: "b",
      model: loaded.model,
      tokenizer: loaded.tokenizer,
      maxLength: loaded.maxLength,
    });
    const ea = await a.embed(SENTENCES, "xx"), eb = await b.embed(SENTENCES, "xx");
    assert.deepEqual(eb.data, ea.data);
    assert.equal(ea.rows, SENTENCES.length);
    a.dispose();
    b.dispose();
    b.dispose(); // idempotent
  });
});

Deno.test("MiniSentenceEncoder.embed() keeps each text's row when it batches texts by length", async () => {
  await withCacheDir(async () => {
    const t = await pretrainMaskedLm(tinyCorpus(), tinyPlan(3), { quiet: true });
    const enc = new MiniSentenceEncoder({
      id: "m",
      model: t.model,
      tokenizer: t.tokenizer,
      maxLength: t.maxLength,
    });
    // long and short texts interleaved, more than one batch of 128
    const texts = Array.from(
      { length: 300 },
      (_, i) => SENTENCES[i % SENTENCES.length]!.repeat(1 + (i % 4)),
    );
    const batched = await enc.embed(texts, "xx");
    assert.equal(batched.rows, texts.length);
    for (const i of [0, 1, 2, 3, 13, 127, 128, 200, 299]) {
      const alone = await enc.embed([texts[i]!], "xx");
      const row = batched.data.subarray(i * enc.dim, (i + 1) * enc.dim);
      for (let c = 0; c < enc.dim; c++) {
        assert.ok(
          Math.abs(row[c]! - alone.data[c]!) < 1e-4,
          `text ${i}, column ${c}: ${row[c]} vs ${alone.data[c]}`,
        );
      }
    }
    enc.dispose();
  });
});

Deno.test("tf.memory().numTensors does not grow over training steps", async () => {
  const ps = new ParameterSet(
    [{ name: "w", shape: [8, 4], init: { kind: "normal", std: 0.1 } }],
    1,
  );
  const counts: number[] = [];
  const x = Float32Array.from({ length: 16 * 8 }, (_, i) => Math.sin(i));
  await runResumableTraining({
    label: "memory",
    quiet: true,
    checkpointPath: join(await Deno.makeTempDir(), "ck.safetensors"),
    fingerprint: "memory",
    schedule: tinySchedule(6, { checkpointEvery: 100 }),
    task: {
      modules: { m: ps },
      step: async () => {
        counts.push(tf.memory().numTensors);
        const r = await moduleGrads(
          { m: ps },
          [tf.tensor2d(x, [16, 8])],
          ([xi]) =>
            tf.mean(
              tf.square(tf.matMul(xi as tf.Tensor2D, ps.tensor("w") as tf.Tensor2D)),
            ) as tf.Scalar,
        );
        return { loss: r.loss, grads: r.grads };
      },
    },
  });
  assert.equal(new Set(counts).size, 1, `tensor counts per step: ${counts.join(" ")}`);
  ps.dispose();
});

/** Synthetic caption records: `n` images, some languages missing, a few images with two records. */
function syntheticRecords(n: number, partition: "train" | "val" = "train"): KCaptionRecord[] {
  const rng = new SeededRandom(5);
  const out: KCaptionRecord[] = [];
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < (i % 7 === 0 ? 2 : 1); r++) {
      const captions: KCaptionRecord["captions"] = { en: `dog ${i}.${r}` };
      for (const l of ["es", "ja", "hi", "qu"] as const) {
        if (rng.next() < 0.85) captions[l] = `${l} dog ${i}.${r}`;
      }
      out.push({ image_id: `img${i}`, partition, captions, origin: {} });
    }
  }
  return out;
}

Deno.test("over all epochs no caption record contributes two languages (Multilingual, +Quechua); every record is trained on once an epoch, the last partial batch included", () => {
  const records = syntheticRecords(90);
  for (const setup of ["multilingual", "multilingual-qu", "eng-only"] as const) {
    const set = kTrainingSet(records, setup, 7);
    const B = 8, per = Math.ceil(set.train.length / B), steps = 6 * per; // six epochs
    assert.notEqual(set.train.length % B, 0, "the fixture has a partial last batch");
    const seen = new Map<string, Set<string>>();
    for (let step = 0; step < steps; step++) {
      const items = kStepItems(set.train, B, 7, step);
      // drop_last=False: full batches, then the epoch's remainder
      const last = step % per === per - 1;
      assert.equal(items.length, last ? set.train.length - (per - 1) * B : B);
      if (step % per === 0) {
        const epoch = Array.from({ length: per }, (_, k) => kStepItems(set.train, B, 7, step + k));
        assert.deepEqual(
          epoch.flat().map((it) => it.id).sort(),
          set.train.map((it) => it.id).sort(),
          "each record exactly once an epoch",
        );
      }
      const bt = kBatchTexts(setup, items);
      bt.ids.forEach((id, t) => {
        const langs = seen.get(id) ?? new Set<string>();
        langs.add(bt.langs[t]!);
        seen.set(id, langs);
        assert.equal(
          bt.texts[t],
          set.train.find((it) => it.id === id)!.record.captions[bt.langs[t]!],
        );
      });
      assert.equal(bt.texts.length, items.length, "one caption per record per step");
    }
    assert.equal(seen.size, set.train.length, `${setup}: ${seen.size} records seen`);
    for (const [id, langs] of seen) {
      assert.equal(langs.size, 1, `${setup}: record ${id} seen in ${[...langs].join(", ")}`);
      assert.equal([...langs][0], set.assignment![id], `${setup}: ${id} off its assignment`);
    }
    // spread: counts of the setup's languages differ by little; an image's records differ
    const counts = Object.values(set.captionsPerLang) as number[];
    assert.equal(counts.length, K_SETUP_LANGUAGES[setup].image.length);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 2, `${setup}: ${counts.join(" ")}`);
    if (setup !== "eng-only") {
      for (let i = 0; i < 90; i += 7) {
        assert.notEqual(set.assignment![`img${i}`], set.assignment![`img${i}#1`], `img${i}`);
      }
    }
    // seeded and recorded: same seed, same assignment; another seed, another one
    assert.deepEqual(kTrainingSet(records, setup, 7).assignment, set.assignment);
    if (setup !== "eng-only") {
      assert.notDeepEqual(kTrainingSet(records, setup, 8).assignment, set.assignment);
    }
  }
});

Deno.test("assignCaptionLanguages() gives every record with a caption exactly one language it has", () => {
  const records = syntheticRecords(40);
  const a = assignCaptionLanguages(records, ["en", "es", "ja", "hi", "qu"], 3);
  assert.equal(a.byIndex.length, records.length);
  a.byIndex.forEach((l, i) => assert.ok(l !== null && records[i]!.captions[l], `record ${i}`));
  assert.deepEqual(kRecordIds(records).slice(0, 3), ["img0", "img0#1", "img1"]);
});

Deno.test("Eng-Pivot batches are text only: English block first, each es/ja/hi caption points at its English row", () => {
  const records = syntheticRecords(30);
  const set = kTrainingSet(records, "eng-pivot", 7);
  assert.equal(set.assignment, null);
  const items = kStepItems(set.train, 6, 7, 0);
  const bt = kBatchTexts("eng-pivot", items);
  assert.equal(bt.imageIdx.length, 0, "no image term");
  assert.equal(bt.nEnglish, 6);
  assert.deepEqual(bt.langs.slice(0, 6), Array(6).fill("en"));
  bt.enIdx.forEach((j, t) => {
    const row = bt.nEnglish + t;
    assert.notEqual(bt.langs[row], "en");
    assert.equal(bt.ids[row], bt.ids[j]);
  });
  assert.ok(!bt.langs.includes("qu"));
});

Deno.test({
  name:
    "an Eng-Pivot training run leaves every image-tower weight bit-identical and has no image term",
  sanitizeResources: false,
  fn: async () => {
    await withCacheDir(async () => {
      const textBase = await pretrainMaskedLm(tinyCorpus(), tinyPlan(2), { quiet: true });
      const vit = new VitEncoder(await readEncoderConfig("tiny-vit") as VitConfig);
      const before = Object.fromEntries(
        vit.params.names.map((n) => [n, vit.params.values[n]!.slice()]),
      );
      const imageBase = {
        dir: "/nonexistent/tiny-vit@0",
        model: vit,
        training: { ...textBase.training, name: "tiny-vit" },
      };
      const records = syntheticRecords(24);
      const val = syntheticRecords(8, "val").map((r) => ({ ...r, image_id: `v${r.image_id}` }));
      const plan = {
        projectionDim: 8,
        batchSize: 4,
        maxLength: 10,
        freezeSteps: 1,
        schedule: tinySchedule(4, { evalEvery: 2, weightDecay: 0 }),
      };
      // no stamp samples at all: Eng-Pivot must not need a single image
      const m = await trainKSetup({
        setup: "eng-pivot",
        records: [...records, ...val],
        samples: [],
        textBase,
        imageBase,
        plan,
        quiet: true,
      });
      for (const n of vit.params.names) {
        assert.deepEqual(m.image.params.values[n], before[n], `image tower weight ${n} changed`);
      }
      assert.equal((m.training.data as { imageTowerTrained: boolean }).imageTowerTrained, false);
      // the text tower did train
      const t0 = textBase.model.params.values, t1 = m.text.params.values;
      assert.ok(m.text.params.names.some((n) => t0[n]!.some((v, i) => v !== t1[n]![i])));
      // the run's first loss equals the text–text loss computed by hand (no image term added)
      const set = kTrainingSet([...records, ...val], "eng-pivot", plan.schedule.seed);
      const bt = kBatchTexts("eng-pivot", kStepItems(set.train, 4, plan.schedule.seed, 0));
      const head = new ParameterSet(kHeadSpecs(textBase.model.dim, vit.dim, 8), plan.schedule.seed);
      const tb = textBase.tokenizer.batch(bt.texts, plan.maxLength);
      const expected = tf.tidy(() => {
        const T = linear(
          textBase.model.embed(tb),
          head.tensor("text_projection.weight"),
          head.tensor("text_projection.bias"),
        );
        return pivotTextCrossEntropy(
          tf.slice(T, [bt.nEnglish, 0], [-1, -1]) as tf.Tensor2D,
          tf.slice(T, [0, 0], [bt.nEnglish, -1]) as tf.Tensor2D,
          head.tensor("logit_scale") as tf.Scalar,
          bt.enIdx,
        ).dataSync()[0]!;
      });
      head.dispose();
      assert.ok(
        Math.abs(m.training.lossHistory[0]! - expected) < 1e-4,
        `first loss ${m.training.lossHistory[0]} vs text-only ${expected}`,
      );
      assert.ok(m.training.bestStep > 0, "never the untrained step-0 model");
      m.dispose();
      vit.dispose();
      textBase.model.dispose();
    });
  },
});

Deno.test("training sets are clean: only train stamps, SIB-200 train/dev, no SIB test sentence, no XNLI text", async () => {
  const { samples } = await loadStampSamples({ smoke: false });
  const partition = new Map(samples.map((s) => [s.key, s.partition]));
  const corpus = await buildPretrainingCorpus(samples, MINI_CORPUS_LIMITS);
  assert.ok(corpus.stampKeys.length > 0);
  for (const k of corpus.stampKeys) {
    assert.equal(partition.get(k), "train", `stamp ${k} in the MLM corpus`);
  }
  const sources = new Set(corpus.sentences.map((s) => s.source));
  const allowed = [
    "stamps-train",
    "emoji-names-train",
    "sib200-train",
    "sib200-dev",
    "americasnlp-quy",
    "tatoeba-que",
    "multi30k-train",
    "coco-captions",
  ];
  for (const s of sources) assert.ok(allowed.includes(s), `source ${s}`);
  const texts = new Set(corpus.sentences.map((s) => s.text));
  const reg = dataRegistry();
  const sibTest = await loadSib200((await reg.resolve("sib200")).root, { splits: ["test"] });
  for (const lang of sibTest.languages) {
    for (const t of sibTest.sentences[lang]!) {
      assert.ok(!texts.has(t), `SIB-200 test sentence in the corpus: ${t}`);
    }
  }
  for (const lang of ["en", "es", "hi", "ar", "de"]) {
    const { examples } = await loadXnliXtreme(
      await reg.resolveFile("xnli-dev", `dev-${lang}.tsv`),
      lang,
    );
    for (const e of examples.slice(0, 500)) {
      assert.ok(
        !texts.has(e.premise) && !texts.has(e.hypothesis),
        `XNLI ${lang} text in the corpus`,
      );
    }
  }
  // K's fine-tuning sets
  const records = humanCaptionRecords(samples);
  for (const setup of K_TRAINED_SETUPS) {
    const set = kTrainingSet(records, setup, 7);
    assert.ok(set.trainKeys.length > 600);
    for (const k of set.trainKeys) assert.equal(partition.get(k), "train");
    for (const k of set.valKeys) assert.equal(partition.get(k), "val");
  }
  // the CLIP-space student's distillation pairs
  const pairs = await distillationPairs(samples);
  const sibTestTexts = new Set(sibTest.languages.flatMap((l) => sibTest.sentences[l]!));
  for (const p of pairs) {
    if (p.origin.startsWith("stamp:")) assert.equal(partition.get(p.origin.slice(6)), "train");
    else assert.match(p.origin, /^sib200-(train|dev):/);
    assert.ok(!sibTestTexts.has(p.source) && !sibTestTexts.has(p.english));
  }
});

Deno.test("no held-out (val/test) concept is in any model's training manifest; D's mini items are all held out", async () => {
  const { samples, dir } = await loadStampSamples({ smoke: false });
  const conceptOf = new Map(samples.map((s) => [s.key, s.concept]));
  const trainConcepts = new Set(
    samples.filter((s) => s.partition === "train").map((s) => s.concept),
  );
  const heldOut = new Set(samples.filter((s) => s.partition !== "train").map((s) => s.concept));
  // the split is by concept: no concept has a drawing on both sides
  for (const c of heldOut) assert.ok(!trainConcepts.has(c), `${c} in train and held out`);
  assert.ok(heldOut.size >= 1000 && trainConcepts.size >= 1000);
  const concepts = (keys: readonly string[]) => keys.map((k) => conceptOf.get(k)!);

  const corpus = await buildPretrainingCorpus(samples, MINI_CORPUS_LIMITS);
  const pairs = await distillationPairs(samples);
  const records = humanCaptionRecords(samples);
  const manifests: Record<string, string[]> = {
    "xlmr-analog (masked LM)": [...concepts(corpus.stampKeys), ...corpus.emojiConcepts],
    "vit-analog": imagePretrainingSet(samples).map((s) => s.concept),
    "mini-clip": clipTrainingImages(samples).map((s) => s.concept),
    "multilingual student": concepts(
      pairs.filter((p) => p.origin.startsWith("stamp:")).map((p) => p.origin.slice(6)),
    ),
  };
  for (const setup of K_TRAINED_SETUPS) {
    manifests[`k/${setup}`] = concepts(kTrainingSet(records, setup, 7).trainKeys);
  }
  for (const [model, list] of Object.entries(manifests)) {
    assert.ok(list.length > 0, `${model}: empty manifest`);
    for (const c of list) assert.ok(!heldOut.has(c), `${model} trains on held-out concept ${c}`);
  }
  assert.ok(corpus.emojiConcepts.length > 700, "the train emoji's names are in the corpus");
  assert.ok(manifests["vit-analog"]!.some((c) => c.startsWith("emoji:")));

  // the corpus's emoji text: each sentence is the CLDR name of a train concept in its locale
  // (checked against the dataset's captions, independently of trainEmojiNames)
  const trainNames = new Map<string, Set<string>>();
  for (const s of samples) {
    if (s.partition !== "train" || !s.concept.startsWith("emoji:")) continue;
    for (const [l, t] of Object.entries(s.captions)) {
      if (!trainNames.has(l)) trainNames.set(l, new Set());
      trainNames.get(l)!.add(t);
    }
  }
  const emojiSentences = corpus.sentences.filter((s) => s.source === "emoji-names-train");
  assert.ok(emojiSentences.length > 50_000, `${emojiSentences.length} emoji names`);
  for (const s of emojiSentences) {
    assert.ok(
      trainNames.get(s.lang)?.has(s.text),
      `corpus name "${s.text}" (${s.lang}) is not a train emoji's`,
    );
  }
  // monolingual: a name appears once per (locale, concept), not once per drawing
  const perLocale = new Map<string, number>();
  for (const s of emojiSentences) perLocale.set(s.lang, (perLocale.get(s.lang) ?? 0) + 1);
  assert.ok((perLocale.get("en") ?? 0) <= corpus.emojiConcepts.length);

  // D's mini items: held out, one drawing per concept, N ≥ 1000, none seen by the frozen pair
  const items = dMiniItems(await readSampleIndex(dir), { minItems: 1000 });
  const frozenPair = new Set([...manifests["mini-clip"]!, ...manifests["multilingual student"]!]);
  assert.equal(new Set(items.map((i) => i.concept)).size, items.length);
  for (const it of items) {
    assert.ok(heldOut.has(it.concept) && !frozenPair.has(it.concept), `D item ${it.concept}`);
  }
});

const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const requireGpu = Deno.env.get("KIT_REQUIRE_WEBGPU") === "1";

Deno.test({
  name:
    "a masked-LM training step runs on the WebGPU backend and matches WASM's loss (Mesa lavapipe)",
  ignore: !adapter && !requireGpu,
  fn: async () => {
    assert.ok(adapter, "KIT_REQUIRE_WEBGPU=1 but no WebGPU adapter");
    const losses: Record<string, number[]> = {};
    for (const backend of ["wasm", "webgpu"] as const) {
      await initBackend(backend);
      await withCacheDir(async () => {
        const t = await pretrainMaskedLm(tinyCorpus(), tinyPlan(2), {
          quiet: true,
          name: `gpu-${backend}`,
        });
        losses[backend] = t.training.lossHistory;
        t.model.dispose();
      });
    }
    await initBackend("wasm");
    assert.equal(losses.webgpu!.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.ok(Number.isFinite(losses.webgpu![i]!));
      assert.ok(
        Math.abs(losses.webgpu![i]! - losses.wasm![i]!) < 1e-3,
        `step ${i}: ${losses.webgpu![i]} vs ${losses.wasm![i]}`,
      );
    }
  },
});

Deno.test("loadKSetupEncoders() and loadClipSpacePair() in the paper profile name the missing model folder", async () => {
  const dir = await Deno.makeTempDir();
  const old = { p: Deno.env.get("KIT_PROFILE"), m: Deno.env.get("KIT_MODELS_DIR") };
  Deno.env.set("KIT_PROFILE", "paper");
  Deno.env.set("KIT_MODELS_DIR", dir);
  try {
    await assert.rejects(() => loadKSetupEncoders(), (e: Error) => {
      assert.ok(e instanceof KitError, String(e));
      assert.ok(e.message.includes(dir), e.message);
      assert.ok(e.hints.some((h) => h.includes("KIT_K_TEXT_MODEL")), e.hints.join("\n"));
      return true;
    });
    await assert.rejects(() => loadClipSpacePair(), (e: Error) => {
      assert.ok(e instanceof KitError, String(e));
      assert.ok(e.message.includes(dir), e.message);
      return true;
    });
  } finally {
    for (const [k, v] of [["KIT_PROFILE", old.p], ["KIT_MODELS_DIR", old.m]] as const) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
});

Deno.test({
  name: "trained models' cache folders (name@hash) do not depend on where the cache lives",
  sanitizeResources: false,
  fn: async () => {
    const trainAll = (checkEmbeddings: boolean) =>
      withCacheDir(async (dir) => {
        // K's setups need notebook 01's caption records: the stamps' human captions stand in
        const { samples, datasetHash } = await loadStampSamples({ smoke: true });
        await writeCaptionRecords(
          humanCaptionRecords(samples),
          { dataset: datasetHash, sources: { en: "human", es: "human", ja: "human", hi: "human" } },
          { smoke: true, profile: "mini" },
        );
        const k = await loadKSetupEncoders({ smoke: true, quiet: true });
        if (checkEmbeddings) {
          // tuned setups are evaluated on the projected embedding, untuned XLM-R on the pooled one
          const models = await miniKSetups({ smoke: true, quiet: true });
          const texts = ["A red car.", "Un perro pequeño.", "小さい犬"];
          for (const setup of K_TRAINED_SETUPS) {
            const P = models.models[setup].head.specs[0]!.shape[0]!;
            assert.equal(k[setup].dim, P, `${setup}: the projection's width`);
            const got = await k[setup].embed(texts, "en");
            const want = await kProjectTexts(models.models[setup], texts);
            assert.equal(got.cols, P);
            got.data.forEach((v, i) => assert.ok(Math.abs(v - want.data[i]!) < 1e-4, setup));
          }
          assert.equal(k.xlmr.dim, models.base.text.model.dim);
          models.dispose();
        }
        for (const e of Object.values(k)) e.dispose();
        const pair = await loadClipSpacePair({ smoke: true, quiet: true });
        pair.image.dispose();
        pair.text.dispose();
        const names = [...Deno.readDirSync(join(dir, "models"))].map((e) => e.name).sort();
        await Deno.remove(dir, { recursive: true });
        return names;
      });
    const first = await trainAll(true), second = await trainAll(false);
    for (
      const prefix of [
        "k-eng-only@",
        "k-multilingual-qu@",
        "mini-clip@",
        "mini-clip-multilingual-student@",
      ]
    ) {
      assert.ok(
        first.some((n) => n.startsWith(prefix)),
        `no ${prefix} folder in ${first.join(", ")}`,
      );
    }
    assert.deepEqual(second, first);
  },
});
