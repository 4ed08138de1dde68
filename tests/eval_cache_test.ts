import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../lib/backend/tf.ts";
import { initBackend } from "../lib/backend/select_backend.ts";
import {
  type BitextBenchmark,
  bitextGroupRows,
  bitextLanguageRows,
  cachedBitextRows,
  evaluateBitext,
} from "../lib/bitext_eval/mod.ts";
import {
  cachedFigureImages,
  chromiumPath,
  closeBrowser,
} from "../lib/artifacts/chromium_renderer.ts";
import {
  cachedResult,
  codeFingerprint,
  decodeCachedValue,
  encodeCachedValue,
  encoderResultKey,
  moduleClosure,
  resultCachePath,
} from "../lib/eval_cache/mod.ts";
import { modelFolderFingerprint } from "../lib/model_cache/model_cache.ts";
import { evaluateNliSetup, type NliBenchmark } from "../lib/xnli/mod.ts";
import { alignmentEmbeddings, runImagePivotCv } from "../lib/image_pivot/mod.ts";
import { plantedModalityGapEmbeddings } from "./helpers/planted_embeddings.ts";
import { cachedTsneLayout, tsneLayout } from "../lib/embedding_plots/mod.ts";
import { l2NormalizeRows, rowMatrix } from "../lib/retrieval/mod.ts";
import {
  cachedMicroCorrectionFigure,
  microCorrectionFigure,
} from "../lib/micro_corrections/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { functionEncoder, hashedNgrams } from "./helpers/test_encoders.ts";
import { syntheticNliPairs } from "./helpers/synthetic_nli.ts";
import { writeModelManifest } from "../lib/model_cache/model_manifest.ts";

await initBackend("wasm");

async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kit-eval-cache-test-" });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A value with every kind of thing the cache must keep exactly. */
function sample() {
  return {
    f32: Float32Array.from([1 / 3, -0, 1e-40, 3.4e38]),
    f64: Float64Array.from([Math.PI, Number.MIN_VALUE, -1e308]),
    i32: Int32Array.from([-2147483648, 0, 2147483647]),
    u8: Uint8Array.from([0, 1, 255]),
    numbers: [0.1 + 0.2, NaN, Infinity, -Infinity, -0, 5e-324],
    nested: { s: "é ✓", b: true, n: null, u: undefined, list: [{ x: 1 }, []] },
  };
}

Deno.test("encodeCachedValue() round-trips numbers bit for bit, array types and undefined properties", () => {
  const v = sample();
  const back = decodeCachedValue(encodeCachedValue(v)) as ReturnType<typeof sample>;
  assert.deepStrictEqual(back, v);
  assert.ok(Object.is(back.numbers[4], -0), "-0 keeps its sign");
  assert.ok(Object.is(back.f32[1], -0));
  assert.ok("u" in back.nested, "an undefined property is kept");
  assert.throws(
    () => encodeCachedValue({ m: new Map() }),
    (e) => e instanceof KitError && /value\.m/.test(e.message),
  );
});

Deno.test("cachedResult() returns an identical value on a hit without computing", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [];
    const opts = { dir, log: (l: string) => logs.push(l) };
    let calls = 0;
    const compute = () => {
      calls++;
      return Promise.resolve(sample());
    };
    const first = await cachedResult("demo", { model: "a", texts: "t" }, compute, opts);
    const second = await cachedResult("demo", { texts: "t", model: "a" }, compute, opts); // key order is irrelevant
    assert.equal(calls, 1);
    assert.deepStrictEqual(second, first);
    assert.ok(second.f32 instanceof Float32Array && second.u8 instanceof Uint8Array);
    assert.match(logs.at(-1)!, /demo: cached result/);
  });
});

