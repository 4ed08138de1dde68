import assert from "node:assert/strict";
import {
  type BitextBenchmark,
  bitextCorrectness,
  bitextGroupRows,
  bitextLanguageRows,
  compareBitextSetups,
  evaluateBitext,
  floresBenchmarkFrom,
  inDomainBitextBenchmark,
  kT1InDomainBenchmark,
  loadFloresBitextBenchmark,
  localeXlmrGroup,
  stampBitextBenchmark,
  XLMR_LANGUAGES,
  xlmrFloresCodes,
  xlmrGroupOf,
} from "../lib/bitext_eval/mod.ts";
import { DataRegistry } from "../lib/data/registry.ts";
import { defaultDataMirror } from "../lib/config/kit_config.ts";
import { bitextFromSimilarity, diagonalHits, xsimFromCosines } from "../lib/retrieval/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import {
  hashedNgramEncoder,
  identicalEncoder,
  independentEncoder,
} from "./helpers/test_encoders.ts";

/** A synthetic FLORES-like benchmark: sentence i of language L is `L:i …`. */
function syntheticBenchmark(n: number, langs: string[]): BitextBenchmark {
  const sentences: Record<string, string[]> = {};
  for (const l of ["eng_Latn", ...langs]) {
    sentences[l] = Array.from({ length: n }, (_, i) => `${l}:${i} sentence number ${i}`);
  }
  return floresBenchmarkFrom(
    {
      languages: ["eng_Latn", ...langs],
      ids: sentences.eng_Latn!.map((_, i) => String(i)),
      sentences,
    },
    "synthetic",
  );
}
const meaning = (t: string) => t.split(":")[1]!.split(" ")[0]!;

Deno.test("xlmrGroupOf() puts the 14 SIB-200 languages in the right XLM-R groups", () => {
  const inside = [
    "spa_Latn",
    "jpn_Jpan",
    "hin_Deva",
    "arb_Arab",
    "deu_Latn",
    "fra_Latn",
    "ita_Latn",
    "por_Latn",
    "zho_Hans",
    "zho_Hant",
  ];
  for (const l of inside) assert.equal(xlmrGroupOf(l), "in-xlmr", l);
  for (const l of ["quy_Latn", "ayr_Latn", "grn_Latn"]) {
    assert.equal(xlmrGroupOf(l), "not-in-xlmr", l);
  }
  assert.throws(() => xlmrGroupOf("es"), KitError);
});

Deno.test("data/xlmr_languages.json holds XLM-R's 100 languages and 92 non-English FLORES codes", () => {
  assert.equal(XLMR_LANGUAGES.length, 100);
  assert.equal(new Set(XLMR_LANGUAGES.map((l) => l.code)).size, 100);
  const codes = xlmrFloresCodes();
  assert.equal(codes.filter((c) => c !== "eng_Latn").length, 92);
  assert.ok(codes.every((c) => /^[a-z]{3}_[A-Z][a-z]{3}$/.test(c)));
});

/** Naive per-sentence oracle: full stable sorts, xsim scoring as LASER. */
function naiveCorrect(S: Float32Array, n: number, k: number) {
  const order = (xs: number[]) => xs.map((_, i) => i).sort((a, b) => (xs[b]! - xs[a]!) || (a - b));
  const row = (i: number) => Array.from(S.subarray(i * n, (i + 1) * n));
  const col = (j: number) => Array.from({ length: n }, (_, i) => S[i * n + j]!);
  const avgR = Array.from(
    { length: n },
    (_, i) => order(row(i)).slice(0, k).reduce((s, j) => s + row(i)[j]!, 0) / k,
  );
  const avgC = Array.from(
    { length: n },
    (_, j) => order(col(j)).slice(0, k).reduce((s, i) => s + col(j)[i]!, 0) / k,
  );
  const margin = (scores: number[], avgSrc: number, avgTgt: number[]) => {
    const cands = order(scores).slice(0, k);
    let best = cands[0]!, bs = -Infinity;
    for (const j of cands) {
      const m = scores[j]! / ((avgSrc + avgTgt[j]!) / 2);
      if (m > bs) [best, bs] = [j, m];
    }
    return best;
  };
  return {
    cosAB: Array.from({ length: n }, (_, i) => (order(row(i))[0] === i ? 1 : 0)),
    cosBA: Array.from({ length: n }, (_, j) => (order(col(j))[0] === j ? 1 : 0)),
    marAB: Array.from({ length: n }, (_, i) => (margin(row(i), avgR[i]!, avgC) === i ? 1 : 0)),
    marBA: Array.from({ length: n }, (_, j) => (margin(col(j), avgC[j]!, avgR) === j ? 1 : 0)),
  };
}

