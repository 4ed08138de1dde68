/**
 * Translation step: language codes, engine signatures, the append-only cache (rerun = zero engine
 * calls, killed run resumes, torn last line tolerated), Apertium (batch alignment, missing command
 * or pair → one message naming the Debian package), gloss, pivot, human, NLLB's absent-model
 * message, caption records (rerun identical, partitions kept) and MT-T1 rows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  apertiumPackage,
  apertiumTranslator,
  buildCaptionRecords,
  buildGlossDictionary,
  cachedTranslator,
  type CaptionedSample,
  engineCalls,
  engineSignature,
  floresCode,
  glossSentence,
  glossTranslator,
  humanTranslator,
  isoCode,
  languageCodes,
  loadAmericasNlpDictionary,
  loadCaptionRecords,
  miniCaptionRecords,
  mtT1Rows,
  nllbModelDir,
  nllbTranslator,
  pivotTranslator,
  TranslationCache,
  translationEngines,
  type Translator,
  writeCaptionRecords,
} from "../lib/translation/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

/** A fake engine that counts its calls and sentences; `fail` throws on that call number. */
function countingEngine(
  name: string,
  pair: [string, string],
  f: (s: string) => string,
  opts: { fail?: number } = {},
): Translator & { calls: number; sentences: number } {
  const info = { name, version: "1", model: "fake", options: { pair: pair.join("-") } };
  const e = {
    info,
    signature: engineSignature(info),
    calls: 0,
    sentences: 0,
    supports: (from: string, to: string) => isoCode(from) === pair[0] && isoCode(to) === pair[1],
    translate(texts: readonly string[]) {
      e.calls++;
      if (opts.fail !== undefined && e.calls === opts.fail) {
        return Promise.reject(new Error("killed"));
      }
      e.sentences += texts.length;
      return Promise.resolve(texts.map(f));
    },
  };
  return e;
}

