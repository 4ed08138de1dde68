import assert from "node:assert/strict";
import { join } from "node:path";
import { XNLI_LANGUAGES } from "../lib/sources/xnli.ts";
import { tf } from "../lib/backend/tf.ts";
import { initBackend } from "../lib/backend/select_backend.ts";
import { defaultDataMirror } from "../lib/config/kit_config.ts";
import { DataRegistry } from "../lib/data/registry.ts";
import { matrixFromRows, rowMatrix } from "../lib/retrieval/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import {
  assertDisjointSplit,
  compareNliSetups,
  type EmbeddedNliPairs,
  embedNliPairs,
  evaluateNliSetup,
  initMlpParams,
  loadNliBenchmark,
  mlpLossAndGradients,
  type NliBenchmark,
  nliFeatures,
  nliFeaturesTensor,
  NliMlpClassifier,
  nliRows,
  splitXnliIndices,
} from "../lib/xnli/mod.ts";
import { functionEncoder, hashedNgrams } from "./helpers/test_encoders.ts";
import { syntheticNliPairs } from "./helpers/synthetic_nli.ts";

await initBackend("wasm");
const mirror = defaultDataMirror();

Deno.test("nliFeatures() and nliFeaturesTensor() equal a naive [p; h; |p−h|; p∗h]", () => {
  const r = new SeededRandom(3);
  // float32 inputs, as the embeddings are
  const P = Array.from(
    { length: 5 },
    () => Array.from({ length: 7 }, () => Math.fround(r.normal())),
  );
  const H = Array.from(
    { length: 5 },
    () => Array.from({ length: 7 }, () => Math.fround(r.normal())),
  );
  const naive = P.map((
    p,
    i,
  ) => [
    ...p,
    ...H[i]!,
    ...p.map((x, j) => Math.abs(x - H[i]![j]!)),
    ...p.map((x, j) => x * H[i]![j]!),
  ]);
  const f = nliFeatures(matrixFromRows(P), matrixFromRows(H));
  assert.equal(f.cols, 28);
  assert.deepEqual(Array.from(f.data), Array.from(Float32Array.from(naive.flat())));
  const before = tf.memory().numTensors;
  const p = tf.tensor2d(P), h = tf.tensor2d(H);
  const t = nliFeaturesTensor(p, h);
  assert.deepEqual(Array.from(t.dataSync()), Array.from(f.data));
  tf.dispose([p, h, t]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => nliFeatures(matrixFromRows([[1]]), matrixFromRows([[1, 2]])), KitError);
});

function checkSplit(premises: string[], seed: number) {
  const s = splitXnliIndices(premises, { seed });
  assertDisjointSplit(s, premises.length);
  const test = new Set(s.test), trainSelect = [...s.train, ...s.select];
  assert.ok(
    trainSelect.every((i) => !test.has(i)),
    `seed ${seed}: an index is in train/select and test`,
  );
  const testPremises = new Set(Array.from(s.test, (i) => premises[i]));
  assert.ok(
    trainSelect.every((i) => !testPremises.has(premises[i])),
    `seed ${seed}: a test premise is trained on`,
  );
  return s;
}

Deno.test("splitXnliIndices() never shares an index or a premise between train/select and test, for several seeds", () => {
  const premises = Array.from({ length: 300 }, (_, i) => `premise ${Math.floor(i / 3)}`);
  const splits = [1, 2, 3, 17, 2024].map((seed) => checkSplit(premises, seed));
  for (const s of splits) {
    assert.ok(Math.abs(s.test.length - 100) <= 3 && Math.abs(s.select.length - 30) <= 3);
  }
  assert.deepEqual(splitXnliIndices(premises, { seed: 2 }), splits[1]);
  assert.notDeepEqual(splits[0]!.test, splits[1]!.test);
  assert.throws(() => splitXnliIndices(["a", "b"], { seed: 1 }), KitError);
  assert.throws(
    () =>
      assertDisjointSplit({
        train: Int32Array.of(0, 1),
        select: Int32Array.of(1),
        test: Int32Array.of(2),
      }, 3),
    KitError,
  );
});

