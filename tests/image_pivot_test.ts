import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/backend/select_backend.ts";
import { tf } from "../lib/backend/tf.ts";
import { kFoldIndices } from "../lib/cv/k_fold.ts";
import { writeNpy } from "../lib/io/npy.ts";
import {
  alignmentEmbeddings,
  imagePivotTables,
  loadEmbeddingDir,
  publishedLookupForD,
  runImagePivotCv,
} from "../lib/image_pivot/mod.ts";
import { diagnoseLanguages } from "../lib/diagnostics/mod.ts";
import type { HoldoutLangIdRows } from "../lib/image_pivot/mod.ts";
import { ImagePivotItemRecorder, selectedStatistic } from "../lib/claims/mod.ts";
import { observedWeights } from "../lib/stats/mod.ts";
import { evaluateFold } from "../lib/retrieval/fold_evaluation.ts";
import { selectRows } from "../lib/retrieval/row_matrix.ts";
import { summarizeFolds } from "../lib/retrieval/fold_summary.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { plantedModalityGapEmbeddings } from "./helpers/planted_embeddings.ts";

await initBackend("wasm");

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("runImagePivotCv() with D's defaults raises holdout t2i R@1 and lowers i2t R@1 in every language, linear and MLP heads, on planted synthetic embeddings", async () => {
  const p = plantedModalityGapEmbeddings();
  const r = await runImagePivotCv(alignmentEmbeddings(p.images, p.textByLang), {
    diagnostics: false,
    progress: false,
  });
  const perLang = (head: string, dir: "t2i" | "i2t", l: string) =>
    mean(r.results.filter((x) => x.head === head).map((x) => x.evaluation[dir][l]!.r1));
  for (const head of ["linear", "mlp"]) {
    for (const l of r.langs) {
      const [t0, t1] = [perLang("identity", "t2i", l), perLang(head, "t2i", l)];
      const [i0, i1] = [perLang("identity", "i2t", l), perLang(head, "i2t", l)];
      assert.ok(t1 > t0, `${head} ${l}: t2i R@1 ${t0.toFixed(3)} → ${t1.toFixed(3)} should rise`);
      assert.ok(i1 < i0, `${head} ${l}: i2t R@1 ${i0.toFixed(3)} → ${i1.toFixed(3)} should drop`);
    }
  }
  const macro = (head: string, dir: "t2iMacro" | "i2tMacro") =>
    mean(r.results.filter((x) => x.head === head).map((x) => x.evaluation[dir].r1));
  // As in D: MLP > linear on t2i, and the MLP recovers part of the i2t drop.
  assert.ok(macro("mlp", "t2iMacro") > macro("linear", "t2iMacro"));
  assert.ok(macro("mlp", "i2tMacro") > macro("linear", "i2tMacro"));
});

Deno.test("runImagePivotCv({ beforeOnly }) equals evaluateFold on scikit-learn's folds and the identity rows of a full run", async () => {
  const p = plantedModalityGapEmbeddings({ n: 120, d: 16, langs: ["en", "de", "fr"] });
  const emb = alignmentEmbeddings(p.images, p.textByLang);
  const before = await runImagePivotCv(emb, { beforeOnly: true, diagnostics: true, probe: false });
  assert.deepEqual(before.heads, ["identity"]);
  const folds = kFoldIndices(120, 5, 7, { shuffle: true });
  assert.deepEqual(before.folds, folds.map((f) => f.test));
  for (const [f, fold] of folds.entries()) {
    const text = Object.fromEntries(
      emb.langs.map((l) => [l, selectRows(emb.textByLang[l]!, fold.test)]),
    );
    const direct = await evaluateFold(text, selectRows(emb.images, fold.test));
    assert.deepEqual(before.results[f]!.evaluation, direct);
  }
  const full = await runImagePivotCv(emb, {
    heads: ["linear"],
    diagnostics: true,
    probe: false,
    progress: false,
    train: { epochs: 2, stepsPerEpoch: 3, warmupSteps: 2, batchPerLang: 8 },
  });
  const identityFull = full.results.filter((x) => x.head === "identity");
  assert.deepEqual(identityFull.map((x) => x.evaluation), before.results.map((x) => x.evaluation));
  assert.deepEqual(
    identityFull.map((x) => x.diagnostics),
    before.results.map((x) => x.diagnostics),
  );
});