Deno.test("cachedResult() misses when any part of the key changes", async () => {
  await withTempDir(async (dir) => {
    const opts = { dir, log: () => {} };
    let calls = 0;
    const compute = (tag: string) => () => {
      calls++;
      return Promise.resolve({ tag });
    };
    const base = { model: "hash-a", texts: "hash-t", options: { k: 4 } };
    await cachedResult("demo", base, compute("base"), opts);
    const other = await cachedResult("demo", { ...base, model: "hash-b" }, compute("model"), opts);
    const texts = await cachedResult("demo", { ...base, texts: "hash-u" }, compute("texts"), opts);
    const k = await cachedResult("demo", { ...base, options: { k: 5 } }, compute("k"), opts);
    assert.equal(calls, 4);
    assert.deepEqual([other.tag, texts.tag, k.tag], ["model", "texts", "k"]);
    assert.equal((await cachedResult("demo", base, compute("again"), opts)).tag, "base");
    assert.equal(calls, 4);
  });
});

Deno.test("cachedResult() detects a damaged entry, says so and rebuilds it", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [];
    const opts = { dir, log: (l: string) => logs.push(l) };
    const key = { model: "m" };
    const compute = () => Promise.resolve({ x: Float32Array.from([1, 2, 3, 4]) });
    await cachedResult("demo", key, compute, opts);
    const path = resultCachePath("demo", key, opts);
    for (const at of [-1, -9, 20]) { // a data byte of the array, another, a header byte
      const bytes = await Deno.readFile(path);
      const i = at < 0 ? bytes.length + at : at;
      bytes[i] = bytes[i]! ^ 0x01;
      await Deno.writeFile(path, bytes);
      let calls = 0;
      const v = await cachedResult("demo", key, () => {
        calls++;
        return compute();
      }, opts);
      assert.equal(calls, 1, `byte ${at}: the damaged entry is not used`);
      assert.deepEqual(v.x, Float32Array.from([1, 2, 3, 4]));
      assert.match(logs.at(-1)!, /damaged, recomputing/);
      assert.ok(logs.at(-1)!.includes(path), "the message names the file");
      // rebuilt: the next read is a clean hit
      await cachedResult("demo", key, () => Promise.reject(new Error("must hit")), opts);
    }
    // an entry written for another key under this key's name is not used either
    const other = resultCachePath("demo", { model: "other" }, opts);
    await cachedResult(
      "demo",
      { model: "other" },
      () => Promise.resolve({ x: new Float32Array(1) }),
      opts,
    );
    await Deno.copyFile(other, path);
    let calls = 0;
    await cachedResult("demo", key, () => {
      calls++;
      return compute();
    }, opts);
    assert.equal(calls, 1);
    assert.match(logs.at(-1)!, /another key/);
  });
});

Deno.test("codeFingerprint() follows imports transitively and changes when an imported file changes", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "a.ts"), `export * from "./b.ts";\nimport "./c.ts";`);
    await Deno.writeTextFile(join(dir, "b.ts"), `export const b = await import("./d.ts");`);
    await Deno.writeTextFile(join(dir, "c.ts"), `import { x } from "npm:y";`);
    await Deno.writeTextFile(join(dir, "d.ts"), `export const d = 1;`);
    await Deno.writeTextFile(join(dir, "unrelated.ts"), `export const u = 1;`);
    const closure = await moduleClosure([join(dir, "a.ts")]);
    assert.deepEqual(closure.map((p) => p.split("/").pop()), ["a.ts", "b.ts", "c.ts", "d.ts"]);
    const f1 = await codeFingerprint([join(dir, "a.ts")], { reuse: false });
    await Deno.writeTextFile(join(dir, "unrelated.ts"), `export const u = 2;`);
    assert.equal(await codeFingerprint([join(dir, "a.ts")], { reuse: false }), f1);
    await Deno.writeTextFile(join(dir, "d.ts"), `export const d = 2;`);
    assert.notEqual(await codeFingerprint([join(dir, "a.ts")], { reuse: false }), f1);
  });
});

Deno.test("modelFolderFingerprint() changes with a retrained file's bytes, ignores the resumable checkpoint, and refuses a file changed behind the manifest", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "model.safetensors"), "weights");
    await Deno.writeTextFile(join(dir, "tokenizer.json"), "{}");
    const f1 = await modelFolderFingerprint(dir);
    await Deno.writeTextFile(join(dir, "checkpoint.safetensors"), "partial");
    assert.equal(await modelFolderFingerprint(dir), f1);
    await Deno.writeTextFile(join(dir, "tokenizer.json"), "{ }");
    await assert.rejects(modelFolderFingerprint(dir), /tokenizer\.json: changed since the model/);
    await writeModelManifest(dir); // as a retrain writes it
    assert.notEqual(await modelFolderFingerprint(dir), f1);
  });
});