Deno.test({
  name:
    "loadNliBenchmark() (mini): English test rows are disjoint from training and selection; XNLI parallel; AmericasNLI test split",
  ignore: mirror === null,
  fn: async () => {
    const reg = new DataRegistry({ mirror, cacheRoot: await Deno.makeTempDir(), quiet: true });
    for (const seed of [1, 7]) {
      const b = await loadNliBenchmark({ profile: "mini", smoke: false }, reg, { seed });
      const split = b.split!;
      assertDisjointSplit(split, 2490);
      const en = b.tests.find((t) => t.dataset === "xnli" && t.lang === "en")!;
      const trained = new Set([...b.train.premise, ...b.select.premise]);
      assert.ok(
        en.pairs.premise.every((p) => !trained.has(p)),
        "an English test premise is in train/select",
      );
      const trainedIds = new Set([...b.train.ids, ...b.select.ids]);
      assert.ok(
        en.pairs.ids.every((id) => !trainedIds.has(id)),
        "an English test row is in train/select",
      );
      const xnli = b.tests.filter((t) => t.dataset === "xnli");
      assert.equal(xnli.length, 15);
      assert.ok(
        xnli.every((t) =>
          t.pairs.ids.join() === en.pairs.ids.join() && t.units.length === split.test.length
        ),
      );
      assert.equal(b.train.labels.length + b.select.labels.length + en.pairs.labels.length, 2490);
      const quy = b.tests.find((t) => t.dataset === "americasnli" && t.lang === "quy")!;
      const testTsv = await Deno.readTextFile(`${mirror}/americasnli/test/quy.tsv`);
      assert.equal(quy.pairs.labels.length, 750);
      assert.ok(quy.pairs.premise.every((p) => testTsv.includes(p)));
      assert.equal(b.tests.filter((t) => t.dataset === "americasnli").length, 10);
    }
  },
});

Deno.test("mlpLossAndGradients() equals TF.js autodiff of the same MLP and loss", async () => {
  const widths = [12, 8, 6, 3], B = 5;
  const p = initMlpParams(widths, 4);
  const r = new SeededRandom(9);
  const x = tf.tensor2d(Float32Array.from({ length: B * 12 }, () => r.normal()), [B, 12]);
  const labels = Int32Array.of(0, 2, 1, 1, 0);
  const before = tf.memory().numTensors;
  const mine = await mlpLossAndGradients(p, x, labels);
  assert.equal(tf.memory().numTensors, before);
  const ws = p.w.map((w, l) => tf.tensor2d(w, [widths[l]!, widths[l + 1]!]));
  const bs = p.b.map((b) => tf.tensor1d(b));
  const f = (...args: tf.Tensor[]) => {
    let h = x as tf.Tensor2D;
    for (let l = 0; l < 3; l++) {
      const z = tf.add(tf.matMul(h, args[l] as tf.Tensor2D), args[3 + l]!) as tf.Tensor2D;
      h = l < 2 ? tf.relu(z) : z;
    }
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, "int32"), 3), h);
  };
  const value = tf.tidy(() => f(...ws, ...bs).dataSync()[0]!);
  const grads = tf.grads(f)([...ws, ...bs]);
  assert.ok(Math.abs(mine.loss - value) < 1e-5, `${mine.loss} vs ${value}`);
  const auto = grads.map((g) => g.dataSync());
  [...mine.gw, ...mine.gb].forEach((g, i) => {
    const a = auto[i]!;
    for (let j = 0; j < g.length; j++) {
      assert.ok(Math.abs(g[j]! - a[j]!) < 1e-5, `param ${i}[${j}]: ${g[j]} vs ${a[j]}`);
    }
  });
  tf.dispose([x, ...ws, ...bs, ...grads]);
});

/** Pairs whose label is decided by the sign of two coordinates of p − h (learnable). */
function syntheticPairs(n: number, d: number, seed: number): EmbeddedNliPairs {
  const r = new SeededRandom(seed);
  const P = new Float32Array(n * d), H = new Float32Array(n * d), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      P[i * d + j] = r.normal();
      H[i * d + j] = r.normal();
    }
    const a = P[i * d]! - H[i * d]!, b = P[i * d + 1]! * H[i * d + 1]!;
    y[i] = a > 0.5 ? 0 : b > 0 ? 1 : 2;
  }
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  return {
    premises: rowMatrix(P, n, d),
    hypotheses: rowMatrix(H, n, d),
    premiseRow: idx,
    hypothesisRow: idx,
    labels: y,
  };
}