Deno.test("imagePivotTables() holds fold means, sample stds and deltas equal to a naive recomputation", async () => {
  const p = plantedModalityGapEmbeddings({
    n: 100,
    d: 16,
    langs: ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"],
  });
  const r = await runImagePivotCv(alignmentEmbeddings(p.images, p.textByLang), {
    diagnostics: true,
    probe: true,
    progress: false,
    train: { epochs: 2, stepsPerEpoch: 2, warmupSteps: 1, batchPerLang: 8 },
  });
  const tables = imagePivotTables(r, publishedLookupForD());
  assert.deepEqual(tables.map((t) => t.id), ["D-T1", "D-T2", "D-T3", "D-T4", "D-T5", "D-T6"]);
  const t1 = tables[0]!;
  const r1 = t1.rows.find((x) => x.metric === "R@1")!;
  for (const h of ["identity", "linear", "mlp"] as const) {
    const vals = r.results.filter((x) => x.head === h).map((x) => x.evaluation.t2iMacro.r1);
    const m = mean(vals);
    const sd = Math.sqrt(vals.reduce((s, v) => s + (v - m) ** 2, 0) / (vals.length - 1));
    assert.ok(Math.abs((r1[`${h}_mean`] as number) - m) < 1e-12);
    assert.ok(Math.abs((r1[`${h}_std`] as number) - sd) < 1e-12);
  }
  assert.equal(r1["paper Before"], "0.4735 ± 0.0077");
  const t4 = tables[3]!;
  for (const row of t4.rows) {
    const l = row.lang as string;
    const i = mean(
      r.results.filter((x) => x.head === "identity").map((x) => x.evaluation.i2t[l]!.mrr),
    );
    const m = mean(r.results.filter((x) => x.head === "mlp").map((x) => x.evaluation.i2t[l]!.mrr));
    assert.ok(Math.abs((row.mrr_delta_mlp as number) - (m - i)) < 1e-12);
  }
  const t6 = tables[5]!;
  const probe = t6.rows.find((x) => x.diagnostic === "langIdAccuracy")!;
  const expected = summarizeFolds(
    r.results.filter((x) => x.head === "linear").map((x) => x.diagnostics!.langIdAccuracy),
  );
  assert.equal(probe.linear_mean, expected.mean);
  assert.equal(
    t6.rows.find((x) => x.diagnostic === "effectiveRank")!["paper Linear"],
    "107.15 ± 1.96",
  );
});