function bitextBench(texts: (i: number, lang: string) => string): BitextBenchmark {
  const n = 12, langs = ["es", "qu"];
  return {
    name: "toy",
    description: "toy",
    pivotLang: "en",
    pivot: Array.from({ length: n }, (_, i) => texts(i, "en")),
    sets: langs.map((lang) => ({
      lang,
      texts: Array.from({ length: n - 2 }, (_, i) => texts(i + 1, lang)),
      units: Int32Array.from({ length: n - 2 }, (_, i) => i + 1),
      groups: ["all", lang],
    })),
    inputs: {},
  };
}

/** A counting encoder with a model fingerprint (as the kit's mini encoders have). */
function fingerprinted(fingerprint: string) {
  const enc = functionEncoder("test/ngrams", 32, (t) => hashedNgrams(t.replace(/^\w+ /, ""), 32));
  return Object.assign(enc, { fingerprint });
}

Deno.test("evaluateBitext() with a fingerprinted encoder: a hit returns identical results without embedding; another model or text misses", async () => {
  await withTempDir(async (dir) => {
    const cache = { dir, log: () => {} };
    const bench = bitextBench((i, l) => `${l} sentence number ${i} ${i % 3 ? "odd" : "even"}`);
    const before = tf.memory().numTensors;
    const enc = fingerprinted("model-a");
    const first = await evaluateBitext(enc, bench, { cache });
    const uncached = await evaluateBitext(enc, bench, { cache: false });
    assert.deepStrictEqual(first, uncached);
    const callsAfterFirst = enc.calls;
    const hit = await evaluateBitext(enc, bench, { cache });
    assert.equal(enc.calls, callsAfterFirst, "a hit embeds nothing");
    assert.deepStrictEqual(hit, first);
    assert.ok(
      hit[0]!.units instanceof Int32Array && hit[0]!.correct.xsim.aToB instanceof Uint8Array,
    );

    const other = fingerprinted("model-b");
    await evaluateBitext(other, bench, { cache });
    assert.ok(other.calls > 0, "another model hash misses");
    const changed = bitextBench((i, l) => `${l} sentence number ${i} ${i % 3 ? "odd" : "even"}!`);
    const n = enc.calls;
    await evaluateBitext(enc, changed, { cache });
    assert.ok(enc.calls > n, "other texts miss");
    const m = enc.calls;
    await evaluateBitext(enc, bench, { cache, k: 3 });
    assert.ok(enc.calls > m, "another k misses");
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by a miss or a hit");

    // an encoder without a fingerprint is never cached
    const plain = functionEncoder("test/plain", 32, (t) => hashedNgrams(t, 32));
    await evaluateBitext(plain, bench, { cache });
    const p = plain.calls;
    await evaluateBitext(plain, bench, { cache });
    assert.equal(plain.calls, 2 * p);
  });
});

function nliBench(): NliBenchmark {
  const mk = syntheticNliPairs;
  return {
    description: "toy",
    train: mk("en", 45, 0),
    select: mk("en", 15, 500),
    tests: [{
      dataset: "xnli",
      lang: "xx",
      pairs: mk("xx", 15, 1000),
      units: Int32Array.from({ length: 15 }, (_, i) => i),
    }],
    units: { xnli: 15, americasnli: 0 },
    split: null,
    notes: [],
    inputs: {},
  };
}

Deno.test("evaluateNliSetup() with a fingerprinted encoder: a hit returns the same result and replays onEpoch (progress and onEpoch are not part of the key); another seed misses", async () => {
  await withTempDir(async (dir) => {
    const cache = { dir, log: () => {} };
    const before = tf.memory().numTensors;
    const enc = fingerprinted("model-a");
    const opts = { seed: 3, hidden: [16, 16], epochs: 3 };
    const first = await evaluateNliSetup(enc, nliBench(), opts, cache);
    const calls = enc.calls;
    const epochs: number[] = [];
    const hit = await evaluateNliSetup(enc, nliBench(), {
      ...opts,
      progress: false,
      onEpoch: (e) => epochs.push(e.epoch),
    }, cache);
    assert.equal(enc.calls, calls, "a hit embeds nothing and trains nothing");
    assert.deepStrictEqual(hit, first);
    assert.deepEqual(epochs, first.history.map((e) => e.epoch));
    await evaluateNliSetup(enc, nliBench(), { ...opts, seed: 4 }, cache);
    assert.ok(enc.calls > calls, "another classifier seed misses");
    assert.equal(tf.memory().numTensors, before);
  });
});

