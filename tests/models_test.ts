import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { dataRegistry } from "../lib/data/registry.ts";
import { loadSib200 } from "../lib/sources/sib200.ts";
import { loadXnliXtreme } from "../lib/sources/xnli.ts";
import { ParameterSet } from "../lib/encoders/parameter_set.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { writeCaptionRecords } from "../lib/translation/caption_records.ts";
import {
  buildPretrainingCorpus,
  distillationPairs,
  humanCaptionRecords,
  K_TRAINED_SETUPS,
  kTrainingSet,
  loadClipSpacePair,
  loadKSetupEncoders,
  loadStampSamples,
  loadTrainedTextEncoder,
  type MaskedLmPlan,
  MINI_CORPUS_LIMITS,
  MiniSentenceEncoder,
  moduleGrads,
  type PretrainingCorpus,
  pretrainMaskedLm,
  rotatedCaption,
  runResumableTraining,
  type TrainingSchedule,
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

Deno.test("rotatedCaption() rotates languages by epoch and skips missing ones", () => {
  const rec = {
    image_id: "k",
    partition: "train" as const,
    captions: { en: "A dog.", es: "Un perro.", hi: "कुत्ता" },
    origin: {},
  };
  const langs = ["en", "es", "ja", "hi"] as const;
  assert.equal(rotatedCaption(rec, langs, 0, 0), "A dog.");
  assert.equal(rotatedCaption(rec, langs, 0, 1), "Un perro.");
  assert.equal(rotatedCaption(rec, langs, 0, 2), "कुत्ता"); // ja missing → next
  assert.equal(rotatedCaption(rec, langs, 1, 0), "Un perro.");
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
    const set = kTrainingSet(records, setup);
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
      assert.ok(e.hints.some((h) => h.includes("k-setups")), e.hints.join("\n"));
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
    const trainAll = () =>
      withCacheDir(async (dir) => {
        // K's setups need notebook 01's caption records: the stamps' human captions stand in
        const { samples, datasetHash } = await loadStampSamples({ smoke: true });
        await writeCaptionRecords(
          humanCaptionRecords(samples),
          { dataset: datasetHash, sources: { en: "human", es: "human", ja: "human", hi: "human" } },
          { smoke: true, profile: "mini" },
        );
        const k = await loadKSetupEncoders({ smoke: true, quiet: true });
        for (const e of Object.values(k)) e.dispose();
        const pair = await loadClipSpacePair({ smoke: true, quiet: true });
        pair.image.dispose();
        pair.text.dispose();
        const names = [...Deno.readDirSync(join(dir, "models"))].map((e) => e.name).sort();
        await Deno.remove(dir, { recursive: true });
        return names;
      });
    const first = await trainAll(), second = await trainAll();
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