Deno.test("runImagePivotCv() leaves tf.memory().numTensors unchanged", async () => {
  const p = plantedModalityGapEmbeddings({ n: 60, d: 8 });
  const emb = alignmentEmbeddings(p.images, p.textByLang);
  const cfg = { epochs: 2, stepsPerEpoch: 2, warmupSteps: 1, batchPerLang: 4 };
  await runImagePivotCv(emb, { diagnostics: false, progress: false, train: cfg }); // warm-up
  const before = tf.memory().numTensors;
  await runImagePivotCv(emb, { diagnostics: false, progress: false, train: cfg });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("runImagePivotCv() hands every head of a fold the same lang-ID test rows, whose hits give D-T6's lang-ID accuracy exactly", async () => {
  const langs = ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"];
  const p = plantedModalityGapEmbeddings({ n: 97, d: 12, langs });
  const emb = alignmentEmbeddings(p.images, p.textByLang);
  const cfg = { epochs: 2, stepsPerEpoch: 2, warmupSteps: 1, batchPerLang: 4 };
  const seen: { fold: number; head: string; rows: HoldoutLangIdRows }[] = [];
  const run = () => {
    const rec = new ImagePivotItemRecorder(emb.n);
    return runImagePivotCv(emb, {
      progress: false,
      train: cfg,
      onHoldout: async (fold, head, holdout, text, images, langId) => {
        assert.ok(langId, "the probe ran, so its test rows are passed on");
        seen.push({ fold, head, rows: langId });
        await rec.record(fold, head, holdout, text, images, langId);
      },
    }).then((cv) => ({ cv, o: rec.outcomes() }));
  };
  await run(); // warm-up (TF.js kernels)
  seen.length = 0;
  const before = tf.memory().numTensors;
  const { cv, o } = await run();
  assert.equal(tf.memory().numTensors, before, "numTensors flat with the lang-ID outcomes");
  const t6 = imagePivotTables(cv, publishedLookupForD())[5]!;
  const row = t6.rows.find((x) => x.diagnostic === "langIdAccuracy")!;
  for (const head of cv.heads) {
    const sel = selectedStatistic(o, {
      items: "D",
      where: { head, metric: "lang_id" },
      reduce: "pooledPerStratum",
    })!;
    assert.equal(sel.series, langs.length);
    // The observed-sample statistic is D-T6's number, to the last bit.
    assert.equal(sel.statistic(observedWeights(emb.n)), row[`${head}_mean`], head);
    for (const [f, fold] of cv.folds.entries()) {
      const hits = o.series.filter((s) => s.key.head === head && s.key.metric === "lang_id")
        .flatMap((s) => s.values.filter((_, i) => s.strata![i] === f));
      // ceil(0.3 · 9 · n_f) test rows; the fold's other (item, language) pairs have no outcome.
      assert.equal(hits.length, Math.ceil(0.3 * langs.length * fold.length));
      const acc = hits.reduce((a, v) => a + v, 0) / hits.length;
      const r = cv.results.find((x) => x.fold === f && x.head === head)!;
      assert.equal(acc, r.diagnostics!.langIdAccuracy, `fold ${f} ${head}`);
    }
  }
  // Paired: every head of a fold got the same test rows, so the series share units and strata.
  for (const f of cv.folds.keys()) {
    const rows = seen.filter((x) => x.fold === f).map((x) => x.rows);
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.deepEqual(r.test.language, rows[0]!.test.language);
      assert.deepEqual(r.test.row, rows[0]!.test.row);
    }
  }
  for (const lang of langs) {
    const of = (head: string) =>
      o.series.find((s) =>
        s.key.head === head && s.key.metric === "lang_id" && s.key.lang === lang
      )!;
    for (const head of ["linear", "mlp"]) {
      assert.deepEqual(of(head).units, of("identity").units, `${head} ${lang}`);
      assert.deepEqual(of(head).strata, of("identity").strata, `${head} ${lang}`);
    }
  }
  const all = o.series.filter((s) => s.key.metric === "lang_id").flatMap((s) => s.values);
  assert.ok(all.includes(0) && all.includes(1), "right and wrong rows in the fixture");
});

async function writeEmbeddingDir(dir: string, n = 40, d = 8, langs = ["en", "de"]) {
  const p = plantedModalityGapEmbeddings({ n, d, langs });
  await writeNpy(join(dir, "images.npy"), { dtype: "<f4", shape: [n, d], data: p.images.data });
  for (const l of langs) {
    await writeNpy(join(dir, `text_${l}.npy`), {
      dtype: "<f4",
      shape: [n, d],
      data: p.textByLang[l]!.data,
    });
  }
  return p;
}

async function expectKitError(fn: () => Promise<unknown>, pattern: RegExp) {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof KitError, `expected a KitError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("loadEmbeddingDir() names the file when shapes, N or values are wrong", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await expectKitError(() => loadEmbeddingDir(join(dir, "nope")), /does not exist/);
    await expectKitError(() => loadEmbeddingDir(dir), /images\.npy is missing/);
    await writeEmbeddingDir(dir);
    const ok = await loadEmbeddingDir(dir);
    assert.deepEqual([ok.n, ok.d, ok.langs], [40, 8, ["de", "en"]]);
    assert.match(ok.checksums["text_en.npy"]!, /^[0-9a-f]{64}$/);
    await expectKitError(
      () => loadEmbeddingDir(dir, { langs: ["en", "fr"] }),
      /text_fr\.npy is missing/,
    );

    await writeNpy(join(dir, "text_de.npy"), {
      dtype: "<f4",
      shape: [39, 8],
      data: new Float32Array(39 * 8).fill(1),
    });
    await expectKitError(
      () => loadEmbeddingDir(dir),
      /text_de\.npy: 39 rows but images\.npy has 40.*mismatched N/,
    );
    await writeNpy(join(dir, "text_de.npy"), {
      dtype: "<f4",
      shape: [40, 7],
      data: new Float32Array(40 * 7).fill(1),
    });
    await expectKitError(
      () => loadEmbeddingDir(dir),
      /text_de\.npy: 7 columns but images\.npy has 8/,
    );
    await writeNpy(join(dir, "text_de.npy"), {
      dtype: "<f4",
      shape: [320],
      data: new Float32Array(320).fill(1),
    });
    await expectKitError(() => loadEmbeddingDir(dir), /text_de\.npy: expected a 2-D array/);
    const nan = new Float32Array(320).fill(1);
    nan[3 * 8 + 2] = NaN;
    await writeNpy(join(dir, "text_de.npy"), { dtype: "<f4", shape: [40, 8], data: nan });
    await expectKitError(() => loadEmbeddingDir(dir), /text_de\.npy: row 3, column 2 is NaN/);
    const inf = new Float32Array(320).fill(1);
    inf[5] = Infinity;
    await writeNpy(join(dir, "text_de.npy"), { dtype: "<f4", shape: [40, 8], data: inf });
    await expectKitError(() => loadEmbeddingDir(dir), /row 0, column 5 is Infinity/);
    const zero = new Float32Array(320).fill(1);
    zero.fill(0, 8, 16);
    await writeNpy(join(dir, "text_de.npy"), { dtype: "<f4", shape: [40, 8], data: zero });
    await expectKitError(() => loadEmbeddingDir(dir), /text_de\.npy: row 1 is all zeros/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function runAlign(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/align.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("align --before-only --dump-folds writes D-T1…D-T6 and folds.json with the numbers of runImagePivotCv", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const emb = join(dir, "emb"), out = join(dir, "out");
    await Deno.mkdir(emb);
    await writeEmbeddingDir(emb, 50, 8, ["en", "de", "fr"]);
    const r = await runAlign([
      "--emb",
      emb,
      "--out",
      out,
      "--before-only",
      "--dump-folds",
      "--no-probe",
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const id of ["D-T1", "D-T2", "D-T3", "D-T4", "D-T5", "D-T6"]) {
      for (const ext of [".json", ".md", ".tex", ".csv"]) await Deno.stat(join(out, id + ext));
    }
    const folds = JSON.parse(await Deno.readTextFile(join(out, "folds.json")));
    assert.deepEqual(folds, kFoldIndices(50, 5, 7, { shuffle: true }).map((f) => f.test));
    const t1 = JSON.parse(await Deno.readTextFile(join(out, "D-T1.json")));
    const inProcess = await runImagePivotCv(await loadEmbeddingDir(emb), {
      beforeOnly: true,
      probe: false,
    });
    const want = summarizeFolds(inProcess.results.map((x) => x.evaluation.t2iMacro.mrr)).mean;
    assert.equal(t1.rows.find((x: { metric: string }) => x.metric === "MRR").identity_mean, want);
    assert.match(t1.provenance.signature, /kfold=7/);
    assert.ok(Object.keys(t1.provenance.inputs).includes("emb/images.npy"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("align exits 1 with a message naming the file when N does not match, and rejects bad options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeEmbeddingDir(dir, 20, 4, ["en", "de"]);
    await writeNpy(join(dir, "text_de.npy"), {
      dtype: "<f4",
      shape: [19, 4],
      data: new Float32Array(76).fill(1),
    });
    const r = await runAlign(["--emb", dir, "--out", join(dir, "o"), "--before-only"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /text_de\.npy: 19 rows but images\.npy has 20/);
    assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:\d+/);
    const bad = await runAlign(["--emb", dir, "--out", join(dir, "o"), "--heads", "linear,cnn"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"cnn" is not a head/);
    const noEmb = await runAlign(["--out", join(dir, "o")]);
    assert.equal(noEmb.code, 2); // a usage error (lib/util/cli.ts)
    assert.match(noEmb.stderr, /--emb DIR is required/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runImagePivotCv() seeds the lang-ID probe with D's langid_seed 0 (not the CV seed 7) unless told otherwise", async () => {
  const p = plantedModalityGapEmbeddings({ n: 60, d: 8, langs: ["en", "de", "fr"] });
  const emb = alignmentEmbeddings(p.images, p.textByLang);
  const probeOn = (fold: number[], seed: number) => {
    const text = Object.fromEntries(
      emb.langs.map((l) => [l, selectRows(emb.textByLang[l]!, fold)]),
    );
    return diagnoseLanguages(text, { seed, k: Math.min(10, fold.length - 1), languages: emb.langs })
      .macro.langIdAccuracy;
  };
  const r = await runImagePivotCv(emb, { beforeOnly: true, diagnostics: true, probe: true });
  assert.equal(r.langIdSeed, 0);
  // The seed matters on these data: seed 7 would give other accuracies.
  assert.ok(r.folds.some((fold) => probeOn(fold, 0) !== probeOn(fold, 7)));
  r.folds.forEach((fold, f) => {
    assert.equal(r.results[f]!.diagnostics!.langIdAccuracy, probeOn(fold, 0));
  });
  const r5 = await runImagePivotCv(emb, {
    beforeOnly: true,
    diagnostics: true,
    probe: true,
    langIdSeed: 5,
  });
  assert.equal(r5.langIdSeed, 5);
  assert.equal(r5.seed, 7);
  r5.folds.forEach((fold, f) => {
    assert.equal(r5.results[f]!.diagnostics!.langIdAccuracy, probeOn(fold, 5));
  });
});