Deno.test("encoderResultKey() is null for an encoder without a fingerprint and names the numeric backend", async () => {
  const plain = functionEncoder("p", 4, () => [1, 2, 3, 4]);
  assert.equal(await encoderResultKey([plain], [], {}), null);
  const key = await encoderResultKey([Object.assign(plain, { fingerprint: "f" })], [], { x: 1 });
  const numeric = key!.numeric as Record<string, string>;
  assert.equal(numeric.tfjsBackend, "wasm");
  assert.ok("blas" in numeric && "v8" in numeric);
  assert.match(key!.code as string, /^[0-9a-f]{64}$/);
});

Deno.test("runImagePivotCv({ cache }) returns the same result on a hit without training, and replays onHoldout and log identically", async () => {
  await withTempDir(async (dir) => {
    const p = plantedModalityGapEmbeddings({ n: 60, d: 8, langs: ["en", "de"] });
    const emb = alignmentEmbeddings(p.images, p.textByLang);
    const before = tf.memory().numTensors;
    const run = async (seed: number) => {
      const calls: unknown[] = [], logs: string[] = [];
      const r = await runImagePivotCv(emb, {
        seed,
        train: { epochs: 2, stepsPerEpoch: 3, warmupSteps: 1 },
        diagnostics: true,
        probe: true,
        progress: false,
        cache: { dir, log: () => {} },
        log: (l) => logs.push(l),
        onHoldout: (fold, head, holdout, text, images, langId) => {
          calls.push({ fold, head, holdout: [...holdout], text, images, langId });
        },
      });
      return { r, calls, logs };
    };
    const first = await run(7);
    const hit = await run(7);
    assert.deepStrictEqual(hit.r, first.r);
    assert.deepStrictEqual(hit.calls, first.calls, "onHoldout gets the same projected rows");
    const strip = (l: string) => l.replace(/ \([^)]*\)$/, "");
    assert.deepStrictEqual(hit.logs.map(strip), first.logs.map(strip));
    assert.ok(
      hit.logs.every((l) => l.endsWith("(cached)")),
      "nothing trained or evaluated on a hit",
    );
    assert.ok(first.logs.every((l) => !l.endsWith("(cached)")));
    assert.equal(first.calls.length, 15);
    assert.ok(
      first.calls.every((c) => (c as { langId: unknown }).langId !== null),
      "the lang-ID rows are replayed too",
    );
    const entries = [...Deno.readDirSync(join(dir, "d-cv"))];
    assert.equal(entries.length, 1);
    const other = await run(8); // another seed: other folds, a miss
    assert.notDeepEqual(other.r.folds, first.r.folds);
    assert.equal([...Deno.readDirSync(join(dir, "d-cv"))].length, 2);
    assert.equal(tf.memory().numTensors, before);
  });
});

Deno.test("cachedTsneLayout() equals tsneLayout() on a miss and on a hit; other points miss", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [];
    const cache = { dir, log: (l: string) => logs.push(l) };
    const pts = rowMatrix(
      Float32Array.from({ length: 40 * 6 }, (_, i) => Math.sin(i * 0.37)),
      40,
      6,
    );
    const direct = tsneLayout(pts, { seed: 3, iterations: 30 });
    assert.deepStrictEqual(await cachedTsneLayout(pts, { seed: 3, iterations: 30 }, cache), direct);
    assert.deepStrictEqual(await cachedTsneLayout(pts, { seed: 3, iterations: 30 }, cache), direct);
    assert.equal(logs.filter((l) => /tsne: cached result/.test(l)).length, 1);
    const moved = rowMatrix(pts.data.map((v, i) => (i === 0 ? v + 1e-3 : v)), 40, 6);
    await cachedTsneLayout(moved, { seed: 3, iterations: 30 }, cache);
    assert.equal(logs.filter((l) => /tsne: cached result/.test(l)).length, 1, "other points miss");
  });
});