Deno.test("NliMlpClassifier learns a learnable rule, is deterministic per seed, and leaves tf.memory().numTensors unchanged", async () => {
  const before = tf.memory().numTensors;
  const train = syntheticPairs(1000, 8, 1),
    select = syntheticPairs(150, 8, 2),
    test = syntheticPairs(300, 8, 3);
  const opts = { seed: 5, hidden: [32, 32, 32], epochs: 10 };
  const a = await NliMlpClassifier.train(train, select, opts);
  const acc = await a.accuracy(test);
  assert.ok(acc > 0.8, `accuracy ${acc}`);
  assert.equal(a.history.length, 10);
  assert.equal(a.bestSelectAccuracy, Math.max(...a.history.map((h) => h.selectAccuracy)));
  assert.equal(
    await a.accuracy(select),
    a.bestSelectAccuracy,
    "the best selection epoch is restored",
  );
  const b = await NliMlpClassifier.train(train, select, opts);
  assert.deepEqual(await b.predict(test), await a.predict(test));
  assert.deepEqual(b.params.w[0], a.params.w[0]);
  a.dispose();
  b.dispose();
  a.dispose();
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(() => a.predict(test), KitError);
});

Deno.test("NliMlpClassifier defaults to K's protocol: 4d → 512 → 512 → 512 → 3", async () => {
  const before = tf.memory().numTensors;
  const c = await NliMlpClassifier.train(syntheticPairs(40, 4, 1), syntheticPairs(10, 4, 2), {
    seed: 1,
    epochs: 1,
  });
  assert.deepEqual(c.params.widths, [16, 512, 512, 512, 3]);
  c.dispose();
  assert.equal(tf.memory().numTensors, before);
});

/** A small benchmark over synthetic sentences; the same meaning in "en" and "xx". */
function syntheticBenchmark(): NliBenchmark {
  const mk = syntheticNliPairs;
  const test = (lang: string, dataset: "xnli" | "americasnli") => ({
    dataset,
    lang,
    pairs: mk(lang, 30, 1000),
    units: Int32Array.from({ length: 30 }, (_, i) => i),
  });
  return {
    description: "synthetic",
    train: mk("en", 90, 0),
    select: mk("en", 30, 500),
    tests: [test("en", "xnli"), test("xx", "xnli"), { ...test("quy", "americasnli") }],
    units: { xnli: 30, americasnli: 30 },
    split: null,
    notes: [],
    inputs: {},
  };
}

Deno.test("evaluateNliSetup() embeds each distinct text once and transfers through identical embeddings", async () => {
  const before = tf.memory().numTensors;
  // meaning = the text without its language prefix: translations embed identically
  const enc = functionEncoder(
    "test/prefix-free",
    64,
    (t) => hashedNgrams(t.slice(t.indexOf(" ") + 1), 64),
  );
  const bench = syntheticBenchmark();
  const r = await evaluateNliSetup(enc, bench, { seed: 3, hidden: [32, 32, 32], epochs: 8 });
  assert.equal(tf.memory().numTensors, before);
  const en = r.results.find((x) => x.lang === "en")!, xx = r.results.find((x) => x.lang === "xx")!;
  assert.deepEqual(xx.correct, en.correct, "identical embeddings must give identical predictions");
  assert.ok(en.accuracy > 0.6, `accuracy ${en.accuracy}`);
  // 90 train pairs have 30 distinct premises: embedded once each
  const e2 = functionEncoder("count", 4, () => [1, 2, 3, 4]);
  await embedNliPairs(e2, bench.train);
  assert.equal(e2.embedded, 30 + 90);

  const rows = nliRows("multilingual", r.results, { seed: 1, resamples: 100 });
  assert.deepEqual(rows.map((x) => `${x.dataset}/${x.lang}`), [
    "xnli/en",
    "xnli/xx",
    "xnli/avg",
    "americasnli/quy",
    "americasnli/avg",
  ]);
  const avg = rows.find((x) => x.lang === "avg" && x.dataset === "xnli")!;
  assert.equal(avg.accuracy, (en.accuracy + xx.accuracy) / 2);
  assert.ok(avg.ci_low <= avg.accuracy && avg.accuracy <= avg.ci_high);
  assert.equal(avg.paper_accuracy, 0.513);
  const t = compareNliSetups(r.results, r.results, "xnli", "avg", { seed: 1, resamples: 50 });
  assert.equal(t.difference, 0);
});

