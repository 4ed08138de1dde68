// Before/after of issue 27's two fast paths in one process (same machine load for both):
// the lang-ID probe's fit with JavaScript products vs dgemm, and D5's effective-rank replicate
// from centred rows (dsyrk) vs read off the fold's Gram, on fold 0 of an embedding folder.
//
//   ./kit run -A bench/rehearsal/d05_fast_paths.ts <run>/figures/d_embeddings [resamples]
import { loadavg } from "node:os";
import process from "node:process";
import { initBackend } from "../../lib/backend/mod.ts";
import { loadEmbeddingDir } from "../../lib/image_pivot/embedding_dir.ts";
import { kFoldIndices } from "../../lib/cv/k_fold.ts";
import { selectRows } from "../../lib/retrieval/row_matrix.ts";
import {
  selectRows as selectLabelled,
  stackLanguages,
} from "../../lib/diagnostics/lang_id_probe.ts";
import { stratifiedSplit } from "../../lib/diagnostics/stratified_split.ts";
import {
  fitMultinomialLogistic,
  predictMultinomialLogistic,
} from "../../lib/diagnostics/logistic_regression.ts";
import { weightedEffectiveRank } from "../../lib/claims/set_statistic_replicates.ts";
import { gram } from "../../lib/diagnostics/gram.ts";
import { forEachBootstrapResample } from "../../lib/stats/mod.ts";

const dir = Deno.args[0];
if (!dir) throw new Error("usage: d05_fast_paths.ts <embedding folder> [resamples]");
const resamples = Number(Deno.args[1] ?? 3);
console.log(`backend ${(await initBackend("auto")).name}; load ${loadavg()[0]!.toFixed(1)}`);
const emb = await loadEmbeddingDir(dir);
const fold = kFoldIndices(emb.n, 5, 7, { shuffle: true })[0]!;
const mats = emb.langs.map((l) => selectRows(emb.textByLang[l]!, fold.test, l));

const all = stackLanguages(mats);
const split = stratifiedSplit(all.labels, 0.3, 0);
const train = selectLabelled(all, split.train), test = selectLabelled(all, split.test);
for (const products of ["js", "native"] as const) {
  const t = performance.now(), c0 = process.cpuUsage();
  const m = fitMultinomialLogistic(train.x, train.labels, { classes: 9, products });
  const c = process.cpuUsage(c0);
  const pred = predictMultinomialLogistic(m, test.x);
  const acc = pred.reduce((s, v, i) => s + (v === test.labels[i] ? 1 : 0), 0) / pred.length;
  console.log(
    `probe fit, products ${products}: ${((performance.now() - t) / 1000).toFixed(1)} s wall, ${
      ((c.user + c.system) / 1e6).toFixed(1)
    } s CPU, ${m.iterations} iterations, accuracy ${acc}`,
  );
}

const grams = mats.map((m) => gram(m).data);
const w = new Float64Array(fold.test.length);
let rows = 0, viaGram = 0, rowsCpu = 0, viaGramCpu = 0, rel = 0, calls = 0;
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e3;
forEachBootstrapResample(emb.n, resamples, 2025, (counts) => {
  fold.test.forEach((u, i) => (w[i] = counts[u]!));
  mats.forEach((m, li) => {
    let t = performance.now(), c = process.cpuUsage();
    const a = weightedEffectiveRank(m, w);
    rows += performance.now() - t;
    rowsCpu += cpuMs(process.cpuUsage(c));
    t = performance.now(), c = process.cpuUsage();
    const b = weightedEffectiveRank(m, w, grams[li]);
    viaGram += performance.now() - t;
    viaGramCpu += cpuMs(process.cpuUsage(c));
    rel = Math.max(rel, Math.abs(a - b) / a);
    calls++;
  });
});
console.log(
  `effective-rank replicate (${calls} calls), per call: centred rows ${
    (rows / calls).toFixed(1)
  } ms wall / ${(rowsCpu / calls).toFixed(1)} ms CPU, from the Gram ${
    (viaGram / calls).toFixed(1)
  } ms wall / ${(viaGramCpu / calls).toFixed(1)} ms CPU; max relative difference ${rel}`,
);
console.log(`load ${loadavg()[0]!.toFixed(1)}`);