Deno.test("cachedMicroCorrectionFigure() equals microCorrectionFigure() on a miss and a hit; another head misses", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [];
    const cache = { dir, log: (l: string) => logs.push(l) };
    const m = (seed: number) =>
      l2NormalizeRows(
        rowMatrix(
          Float32Array.from({ length: 30 * 8 }, (_, i) => Math.sin(i * 0.91 + seed)),
          30,
          8,
        ),
      );
    const input = {
      before: m(1),
      linear: m(2),
      mlp: m(3),
      images: m(4),
      captions: Array.from({ length: 30 }, (_, i) => `caption ${i}`),
      umap: { nEpochs: 40, seed: 7 },
    };
    const direct = microCorrectionFigure(input);
    assert.deepStrictEqual(await cachedMicroCorrectionFigure(input, cache), direct);
    assert.deepStrictEqual(await cachedMicroCorrectionFigure(input, cache), direct);
    assert.equal(logs.filter((l) => /d-f1: cached result/.test(l)).length, 1);
    await cachedMicroCorrectionFigure({ ...input, mlp: m(5) }, cache);
    assert.equal(
      logs.filter((l) => /d-f1: cached result/.test(l)).length,
      1,
      "another head misses",
    );
  });
});

Deno.test("cachedBitextRows() equals bitextGroupRows + bitextLanguageRows per setup, and hits on the same results", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [];
    const cache = { dir, log: (l: string) => logs.push(l) };
    const bench = bitextBench((i, l) => `${l} sentence number ${i} ${i % 3 ? "odd" : "even"}`);
    const results = {
      a: await evaluateBitext(fingerprinted("a"), bench, { cache: false }),
      b: await evaluateBitext(functionEncoder("b", 16, (t) => hashedNgrams(t, 16)), bench),
    };
    const boot = { seed: 5, resamples: 50, groups: ["all", "es"] };
    const direct = {
      groupRows: ["a", "b"].flatMap((s) => bitextGroupRows(s, results[s as "a"], boot)),
      langRows: ["a", "b"].flatMap((s) => bitextLanguageRows(s, results[s as "a"], boot)),
    };
    assert.deepStrictEqual(await cachedBitextRows(["a", "b"], results, boot, cache), direct);
    assert.deepStrictEqual(await cachedBitextRows(["a", "b"], results, boot, cache), direct);
    assert.equal(logs.filter((l) => /bitext-rows: cached result/.test(l)).length, 1);
    await cachedBitextRows(["a", "b"], results, { ...boot, seed: 6 }, cache);
    assert.equal(
      logs.filter((l) => /bitext-rows: cached result/.test(l)).length,
      1,
      "another seed misses",
    );
  });
});

Deno.test({
  name: "cachedFigureImages() returns the rendered PNG and SVG bytes again without rendering",
  ignore: chromiumPath() === null,
  fn: async () => {
    await withTempDir(async (dir) => {
      const logs: string[] = [];
      const cache = { dir, log: (l: string) => logs.push(l) };
      const fig = {
        data: [{ type: "scatter", x: [1, 2, 3], y: [3, 1, NaN] }],
        layout: { title: { text: "t" } },
      };
      try {
        const first = await cachedFigureImages(fig, { width: 200, height: 150 }, cache);
        assert.ok(first.png.length > 100 && first.svg.startsWith("<svg"));
        const again = await cachedFigureImages(fig, { width: 200, height: 150 }, cache);
        assert.deepStrictEqual(again, first);
        assert.equal(logs.filter((l) => /figure-render: cached result/.test(l)).length, 1);
        await cachedFigureImages(fig, { width: 201, height: 150 }, cache);
        assert.equal(
          logs.filter((l) => /figure-render: cached result/.test(l)).length,
          1,
          "another size misses",
        );
      } finally {
        await closeBrowser();
      }
    });
  },
});