Deno.test("nliRows() of an all-correct setup has accuracy 1 and interval [1, 1]", () => {
  const res = [{
    dataset: "xnli" as const,
    lang: "en",
    n: 20,
    units: Int32Array.from({ length: 20 }, (_, i) => i),
    datasetUnits: 20,
    correct: new Uint8Array(20).fill(1),
    accuracy: 1,
  }];
  const [row] = nliRows("eng-pivot", res, { seed: 1, resamples: 100 });
  assert.deepEqual([row!.accuracy, row!.ci_low, row!.ci_high], [1, 1, 1]);
});

Deno.test({
  name:
    "loadNliBenchmark() (paper) trains on MultiNLI train and selects on MultiNLI dev matched + mismatched",
  ignore: mirror === null,
  fn: async () => {
    const cacheRoot = await Deno.makeTempDir();
    try {
      const mnli = join(cacheRoot, "multinli-1.0"), xnli = join(cacheRoot, "xnli-1.0");
      await Deno.mkdir(mnli, { recursive: true });
      await Deno.mkdir(xnli, { recursive: true });
      const jsonl = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) =>
          JSON.stringify({
            gold_label: ["entailment", "neutral", "contradiction"][i % 3],
            genre: "fiction",
            pairID: `${prefix}${i}`,
            sentence1: `${prefix} premise ${i}`,
            sentence2: `${prefix} hypothesis ${i}`,
          })).join("\n") + "\n";
      await Deno.writeTextFile(join(mnli, "multinli_1.0_train.jsonl"), jsonl("train", 12));
      await Deno.writeTextFile(join(mnli, "multinli_1.0_dev_matched.jsonl"), jsonl("m", 5));
      await Deno.writeTextFile(join(mnli, "multinli_1.0_dev_mismatched.jsonl"), jsonl("mm", 4));
      const cols = ["language", "gold_label", "sentence1", "sentence2", "pairID", "genre"];
      const rows = XNLI_LANGUAGES.flatMap((l) =>
        [1, 2].map((id) => [l, "neutral", `${l} p ${id}`, `${l} h ${id}`, `${id}`, "x"].join("\t"))
      );
      await Deno.writeTextFile(
        join(xnli, "xnli.test.tsv"),
        [cols.join("\t"), ...rows].join("\n") + "\n",
      );
      const reg = new DataRegistry({ mirror, cacheRoot, quiet: true });
      const b = await loadNliBenchmark({ profile: "paper", smoke: false }, reg, { seed: 13 });
      assert.equal(b.train.ids.length, 12);
      assert.deepEqual(b.select.ids, [
        ...Array.from({ length: 5 }, (_, i) => `m${i}`),
        ...Array.from({ length: 4 }, (_, i) => `mm${i}`),
      ]);
      assert.match(b.description, /MultiNLI dev matched \+ mismatched/);
      assert.equal(b.tests.filter((t) => t.dataset === "xnli").length, XNLI_LANGUAGES.length);
      // without the mismatched file: an error naming it
      await Deno.remove(join(mnli, "multinli_1.0_dev_mismatched.jsonl"));
      await assert.rejects(
        () =>
          loadNliBenchmark(
            { profile: "paper", smoke: false },
            new DataRegistry({ mirror, cacheRoot, quiet: true }),
            { seed: 13 },
          ),
        (e: Error) => e instanceof KitError && e.message.includes("dev_mismatched"),
      );
    } finally {
      await Deno.remove(cacheRoot, { recursive: true });
    }
  },
});