Deno.test("bitextCorrectness() equals a naive per-sentence oracle, ties included", () => {
  const rng = new SeededRandom(11);
  for (const [n, k] of [[9, 4], [30, 4], [12, 1]] as const) {
    // coarse values force ties
    const S = Float32Array.from({ length: n * n }, () => Math.round(rng.normal() * 4) / 4);
    const sym = () => {
      const m = Float32Array.from({ length: n * n }, () => Math.round(rng.normal() * 4) / 4);
      for (let i = 0; i < n; i++) {
        m[i * n + i] = 1;
        for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i]!;
      }
      return m;
    };
    const within = { aa: sym(), bb: sym() };
    const { correct, accuracy } = bitextCorrectness(S, n, k, within);
    const o = naiveCorrect(S, n, k);
    assert.deepEqual(Array.from(correct.cosine.aToB), o.cosAB);
    assert.deepEqual(Array.from(correct.cosine.bToA), o.cosBA);
    assert.deepEqual(Array.from(correct.margin.aToB), o.marAB);
    assert.deepEqual(Array.from(correct.margin.bToA), o.marBA);
    const x = diagonalHits(xsimFromCosines(S, within.aa, within.bb, n, k), n);
    assert.deepEqual(Array.from(correct.xsim.aToB), Array.from(x.rows));
    assert.deepEqual(Array.from(correct.xsim.bToA), Array.from(x.cols));
    assert.deepEqual(accuracy, bitextFromSimilarity(S, n, k, within));
  }
});

Deno.test("evaluateBitext() gives accuracy 1.0 when two languages' embeddings are identical", async () => {
  const bench = syntheticBenchmark(60, ["spa_Latn", "quy_Latn"]);
  const results = await evaluateBitext(identicalEncoder(16, meaning), bench);
  for (const r of results) {
    assert.equal(r.accuracy.cosine.mean, 1);
    assert.equal(r.accuracy.margin.mean, 1);
    assert.equal(r.accuracy.xsim.mean, 1);
  }
  const rows = bitextGroupRows("eng-pivot", results, { seed: 1, resamples: 200 });
  for (const row of rows) {
    assert.deepEqual([row.mean, row.mean_ci_low, row.mean_ci_high], [1, 1, 1]);
  }
  assert.deepEqual(rows.map((r) => r.group), [
    "all",
    "all",
    "in-xlmr",
    "in-xlmr",
    "not-in-xlmr",
    "not-in-xlmr",
    "quechua",
    "quechua",
  ]);
  // Eng-Pivot's published value sits on the xsim row (K's text–text script used xsim)
  assert.equal(rows.find((r) => r.group === "all" && r.score === "xsim")!.paper_mean, 0.622);
  assert.equal(rows.find((r) => r.group === "all" && r.score === "cosine")!.paper_mean, null);
  assert.deepEqual(rows.filter((r) => r.compared === "yes").map((r) => r.score), [
    "xsim",
    "xsim",
    "xsim",
    "xsim",
  ]);
});

Deno.test("evaluateBitext() of independent random embeddings is about 1/n", async () => {
  const n = 100,
    langs = [
      "spa_Latn",
      "deu_Latn",
      "fra_Latn",
      "ita_Latn",
      "por_Latn",
      "quy_Latn",
      "ayr_Latn",
      "grn_Latn",
      "hin_Deva",
      "jpn_Jpan",
    ];
  const results = await evaluateBitext(independentEncoder(32), syntheticBenchmark(n, langs));
  const mean = (f: (r: (typeof results)[0]) => number) =>
    results.reduce((s, r) => s + f(r), 0) / results.length;
  // 10 languages × 100 sentences × 2 directions = 2000 trials, expected 20 hits (sd ≈ 4.5)
  for (
    const acc of [
      mean((r) => r.accuracy.cosine.mean),
      mean((r) => r.accuracy.margin.mean),
      mean((r) => r.accuracy.xsim.mean),
    ]
  ) {
    assert.ok(acc > 0.002 && acc < 0.025, `accuracy ${acc}, expected ≈ ${1 / n}`);
  }
});

Deno.test("evaluateBitext() with a character n-gram encoder finds near-copies and embeds English once", async () => {
  const n = 40;
  const eng = Array.from(
    { length: n },
    (_, i) =>
      `the ${["red", "green", "blue", "small", "large"][i % 5]} animal number ${
        i * 7919 % 1000
      } sleeps`,
  );
  const copy = eng.map((s) => s.replace("the", "la").replace("sleeps", "duerme"));
  const enc = hashedNgramEncoder(256);
  const bench = floresBenchmarkFrom({
    languages: ["eng_Latn", "spa_Latn"],
    ids: eng.map(String),
    sentences: { eng_Latn: eng, spa_Latn: copy },
  }, "t");
  const [r] = await evaluateBitext(enc, bench);
  assert.ok(r!.accuracy.cosine.mean > 0.9, `cosine ${r!.accuracy.cosine.mean}`);
  assert.equal(enc.calls, 2);
});

