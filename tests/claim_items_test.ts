import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bitextGroupRows,
  bitextGroupStatistic,
  evaluateBitext,
  floresBenchmarkFrom,
} from "../lib/bitext_eval/mod.ts";
import {
  bitextItemOutcomes,
  CLAIMS,
  evaluateClaims,
  ImagePivotItemRecorder,
  type ItemSeries,
  nliItemOutcomes,
  perItemMeanCosine,
  pooledMacroMean,
  pooledPerStratumMean,
  readItemOutcomes,
  selectedStatistic,
  setStatisticReplicates,
  weightedEffectiveRank,
  weightedGramCorrelation,
  weightedSkewness,
  weightedTopShare,
  writeItemOutcomes,
} from "../lib/claims/mod.ts";
import { writeTableArtifact } from "../lib/artifacts/mod.ts";
import { meanCosine } from "../lib/diagnostics/mean_cosine.ts";
import { gram } from "../lib/diagnostics/gram.ts";
import { populationSkewness, roundHalfEven } from "../lib/diagnostics/hubness.ts";
import { alignmentEmbeddings, runImagePivotCv } from "../lib/image_pivot/mod.ts";
import { macroMeanStatistic, observedWeights } from "../lib/stats/mod.ts";
import { intervalVerdict } from "../lib/stats/interval_verdict.ts";
import { nliRows, nliStatistic } from "../lib/xnli/mod.ts";
import type { NliLanguageResult } from "../lib/xnli/mod.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import { identicalEncoder, independentEncoder } from "./helpers/test_encoders.ts";
import { initBackend } from "../lib/backend/select_backend.ts";

await initBackend("wasm"); // the result cache's key names the numeric backend

Deno.test("intervalVerdict() decides from where the interval lies, for each kind of claim", () => {
  const cases: [number, number, Parameters<typeof intervalVerdict>[2], string][] = [
    [-0.028, 0.032, { kind: "above", threshold: 0 }, "inconclusive"],
    [0.08, 0.12, { kind: "above", threshold: 0 }, "holds"],
    [-0.12, -0.08, { kind: "above", threshold: 0 }, "does not hold"],
    [0, 0, { kind: "above", threshold: 0 }, "does not hold"], // identical systems: not above
    [0.001, 0.004, { kind: "atMost", threshold: 0.005 }, "holds"],
    [0.006, 0.01, { kind: "atMost", threshold: 0.005 }, "does not hold"],
    [0.003, 0.007, { kind: "atMost", threshold: 0.005 }, "inconclusive"],
    [-0.015, -0.001, { kind: "atLeast", threshold: -0.02 }, "holds"],
    [-0.05, -0.03, { kind: "atLeast", threshold: -0.02 }, "does not hold"],
    [-0.03, -0.01, { kind: "atLeast", threshold: -0.02 }, "inconclusive"],
    [-0.01, 0.01, { kind: "within", margin: 0.02 }, "holds"],
    [0.03, 0.05, { kind: "within", margin: 0.02 }, "does not hold"],
    [-0.05, -0.03, { kind: "within", margin: 0.02 }, "does not hold"],
    [0.01, 0.03, { kind: "within", margin: 0.02 }, "inconclusive"],
    [-0.03, 0.03, { kind: "within", margin: 0.02 }, "inconclusive"],
  ];
  for (const [lo, hi, side, want] of cases) {
    assert.equal(intervalVerdict(lo, hi, side), want, `[${lo}, ${hi}] ${JSON.stringify(side)}`);
  }
  assert.throws(() => intervalVerdict(0.1, 0, { kind: "above", threshold: 0 }), /low ≤ high/);
});