const apertiumInstalled = (() => {
  try {
    return new Deno.Command("apertium", { args: ["-l"], stdout: "piped", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test("languageCodes() normalises ISO 639-1/639-3, FLORES and locales (es↔spa_Latn, qu/quy↔quy_Latn)", () => {
  assert.equal(floresCode("es"), "spa_Latn");
  assert.equal(floresCode("spa"), "spa_Latn");
  assert.equal(isoCode("spa_Latn"), "es");
  for (const q of ["qu", "que", "quy", "quy_Latn", "QUY_LATN"]) {
    assert.equal(floresCode(q), "quy_Latn", q);
  }
  assert.equal(isoCode("quy_Latn"), "qu");
  assert.equal(languageCodes("ja").flores, "jpn_Jpan");
  assert.equal(languageCodes("hin_Deva").iso, "hi");
  assert.equal(isoCode("pt_BR"), "pt");
  assert.equal(languageCodes("en").iso3, "eng");
  assert.throws(
    () => languageCodes("xx_Nope"),
    (e: unknown) => e instanceof KitError && /xx_Nope/.test(e.message),
  );
});

Deno.test("engineSignature() lists engine, version, model, then sorted options", () => {
  const s = engineSignature({ name: "e", version: "2", model: "m", options: { z: 1, a: true } });
  assert.equal(s, "engine:e|version:2|model:m|a:true|z:1");
});

Deno.test("cachedTranslator() makes zero engine calls on a rerun and deduplicates", async () => {
  const dir = await Deno.makeTempDir();
  const texts = ["A cat.", "A dog.", "A cat.", "", "A bird."];
  const e1 = countingEngine("up", ["en", "es"], (s) => s.toUpperCase());
  const t1 = await cachedTranslator(e1, { dir, batchSize: 2 });
  const out1 = await t1.translate(texts, "en", "spa_Latn", { progress: false });
  assert.deepEqual(out1, ["A CAT.", "A DOG.", "A CAT.", "", "A BIRD."]);
  assert.equal(e1.sentences, 3, "each distinct non-empty sentence once");
  assert.equal(e1.calls, 2, "batches of 2");
  const e2 = countingEngine("up", ["en", "es"], () => "WRONG");
  const t2 = await cachedTranslator(e2, { dir });
  assert.deepEqual(await t2.translate(texts, "eng_Latn", "es", { progress: false }), out1);
  assert.equal(e2.calls, 0);
  assert.equal(t2.stats.engineCalls, 0);
  assert.equal(t2.stats.hits, 3);
  // Another target language or engine signature is another key.
  await t2.translate(["A cat."], "en", "qu", { progress: false });
  assert.equal(e2.calls, 1);
});

Deno.test("cachedTranslator() keeps finished batches of a run killed midway; the rerun does only the rest", async () => {
  const dir = await Deno.makeTempDir();
  const texts = Array.from({ length: 10 }, (_, i) => `sentence ${i}`);
  const killed = countingEngine("rev", ["en", "es"], (s) => [...s].reverse().join(""), { fail: 3 });
  const t1 = await cachedTranslator(killed, { dir, batchSize: 3 });
  await assert.rejects(t1.translate(texts, "en", "es", { progress: false }), /killed/);
  const again = countingEngine("rev", ["en", "es"], (s) => [...s].reverse().join(""));
  const t2 = await cachedTranslator(again, { dir, batchSize: 3 });
  const out = await t2.translate(texts, "en", "es", { progress: false });
  assert.equal(again.sentences, 4, "6 sentences of the two finished batches were kept");
  assert.deepEqual(out, texts.map((s) => [...s].reverse().join("")));
});

Deno.test("TranslationCache tolerates a partially written last line and appends after it", async () => {
  const dir = await Deno.makeTempDir();
  const c = await TranslationCache.open("engine:x", dir);
  await c.append([{ from: "en", to: "es", src: "one", out: "uno" }, {
    from: "en",
    to: "es",
    src: "two",
    out: "dos",
  }]);
  await Deno.writeTextFile(c.path, '{"k":"abc","from":"en","to":"es","src":"thr', { append: true });
  const c2 = await TranslationCache.open("engine:x", dir);
  assert.equal(c2.size, 2);
  assert.equal(c2.skippedLines, 1);
  assert.equal(c2.get("en", "es", "two"), "dos");
  await c2.append([{ from: "en", to: "es", src: "three", out: "tres" }]);
  const c3 = await TranslationCache.open("engine:x", dir);
  assert.equal(c3.get("en", "es", "three"), "tres");
  assert.equal(c3.get("en", "es", "one"), "uno");
  assert.equal(c3.size, 3);
  // A file of another signature under this name is refused.
  await assert.rejects(
    TranslationCache.open("engine:y", dir).then(async (c4) => {
      await Deno.copyFile(c.path, c4.path);
      return TranslationCache.open("engine:y", dir);
    }),
    KitError,
  );
});

Deno.test("apertiumTranslator() without Apertium fails with one message naming the Debian packages", async () => {
  await assert.rejects(
    apertiumTranslator("en", "es", { command: "apertium-not-installed-kit-test" }),
    (e: unknown) =>
      e instanceof KitError && /Apertium is not installed/.test(e.message) &&
      /apertium-eng-spa/.test(e.message) &&
      e.message.includes("apt-get install -y apertium apertium-eng-spa") &&
      e.message.includes("./kit task reproduce --only 01"),
  );
  assert.equal(apertiumPackage("spa-eng"), "apertium-eng-spa");
});

Deno.test("apertiumTranslator() without the pair names the package to install", async () => {
  const dir = await Deno.makeTempDir();
  const fake = join(dir, "apertium");
  await Deno.writeTextFile(
    fake,
    "#!/bin/sh\n[ \"$1\" = -l ] && echo '  spa-cat' && exit 0\nexit 1\n",
  );
  await Deno.chmod(fake, 0o755);
  await assert.rejects(
    apertiumTranslator("en", "es", { command: fake }),
    (e: unknown) =>
      e instanceof KitError && /no eng-spa pair/.test(e.message) &&
      /apertium-eng-spa/.test(e.message),
  );
});

Deno.test({
  name:
    "apertiumTranslator() batches sentences in one call and keeps them aligned with one-by-one translation",
  ignore: !apertiumInstalled,
  fn: async () => {
    const t = await apertiumTranslator("en", "es");
    assert.match(t.signature, /^engine:apertium\|version:[^|]+\|model:eng-spa@/);
    // Without a sentence boundary Apertium's transfer would reorder words across these lines.
    const texts = [
      "A red car",
      "big dog",
      "A badger.",
      "",
      "The cat sat on the mat",
      "the house",
      "red",
      "A small",
      "green frog",
    ];
    const batch = await t.translate(texts, "en", "es");
    assert.equal(batch.length, texts.length);
    assert.equal(batch[3], "");
    const single = [];
    for (const s of texts) single.push((await t.translate([s], "en", "es"))[0]);
    assert.deepEqual(batch, single);
    assert.equal(batch[2], "Un tejón.");
    assert.ok(t.supports("eng_Latn", "spa_Latn") && !t.supports("en", "qu"));
  },
});

const toyDict = buildGlossDictionary({
  es: ["casa.", "perro.", "flor de haba.", "flor.", "grande, enorme", "Casa."],
  quy: ["wasi.", "allqu.", "abaspa tuktun.", "tuktu.", "hatun.", "wasi."],
  files: ["dict.es", "dict.quy"],
  sha256: "toy",
});

Deno.test("glossSentence() takes the longest dictionary phrase, keeps unknown words, marks plurals with -kuna", () => {
  assert.equal(glossSentence("Una flor de haba.", toyDict), "Una abaspa tuktun.");
  assert.equal(glossSentence("La flor roja", toyDict), "La tuktu roja");
  assert.equal(
    glossSentence("Los perros y la casa enorme.", toyDict),
    "Los allqukuna y la wasi hatun.",
  );
  assert.equal(glossSentence("¿Casa?", toyDict), "¿Wasi?");
  assert.equal(glossSentence("la casa", toyDict, { dropArticles: true }), "wasi");
});

Deno.test("glossTranslator() translates es→qu only and its signature cites the dictionary", async () => {
  const g = glossTranslator(toyDict);
  assert.deepEqual(await g.translate(["casa", ""], "spa_Latn", "quy_Latn"), ["wasi", ""]);
  assert.match(g.signature, /^engine:gloss\|version:1\|model:americasnlp2021-dict@toy/);
  assert.ok(!g.supports("en", "qu"));
  await assert.rejects(g.translate(["x"], "en", "qu"), KitError);
});

Deno.test("loadAmericasNlpDictionary() reads the mirror's aligned dictionary (BOM stripped)", async () => {
  const d = await loadAmericasNlpDictionary();
  assert.equal(d.es.length, d.quy.length);
  assert.ok(d.es.length > 9000);
  assert.ok(!d.quy[0]!.startsWith("\ufeff"));
  const dict = buildGlossDictionary(d);
  assert.equal(dict.entries.get("casa"), "wasi");
});

Deno.test("pivotTranslator() chains two engines through the pivot and cites both signatures", async () => {
  const a = countingEngine("a", ["en", "es"], (s) => `es(${s})`);
  const b = countingEngine("b", ["es", "qu"], (s) => `qu(${s})`);
  const p = pivotTranslator(a, b, "spa");
  assert.deepEqual(await p.translate(["x"], "en", "qu"), ["qu(es(x))"]);
  assert.ok(p.signature.includes(a.signature) && p.signature.includes(b.signature));
  assert.ok(p.supports("en", "quy_Latn") && !p.supports("es", "qu"));
});

Deno.test("humanTranslator() answers with the dataset's human caption and refuses what it lacks", async () => {
  const h = humanTranslator([
    { captions: { en: ["A cat."], es: ["Un gato."] } },
    { captions: { en: ["A cat."], es: ["Otro gato."] } },
    { captions: { en: ["A dog."] } },
  ], "toy");
  assert.deepEqual(await h.translate(["A cat."], "en", "es"), ["Un gato."]);
  await assert.rejects(h.translate(["A dog."], "en", "es"), KitError);
  assert.equal(h.signature, "engine:human|version:-|model:dataset:toy");
});

Deno.test("nllbTranslator() without the model says where to put it and what it needs", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    nllbTranslator({ modelDir: dir }),
    (e: unknown) =>
      e instanceof KitError && e.message.includes(`NLLB-200 model not found in ${dir}`) &&
      e.message.includes("config.json") && e.hints.some((h) => h.includes("KIT_NLLB_MODEL")) &&
      e.hints.some((h) => h.includes("Xenova/nllb-200-distilled-600M")),
  );
  assert.equal(nllbModelDir({ KIT_NLLB_MODEL: "/m/nllb" }), "/m/nllb");
  assert.equal(
    nllbModelDir({ KIT_MODELS_DIR: "/models" }),
    "/models/Xenova/nllb-200-distilled-600M",
  );
});

const samples: CaptionedSample[] = [
  { key: "b2", partition: "val", captions: { en: ["A dog."], es: ["Un perro."], ja: ["犬"] } },
  {
    key: "a1",
    partition: "train",
    captions: { en: ["A cat."], es: ["Un gato."], ja: ["猫"], hi: ["बिल्ली"] },
  },
  { key: "c3", partition: "test", captions: { en: ["A cat."], hi: ["बिल्ली"] } },
  { key: "d4", partition: "train", captions: { ja: ["鳥"] } },
];

function fakeEngines() {
  return {
    apertium: countingEngine("fake-apertium", ["en", "es"], (s) => `ES ${s}`),
    gloss: countingEngine("fake-gloss", ["es", "qu"], (s) => `QU ${s}`),
  };
}

Deno.test("miniCaptionRecords() twice over one cache: zero engine calls the second time, identical records", async () => {
  const dir = await Deno.makeTempDir();
  const f1 = fakeEngines();
  const e1 = await translationEngines({ cacheDir: dir, engines: { ...f1, nllb: null } });
  const r1 = await miniCaptionRecords(samples, e1);
  assert.ok(engineCalls(e1) > 0);
  assert.equal(f1.apertium.sentences, 2, "two distinct English captions");
  const f2 = fakeEngines();
  const e2 = await translationEngines({ cacheDir: dir, engines: { ...f2, nllb: null } });
  const r2 = await miniCaptionRecords(samples, e2);
  assert.equal(engineCalls(e2), 0);
  assert.equal(f2.apertium.calls + f2.gloss.calls, 0);
  assert.deepEqual(r2, r1);
  // Contract: sorted by key, partitions from the samples, human vs machine with signatures.
  assert.deepEqual(r1.map((r) => [r.image_id, r.partition]), [["a1", "train"], ["b2", "val"], [
    "c3",
    "test",
  ], ["d4", "train"]]);
  const a1 = r1[0]!;
  assert.deepEqual(a1.captions, {
    en: "A cat.",
    es: "ES A cat.",
    ja: "猫",
    hi: "बिल्ली",
    qu: "QU ES A cat.",
  });
  assert.deepEqual(a1.origin.en, { kind: "human" });
  assert.deepEqual(a1.origin.es, { kind: "machine", engine: f1.apertium.signature, from: "en" });
  const qu = a1.origin.qu;
  assert.ok(qu?.kind === "machine" && qu.from === "en" && qu.engine.includes(f1.gloss.signature));
  assert.equal(r1[1]!.captions.hi, undefined, "no human hi caption, none invented");
  assert.deepEqual(r1[3]!.captions, { ja: "鳥" }, "no English caption: nothing machine-translated");
});

Deno.test("buildCaptionRecords() keeps human languages human (the Spanish of a human plan is the dataset's)", async () => {
  const recs = await buildCaptionRecords(samples, { es: { kind: "human" } });
  assert.equal(recs[0]!.captions.es, "Un gato.");
  assert.deepEqual(recs[0]!.origin.es, { kind: "human" });
});

Deno.test("loadCaptionRecords() says to run notebook 01 first, and reads what writeCaptionRecords wrote", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "records.json");
  await assert.rejects(
    loadCaptionRecords({ path }),
    (e: unknown) => e instanceof KitError && /run notebook 01 first/.test(e.message),
  );
  const recs = await buildCaptionRecords(samples, { en: { kind: "human" } });
  await writeCaptionRecords(recs, { dataset: "toy", sources: { en: "human" } }, { path });
  assert.deepEqual(await loadCaptionRecords({ path }), recs);
});

Deno.test("mtT1Rows() scores the Apertium and gloss rows with signatures and sentence counts; NLLB not measured", async () => {
  const dir = await Deno.makeTempDir();
  const f = fakeEngines();
  const e = await translationEngines({ cacheDir: dir, engines: { ...f, nllb: null } });
  const rows = await mtT1Rows(samples, e, { devLimit: 20 });
  const ap = rows.find((r) => r.engine === "fake-apertium" && r.pair === "en→es")!;
  assert.equal(ap.n_sentences, 2);
  assert.equal(ap.engine_signature, f.apertium.signature);
  assert.match(
    ap.chrf_signature,
    /^chrF2\|nrefs:1\|case:mixed\|eff:yes\|nc:6\|nw:0\|space:no\|version:/,
  );
  assert.match(
    ap.bleu_signature,
    /^BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:/,
  );
  const gl = rows.find((r) => r.pair === "es→qu" && r.engine === "fake-gloss")!;
  assert.equal(gl.n_sentences, 20);
  assert.ok(gl.chrf !== null && gl.chrf >= 0 && gl.chrf <= 1);
  assert.ok(rows.some((r) => r.engine === "copy" && r.pair === "es→qu"));
  const nl = rows.filter((r) => r.engine === "nllb");
  assert.equal(nl.length, 2);
  assert.ok(nl.every((r) => r.status === "not measured" && r.chrf === null && r.note !== ""));
  const calls = engineCalls(e);
  await mtT1Rows(samples, e, { devLimit: 20 });
  assert.equal(engineCalls(e), calls, "a second evaluation is answered by the caches");
});

Deno.test("TranslationCache stops naming the file and line when a cached translation was changed on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-translation-cache-" });
  try {
    const c = await TranslationCache.open("engine:x", dir);
    await c.append([{ from: "en", to: "es", src: "one", out: "uno" }, {
      from: "en",
      to: "es",
      src: "two",
      out: "dos",
    }]);
    const text = await Deno.readTextFile(c.path);
    await Deno.writeTextFile(c.path, text.replace('"out":"dos"', '"out":"dOs"')); // one byte
    await assert.rejects(TranslationCache.open("engine:x", dir), (err: unknown) => {
      assert.ok(err instanceof KitError);
      assert.ok(err.message.startsWith(`${c.path} line 3: content hash mismatch`), err.message);
      assert.match(err.describe(), /delete .* and rerun notebook 01/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