Deno.test("kT1InDomainBenchmark(): K-T1 has in-domain:* rows of their own beside the FLORES groups, no published value", async () => {
  const samples = Array.from({ length: 240 }, (_, c) => ({
    key: `k${String(c).padStart(4, "0")}`,
    partition: (c % 2 === 0 ? "test" : "train") as "test" | "train",
    group: `emoji:${c}`,
    captions: {
      en: [`en:${c} name`],
      es: [`es:${c} nombre`],
      qu: [`qu:${c} suti`],
      yue: [`yue:${c} x`],
    },
  }));
  const inDomain = kT1InDomainBenchmark(samples);
  assert.equal(inDomain.pivot.length, 120);
  assert.deepEqual(inDomain.sets.map((s) => s.groups), [
    ["in-domain:all", "in-domain:in-xlmr"],
    ["in-domain:all", "in-domain:not-in-xlmr", "in-domain:quechua"],
    ["in-domain:all", "in-domain:not-in-xlmr"],
  ]);
  const flores = syntheticBenchmark(30, ["spa_Latn", "quy_Latn"]);
  const enc = identicalEncoder(16, meaning);
  const results = [...await evaluateBitext(enc, flores), ...await evaluateBitext(enc, inDomain)];
  const rows = bitextGroupRows("multilingual", results, { seed: 1, resamples: 20 });
  const row = (g: string) => rows.find((r) => r.group === g && r.score === "cosine")!;
  assert.equal(row("all").n_languages, 2); // FLORES only
  assert.equal(row("in-domain:all").n_languages, 3);
  assert.equal(row("in-domain:quechua").n_languages, 1);
  assert.equal(row("in-domain:in-xlmr").n_languages, 1);
  assert.equal(row("in-domain:all").mean, 1);
  assert.ok(
    rows.filter((r) => r.group.startsWith("in-domain:")).every((r) => r.paper_mean === null),
  );
  // smoke: val + test, locales with ≥ 5 names
  assert.equal(kT1InDomainBenchmark(samples.slice(0, 12), { smoke: true }).pivot.length, 6);
});

Deno.test("bitextLanguageRows() and compareBitextSetups(): a perfect setup beats a random one with small p", async () => {
  const bench = syntheticBenchmark(50, ["spa_Latn", "quy_Latn"]);
  const good = await evaluateBitext(identicalEncoder(16, meaning), bench);
  const bad = await evaluateBitext(independentEncoder(16), bench);
  const langs = bitextLanguageRows("multilingual", good, { seed: 2, resamples: 100 });
  assert.equal(langs.length, 4);
  assert.ok(langs.every((r) => r.n === 50 && r.benchmark === "flores"));
  const t = compareBitextSetups(good, bad, "all", "cosine", { seed: 3, resamples: 300 });
  assert.ok(t.difference > 0.9 && t.pValue < 0.01 && t.low > 0.8);
});

Deno.test("stampBitextBenchmark() uses held-out (test) stamps only and leaves English variants out", () => {
  const partitions = ["train", "val", "test"] as const;
  const samples = Array.from({ length: 90 }, (_, i) => ({
    key: `k${String(i).padStart(3, "0")}`,
    partition: partitions[i % 3]!,
    captions: {
      en: [`stamp ${i}`],
      en_GB: [`stamp ${i}`],
      es: [`sello ${i}`],
      ...(i % 2 ? { ja: [`印 ${i}`] } : {}),
    },
  }));
  const b = stampBitextBenchmark(samples, { minPairs: 10 });
  const testKeys = new Set(
    samples.filter((s) => s.partition === "test").map((s) => s.captions.en[0]),
  );
  assert.equal(b.pivot.length, 30);
  assert.ok(
    b.pivot.every((p) => testKeys.has(p)),
    "a train/val stamp entered the held-out benchmark",
  );
  assert.deepEqual(b.sets.map((s) => s.lang), ["es", "ja"]);
  assert.equal(b.sets[1]!.texts.length, 15);
  for (const s of b.sets) {
    s.units.forEach((u, i) => assert.equal(s.texts[i]!.split(" ")[1], b.pivot[u]!.split(" ")[1]));
  }
  assert.throws(
    () => stampBitextBenchmark(samples.filter((s) => s.partition !== "test")),
    KitError,
  );
});