Deno.test("pooledMacroMean() equals macroMeanStatistic() over the same series in every resample", () => {
  const rng = new SeededRandom(11);
  const n = 30;
  const even = Array.from({ length: 15 }, (_, i) => 2 * i);
  const series: ItemSeries[] = [
    { key: {}, space: "u", values: Array.from({ length: n }, () => rng.next()) },
    { key: {}, space: "u", values: Array.from({ length: n }, () => rng.next()) },
    { key: {}, space: "u", units: even, values: even.map(() => rng.int(2)) },
    { key: {}, space: "u", units: even, values: even.map(() => rng.int(2)) },
    { key: {}, space: "u", units: [3, 5], values: [1, 0] },
  ];
  const fast = pooledMacroMean(series);
  const naive = macroMeanStatistic(
    series.map((s) => (s.units ? { values: s.values, units: s.units } : { values: s.values })),
  );
  for (let b = 0; b < 200; b++) {
    const w = Int32Array.from({ length: n }, () => rng.int(3));
    const [x, y] = [fast(w), naive(w)];
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x));
    else assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  }
  assert.ok(Math.abs(fast(observedWeights(n)) - naive(observedWeights(n))) < 1e-12);
});

function syntheticBenchmark(n: number, langs: string[]) {
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

Deno.test("bitextItemOutcomes() reproduces K-T1's group statistic, and CLAIMS decides K1a/K2a from it", async () => {
  const bench = syntheticBenchmark(40, ["spa_Latn", "quy_Latn"]);
  const good = await evaluateBitext(identicalEncoder(16, meaning), bench);
  const bad = await evaluateBitext(independentEncoder(16), bench);
  const o = bitextItemOutcomes({ "multilingual": good, "eng-only": bad, "multilingual-qu": bad });
  assert.equal(o.series.length, 3 * 2 * 2);
  for (const [setup, res] of [["multilingual", good], ["eng-only", bad]] as const) {
    for (const group of ["all", "quechua"]) {
      const sel = selectedStatistic(o, {
        items: "K-T1",
        where: { setup, score: "cosine", benchmark: "flores" },
        group,
      })!;
      const ref = bitextGroupStatistic(res, group, "cosine");
      const w = observedWeights(sel.units);
      assert.equal(sel.units, ref.units);
      assert.ok(Math.abs(sel.statistic(w) - ref.statistic(w)) < 1e-12);
      const row = bitextGroupRows(setup, res, { seed: 1, resamples: 20 })
        .find((r) => r.group === group && r.score === "cosine")!;
      assert.ok(Math.abs(sel.statistic(w) - row.mean) < 1e-12, `${setup} ${group}`);
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "kit-claim-items-" });
  try {
    const rows = [
      ...bitextGroupRows("multilingual", good, { seed: 1, resamples: 20 }),
      ...bitextGroupRows("eng-only", bad, { seed: 1, resamples: 20 }),
      ...bitextGroupRows("multilingual-qu", bad, { seed: 1, resamples: 20 }),
    ];
    await writeTableArtifact({ id: "K-T1", title: "t", rows, outDir: dir });
    await writeItemOutcomes(dir, o);
    assert.deepEqual(await readItemOutcomes(dir, "K-T1"), JSON.parse(JSON.stringify(o)));
    const { rows: c } = await evaluateClaims({
      artifactDir: dir,
      claims: CLAIMS.filter((x) => x.id === "K1a" || x.id === "K2a"),
    });
    assert.equal(c[0]!.verdict, "holds", c[0]!.values);
    assert.equal(c[1]!.verdict, "does not hold", c[1]!.values); // +Quechua (random) < Multilingual
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nliItemOutcomes() reproduces K-T2's average statistic over parallel test pairs", () => {
  const rng = new SeededRandom(5);
  const res = (p: number): NliLanguageResult[] =>
    ["en", "es"].map((lang) => {
      const correct = Uint8Array.from({ length: 30 }, () => (rng.next() < p ? 1 : 0));
      return {
        dataset: "xnli" as const,
        lang,
        n: 30,
        units: Int32Array.from({ length: 30 }, (_, i) => i),
        datasetUnits: 30,
        correct,
        accuracy: correct.reduce((s, x) => s + x, 0) / 30,
      };
    });
  const a = res(0.7), b = res(0.4);
  const o = nliItemOutcomes({ "multilingual": a, "xlmr": b });
  assert.deepEqual(o.spaces, { xnli: { units: 30, unit: "xnli test pair" } });
  for (const [setup, r] of [["multilingual", a], ["xlmr", b]] as const) {
    const sel = selectedStatistic(o, { items: "K-T2", where: { setup, dataset: "xnli" } })!;
    const ref = nliStatistic(r, "xnli", "avg");
    const row = nliRows(setup, r, { seed: 1, resamples: 20 }).find((x) => x.lang === "avg")!;
    const rng2 = new SeededRandom(9);
    for (let k = 0; k < 20; k++) {
      const w = Int32Array.from({ length: 30 }, () => rng2.int(3));
      const [x, y] = [sel.statistic(w), ref.statistic(w)];
      assert.ok(Math.abs(x - y) < 1e-12 || (Number.isNaN(x) && Number.isNaN(y)));
    }
    assert.ok(Math.abs(sel.statistic(observedWeights(30)) - row.accuracy) < 1e-12);
  }
});

Deno.test("ImagePivotItemRecorder's per-item outcomes average, fold by fold, to the CV's R@1 and mean cosine", async () => {
  const rng = new SeededRandom(3);
  const n = 63, d = 6;
  const mat = () => ({
    data: Float32Array.from({ length: n * d }, () => rng.normal()),
    rows: n,
    cols: d,
  });
  const images = mat();
  const noisy = () => ({
    ...images,
    data: images.data.map((x) => x + 1.2 * rng.normal()),
  });
  const emb = alignmentEmbeddings(images, { en: noisy(), de: noisy(), fr: noisy() });
  const rec = new ImagePivotItemRecorder(n);
  const cv = await runImagePivotCv(emb, {
    beforeOnly: true,
    probe: false,
    onHoldout: rec.record,
    progress: false,
  });
  const o = rec.outcomes();
  assert.equal(o.spaces.items!.units, n);
  assert.equal(o.series.length, 3 + 3 + 6 + 3 + 3);
  // Table 6's hubness from the per-item k-occurrences, per fold then over folds.
  for (const [reduce, field] of [["skewness", "hubSkewness"], ["hubRatio", "hubRatio"]] as const) {
    const sel = selectedStatistic(o, {
      items: "D",
      where: { head: "identity", metric: "k_occurrence_share" },
      reduce,
    })!;
    const want = cv.results.reduce((s, r) => s + r.diagnostics![field], 0) / cv.results.length;
    assert.ok(Number.isFinite(want));
    assert.ok(Math.abs(sel.statistic(observedWeights(n)) - want) < 1e-9, `${reduce}`);
  }
  for (const r of cv.results) {
    const fold = cv.folds[r.fold]!;
    const inFold = (s: ItemSeries) => {
      const pos = s.units!.map((u, i) => [u, i] as const).filter(([u]) => fold.includes(u));
      assert.equal(pos.length, fold.length);
      return pos.reduce((acc, [, i]) => acc + s.values[i]!, 0) / fold.length;
    };
    const get = (metric: string, lang: string) =>
      o.series.find((s) =>
        s.key.metric === metric && s.key.lang === lang && s.key.head === r.head
      )!;
    for (const l of emb.langs) {
      assert.ok(Math.abs(inFold(get("t2i_r1", l)) - r.evaluation.t2i[l]!.r1) < 1e-12);
      assert.ok(Math.abs(inFold(get("i2t_r1", l)) - r.evaluation.i2t[l]!.r1) < 1e-12);
    }
    for (const p of r.evaluation.pivot!.pairs) {
      assert.ok(Math.abs(inFold(get("pivot_r1", `${p.src}>${p.tgt}`)) - p.r1) < 1e-12);
    }
    const mc = emb.langs.map((l) => inFold(get("mean_cosine", l)));
    const macro = mc.reduce((s, x) => s + x, 0) / mc.length;
    assert.ok(
      Math.abs(macro - r.diagnostics!.meanCosine) < 1e-9,
      `${macro} vs ${r.diagnostics!.meanCosine}`,
    );
  }
  // Set statistics: the identity head's replicates are setStatisticReplicates on the recorded
  // folds (the first 400 of the claims' resamples), and their all-ones value is D-T6's number.
  const rep = (metric: string) => o.replicates!.find((r) => r.key.metric === metric)!;
  assert.deepEqual(o.replicates!.map((r) => r.key.head), ["identity", "identity"]);
  const folds = cv.folds.map((units) => ({
    units,
    byLang: Object.fromEntries(emb.langs.map((l) => {
      const x = emb.textByLang[l]!;
      const data = Float32Array.from(units.flatMap((u) => [...x.data.slice(u * d, u * d + d)]));
      return [l, { data, rows: units.length, cols: d }];
    })),
  }));
  const want = setStatisticReplicates(folds, n, { seed: 2025, resamples: 400 });
  assert.equal(rep("effective_rank").values.length, 400);
  assert.equal(rep("effective_rank").seed, 2025);
  rep("effective_rank").values.forEach((v, b) => assert.equal(v, want.effectiveRank[b]));
  rep("gram_correlation").values.forEach((v, b) => assert.equal(v, want.gramCorrelation[b]));
  const ones = new Array(n).fill(1);
  for (const key of ["effectiveRank", "gramCorrelation"] as const) {
    const dt6 = cv.results.reduce((s, r) => s + r.diagnostics![key], 0) / cv.results.length;
    const obs = folds.reduce((s, f) => {
      const w = ones.slice(0, f.units.length), mats = Object.values(f.byLang);
      return s +
        (key === "effectiveRank"
          ? mats.reduce((a, m) => a + weightedEffectiveRank(m, w), 0) / mats.length
          : weightedGramCorrelation(mats.map((m) => gram(m).data), f.units.length, w));
    }, 0) / folds.length;
    assert.ok(Math.abs(obs - dt6) < 1e-9 * Math.abs(dt6), `${key}: ${obs} vs ${dt6}`);
  }
  // The replicates survive the file round trip.
  const dir = await Deno.makeTempDir();
  try {
    await writeItemOutcomes(dir, o);
    assert.deepEqual((await readItemOutcomes(dir, "D"))!.replicates, o.replicates);
    // cachedOutcomes(): the same outcomes; a second call reads the replicates from the cache.
    const lines: string[] = [];
    const cache = { dir: join(dir, "cache"), log: (l: string) => lines.push(l) };
    assert.deepEqual(await rec.cachedOutcomes(cache), o);
    assert.equal(lines.filter((l) => l.includes("cached result")).length, 0);
    assert.deepEqual(await rec.cachedOutcomes(cache), o);
    assert.equal(lines.filter((l) => /d-set-replicates: cached result/.test(l)).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Every item once per head: a second fold with the same item, or an item never held out, is an error.
  const small = new ImagePivotItemRecorder(4);
  const two = { data: images.data.slice(0, 2 * d), rows: 2, cols: d };
  await small.record(0, "identity", [0, 1], { en: two }, two);
  assert.throws(() => small.outcomes(), /head identity covered 2 of 4 items/);
  await assert.rejects(
    small.record(1, "identity", [1, 2], { en: two }, two),
    /item 1 is in two holdout folds of head identity/,
  );
});

Deno.test("weightedSkewness() and weightedTopShare() equal the hubness statistics of the expanded sample", () => {
  const rng = new SeededRandom(21);
  for (let t = 0; t < 20; t++) {
    const n = 5 + rng.int(150);
    const values = Array.from({ length: n }, () => rng.int(12));
    const w = Array.from({ length: n }, () => rng.int(3));
    const expanded = values.flatMap((v, i) => new Array(w[i]!).fill(v) as number[]);
    if (expanded.length === 0) continue;
    const skew = populationSkewness(expanded);
    const got = weightedSkewness(values, w);
    assert.ok(
      Number.isNaN(skew) ? Number.isNaN(got) : Math.abs(got - skew) < 1e-9,
      `${got} ${skew}`,
    );
    // hubness(): top max(1, round(0.01·n)) in-degrees / (n·k); here values = in-degree / k, k = 1.
    const top = Math.max(1, roundHalfEven(0.01 * expanded.length));
    const sorted = [...expanded].sort((a, b) => b - a);
    const naive = sorted.slice(0, top).reduce((s, x) => s + x, 0) / expanded.length;
    assert.ok(Math.abs(weightedTopShare(values, w) - naive) < 1e-12);
  }
});

Deno.test("pooledPerStratumMean() equals the per-stratum accuracy of the expanded sample, averaged over strata", () => {
  const rng = new SeededRandom(31);
  for (let t = 0; t < 30; t++) {
    const n = 20 + rng.int(60), strataCount = 2 + rng.int(4);
    // Units in strata (as folds); each series holds a random subset of them (a test split), the
    // units of one series possibly appearing in another series too.
    const stratumOf = Array.from({ length: n }, () => rng.int(strataCount));
    const series: ItemSeries[] = Array.from({ length: 1 + rng.int(4) }, (_, k) => {
      const units = Array.from({ length: n }, (_, u) => u).filter(() => rng.next() < 0.4);
      if (units.length === 0) units.push(k % n);
      return {
        key: { lang: `l${k}` },
        space: "items",
        units,
        strata: units.map((u) => stratumOf[u]!),
        values: units.map(() => rng.int(2)),
      };
    });
    const stat = pooledPerStratumMean(series);
    for (let r = 0; r < 5; r++) {
      const w = r === 0
        ? observedWeights(n)
        : Int32Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : rng.int(3)));
      // Naive: expand every value by its unit's multiplicity, pool all series per stratum.
      const perStratum: number[] = [];
      for (let k = 0; k < strataCount; k++) {
        const expanded = series.flatMap((s) =>
          s.values.flatMap((v, i) =>
            s.strata![i] === k ? new Array(w[s.units![i]!]!).fill(v) as number[] : []
          )
        );
        if (expanded.length > 0) {
          perStratum.push(expanded.reduce((a, v) => a + v, 0) / expanded.length);
        }
      }
      const want = perStratum.length === 0
        ? NaN
        : perStratum.reduce((a, v) => a + v, 0) / perStratum.length;
      const got = stat(w);
      assert.ok(
        Number.isNaN(want) ? Number.isNaN(got) : Math.abs(got - want) < 1e-12,
        `${got} vs ${want}`,
      );
      if (r === 0) assert.equal(got, want, "observed sample: the same floating-point number");
    }
  }
  assert.throws(
    () => pooledPerStratumMean([{ key: { a: "x" }, space: "items", values: [1] }]),
    /\{"a":"x"\} has no "strata"/,
  );
});

Deno.test("ImagePivotItemRecorder records lang_id only for the probe's test rows and rejects rows outside the holdout", async () => {
  const d = 3;
  const rows = (n: number) => ({
    data: Float32Array.from({ length: n * d }, (_, i) => Math.sin(i + 1)),
    rows: n,
    cols: d,
  });
  const rec = new ImagePivotItemRecorder(6);
  const test = {
    language: Int32Array.from([0, 1, 1]),
    row: Int32Array.from([2, 0, 1]),
    correct: Uint8Array.from([1, 0, 1]),
  };
  await rec.record(0, "identity", [4, 1, 5], { en: rows(3), de: rows(3) }, rows(3), {
    languages: ["en", "de"],
    test,
  });
  await rec.record(1, "identity", [0, 2, 3], { en: rows(3), de: rows(3) }, rows(3), null);
  const o = rec.outcomes();
  const get = (lang: string) =>
    o.series.find((s) => s.key.metric === "lang_id" && s.key.lang === lang)!;
  assert.deepEqual(get("en").units, [5]);
  assert.deepEqual(get("en").values, [1]);
  assert.deepEqual(get("de").units, [4, 1]);
  assert.deepEqual(get("de").values, [0, 1]);
  assert.deepEqual(get("de").strata, [0, 0]);
  const bad = new ImagePivotItemRecorder(6);
  await assert.rejects(
    bad.record(0, "identity", [4, 1, 5], { en: rows(3) }, rows(3), {
      languages: ["en"],
      test: {
        language: Int32Array.from([0]),
        row: Int32Array.from([3]),
        correct: Uint8Array.of(1),
      },
    }),
    /lang-ID test row 0 \(language 0, row 3\) is outside the 1 languages × 3 holdout rows/,
  );
  await assert.rejects(
    new ImagePivotItemRecorder(6).record(0, "identity", [4, 1, 5], { en: rows(3) }, rows(3), {
      languages: ["en", "xx"],
      test,
    }),
    /lang-ID probe language "xx" has no holdout captions/,
  );
});

Deno.test("perItemMeanCosine() averages to meanCosine() (the strict upper triangle of the cosine Gram)", () => {
  const rng = new SeededRandom(8);
  const m = { data: Float32Array.from({ length: 7 * 5 }, () => rng.normal()), rows: 7, cols: 5 };
  const per = perItemMeanCosine(m);
  const mean = per.reduce((s, x) => s + x, 0) / per.length;
  assert.ok(
    Math.abs(mean - meanCosine({ data: Float64Array.from(m.data), rows: 7, cols: 5 })) < 1e-12,
  );
  // Naive: item 0's mean cosine with the 6 others.
  const row = (i: number) => Array.from(m.data.subarray(i * 5, i * 5 + 5));
  const cos = (a: number[], b: number[]) =>
    a.reduce((s, x, k) => s + x * b[k]!, 0) /
    Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
  let s0 = 0;
  for (let j = 1; j < 7; j++) s0 += cos(row(0), row(j));
  assert.ok(Math.abs(per[0]! - s0 / 6) < 1e-6);
});

Deno.test("writeItemOutcomes() refuses outcomes whose units fall outside their space", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-claim-items-" });
  try {
    await assert.rejects(
      writeItemOutcomes(dir, {
        id: "Y",
        description: "bad",
        spaces: { u: { units: 3, unit: "item" } },
        series: [{ key: { a: "b" }, space: "u", units: [0, 3], values: [1, 0] }],
      }),
      /items\/Y\.json: series\[0\]\.units\[1\]: expected an integer in \[0, 3\), got 3/,
    );
    await assert.rejects(Deno.stat(join(dir, "items", "Y.json")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeItemOutcomes() stores 0/½/1 series as digit strings and reads them back exactly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-claim-items-" });
  try {
    const o = {
      id: "H",
      description: "halves",
      spaces: { u: { units: 4, unit: "item" } },
      series: [
        { key: { s: "halves" }, space: "u", values: [0, 0.5, 1, 1] },
        { key: { s: "units" }, space: "u", units: [3, 1], strata: [0, 1], values: [1, 0] },
        { key: { s: "metric" }, space: "u", values: [0.25, 1, 0, 0.5] },
      ],
    };
    const path = await writeItemOutcomes(dir, o);
    const stored = JSON.parse(await Deno.readTextFile(path)) as {
      series: { halves?: string; values?: number[] }[];
      content_sha256?: string;
    };
    assert.match(stored.content_sha256 ?? "", /^[0-9a-f]{64}$/);
    // the format checks below read edited copies without the seal (as files written before it)
    delete stored.content_sha256;
    assert.deepEqual(stored.series.map((s) => s.halves ?? null), ["0122", "20", null]);
    assert.deepEqual(stored.series[2]!.values, [0.25, 1, 0, 0.5]);
    assert.deepEqual(await readItemOutcomes(dir, "H"), o);
    for (
      const [bad, message] of [
        [
          "0132",
          /items\/H\.json: series\[0\]\.halves: expected a non-empty string of the digits 0, 1, 2/,
        ],
        ["", /series\[0\]\.halves: expected a non-empty string/],
      ] as const
    ) {
      const damaged = structuredClone(stored);
      damaged.series[0]!.halves = bad;
      await Deno.writeTextFile(path, JSON.stringify(damaged));
      await assert.rejects(readItemOutcomes(dir, "H"), message);
    }
    const both = structuredClone(stored);
    both.series[0]!.values = [0, 0, 0, 0];
    await Deno.writeTextFile(path, JSON.stringify(both));
    await assert.rejects(
      readItemOutcomes(dir, "H"),
      /series\[0\]: expected "values" or "halves", not both/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

interface StatsGolden {
  n: number;
  resamples: number;
  seed: number;
  a: number[];
  b: number[];
  macro: { units2: number[] };
  claim_min_gain: { c: number[]; estimate: number; low: number; high: number };
  claim_greatest: { estimate: number; low: number; high: number };
}

Deno.test("the 'allPositive' and 'greatest' claims' intervals equal numpy's on the same resamples", async () => {
  const g: StatsGolden = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/stats_golden.json", import.meta.url)),
  );
  const c = g.claim_min_gain.c, u2 = g.macro.units2;
  const dir = await Deno.makeTempDir({ prefix: "kit-claim-golden-" });
  try {
    const write = (id: string, rows: Record<string, unknown>[]) =>
      Deno.writeTextFile(join(dir, `${id}.json`), JSON.stringify({ id, rows }));
    await write("X", [{ lang: "l1", gain: 0 }, { lang: "l2", gain: 0 }]);
    await write("G", ["a", "b", "c"].map((sys) => ({ sys, v: 0 })));
    const space = { u: { units: g.n, unit: "unit" } };
    await writeItemOutcomes(dir, {
      id: "X",
      description: "golden",
      spaces: space,
      series: [
        { key: { side: "a", lang: "l1" }, space: "u", values: g.a },
        { key: { side: "b", lang: "l1" }, space: "u", values: g.b },
        { key: { side: "a", lang: "l2" }, space: "u", units: u2, values: u2.map((i) => g.a[i]!) },
        { key: { side: "b", lang: "l2" }, space: "u", units: u2, values: u2.map((i) => c[i]!) },
      ],
    });
    await writeItemOutcomes(dir, {
      id: "G",
      description: "golden",
      spaces: space,
      series: [["a", g.a], ["b", g.b], ["c", c]].map(([sys, values]) => ({
        key: { sys: sys as string },
        space: "u",
        values: values as number[],
      })),
    });
    const { rows } = await evaluateClaims({
      artifactDir: dir,
      bootstrap: { seed: g.seed, resamples: g.resamples, level: 0.95 },
      claims: [
        {
          id: "P",
          paper: "D",
          claim: "every language gains",
          source: "test",
          test: {
            kind: "allPositive",
            artifact: "X",
            key: "lang",
            field: "gain",
            minRows: 2,
            label: "gain",
            items: {
              a: { items: "X", where: { side: "a" } },
              b: { items: "X", where: { side: "b" } },
            },
          },
        },
        {
          id: "Q",
          paper: "K",
          claim: "a is best",
          source: "test",
          test: {
            kind: "greatest",
            artifact: "G",
            where: {},
            vary: "sys",
            best: "a",
            field: "v",
            label: "v",
            items: { items: "G", where: {} },
          },
        },
      ],
    });
    for (
      const [row, want] of [[rows[0]!, g.claim_min_gain], [rows[1]!, g.claim_greatest]] as const
    ) {
      const m = row.values.match(/([+-][\d.]+) \[([+-][\d.]+), ([+-][\d.]+)\]$/);
      assert.ok(m, row.values);
      const got = [Number(m[1]), Number(m[2]), Number(m[3])];
      [want.estimate, want.low, want.high].forEach((x, i) =>
        assert.ok(Math.abs(got[i]! - x) <= 5e-5 + 1e-12, `${row.id}: ${got} vs numpy ${x}`)
      );
      assert.ok(row.note.includes(`${g.resamples} of ${g.resamples} resamples used`), row.note);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