Deno.test("stampBitextBenchmark() keeps one unit per concept group (drawings of one emoji share names)", () => {
  const samples = ["a", "b", "c", "d", "e", "f"].map((key, i) => ({
    key,
    partition: "test" as const,
    group: `emoji:${i % 3}`,
    captions: { en: [`name ${i % 3}`], qu: [`suti ${i % 3}`] },
  }));
  const b = stampBitextBenchmark(samples, { minPairs: 2 });
  assert.deepEqual(b.pivot, ["name 0", "name 1", "name 2"]);
  assert.deepEqual([...b.sets[0]!.units], [0, 1, 2]);
});

Deno.test("inDomainBitextBenchmark() takes test concepts once each, locales with enough names, K's groups", () => {
  const partitions = ["train", "val", "test", "test"] as const;
  const samples: {
    key: string;
    partition: "train" | "val" | "test";
    group: string;
    captions: Record<string, string[]>;
  }[] = [];
  for (let c = 0; c < 40; c++) {
    for (const set of ["tw", "noto"]) {
      samples.push({
        key: `${set}${String(c).padStart(3, "0")}`,
        partition: partitions[c % 4]!,
        group: `emoji:${c}`,
        captions: {
          en: [`n${c}`],
          en_GB: [`n${c}`],
          qu: [`q${c}`],
          es: [`e${c}`],
          ...(c % 8 === 2 ? { yue: [`y${c}`] } : {}),
        },
      });
    }
  }
  const b = inDomainBitextBenchmark(samples, { minNames: 5 });
  assert.equal(b.pivot.length, 20); // concepts with c % 4 ∈ {2, 3}, once each
  assert.ok(b.pivot.every((p) => [2, 3].includes(Number(p.slice(1)) % 4)));
  assert.deepEqual(b.sets.map((s) => s.lang), ["es", "qu", "yue"]);
  assert.deepEqual(b.sets.map((s) => s.groups), [
    ["all", "in-xlmr"],
    ["all", "not-in-xlmr", "quechua"],
    ["all", "not-in-xlmr"],
  ]);
  for (const s of b.sets) {
    s.units.forEach((u, i) => assert.equal(s.texts[i]!.slice(1), b.pivot[u]!.slice(1)));
  }
  // yue has 5 test names: dropped at minNames 6.
  assert.deepEqual(inDomainBitextBenchmark(samples, { minNames: 6 }).sets.map((s) => s.lang), [
    "es",
    "qu",
  ]);
  assert.equal(
    inDomainBitextBenchmark(samples, { partitions: ["val", "test"], minNames: 5 }).pivot.length,
    30,
  );
  assert.throws(() => inDomainBitextBenchmark(samples, { minNames: 100 }), KitError);
});

Deno.test("localeXlmrGroup() maps CLDR/Tux Paint locales to XLM-R's list by language subtag", () => {
  for (
    const l of ["es", "pt_PT", "zh", "zh_Hant", "fil", "nn", "hi_Latn", "sr_Latn", "ca@valencia"]
  ) {
    assert.equal(localeXlmrGroup(l), "in-xlmr", l);
  }
  for (const l of ["qu", "yue", "chr", "haw", "ig", "quc", "kl"]) {
    assert.equal(localeXlmrGroup(l), "not-in-xlmr", l);
  }
  assert.throws(() => localeXlmrGroup("1x"), KitError);
});

const mirror = defaultDataMirror();
Deno.test({
  name:
    "loadFloresBitextBenchmark() (mini) reads SIB-200's test split only: 204 sentences, 13 languages",
  ignore: mirror === null,
  fn: async () => {
    const reg = new DataRegistry({ mirror, cacheRoot: await Deno.makeTempDir(), quiet: true });
    const b = await loadFloresBitextBenchmark({ profile: "mini", smoke: false }, reg);
    assert.equal(b.pivot.length, 204);
    assert.equal(b.sets.length, 13);
    const testTsv = await Deno.readTextFile(`${mirror}/sib200/eng_Latn/test.tsv`);
    assert.ok(b.pivot.every((s) => testTsv.includes(s)));
    const devTsv = await Deno.readTextFile(`${mirror}/sib200/eng_Latn/dev.tsv`);
    assert.ok(!b.pivot.some((s) => devTsv.includes(s)));
    assert.deepEqual(b.sets.filter((s) => s.groups.includes("not-in-xlmr")).map((s) => s.lang), [
      "ayr_Latn",
      "grn_Latn",
      "quy_Latn",
    ]);
    const smoke = await loadFloresBitextBenchmark({ profile: "mini", smoke: true }, reg);
    assert.equal(smoke.pivot.length, 24);
  },
});
