/**
 * `./kit task bitext --emb DIR --out DIR [--setup NAME] [--seed S] [--resamples R] [--k K]`:
 * paper K's Table 1 on an embedding folder (`eng_Latn.npy` and `<flores_code>.npy`, n × d each,
 * row i = FLORES sentence i). Writes K-T1 (groups from XLM-R's language list, both directions,
 * cosine and K's xsim) and K-T1-LANGS (per language) to --out, as json with provenance, md,
 * tex and csv — the same code path as notebook 03.
 */
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";
import { initBackend } from "../lib/backend/select_backend.ts";
import { writeTableArtifact } from "../lib/artifacts/table_artifact.ts";
import {
  bitextFromEmbeddings,
  bitextGroupRows,
  bitextLanguageRows,
  K_T1_GROUPS,
  loadBitextEmbeddingDir,
  XLMR_MAPPING_RULES,
} from "../lib/bitext_eval/mod.ts";

const CLI = {
  usage: "./kit task bitext --emb DIR --out DIR [options]",
  options: {
    emb: {
      type: "string",
      value: "DIR",
      help: "eng_Latn.npy and <flores_code>.npy (n×d each; row i = sentence i)",
    },
    out: { type: "string", value: "DIR", help: "where K-T1 and K-T1-LANGS are written" },
    setup: {
      type: "string",
      value: "NAME",
      help: `label of the rows; a K setup id (xlmr, eng-only, eng-pivot, multilingual,
        multilingual-qu) also shows K's published value (default: embeddings)`,
    },
    seed: {
      type: "integer",
      value: "S",
      min: 0,
      help: "bootstrap seed (default 2025, as notebook 03)",
    },
    resamples: { type: "integer", value: "R", min: 10, help: "bootstrap resamples (default 1000)" },
    k: { type: "integer", value: "K", min: 1, help: "xsim / margin neighbourhood (default 4)" },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values) => {
  if (!values.emb) throw new UsageError("--emb DIR is required");
  if (!values.out) throw new UsageError("--out DIR is required");
  const boot = { seed: values.seed ?? 2025, resamples: values.resamples ?? 1000 };
  const k = values.k ?? 4;
  const setup = values.setup ?? "embeddings";
  await initBackend("wasm");
  const emb = await loadBitextEmbeddingDir(values.emb);
  console.error(
    `bitext: ${emb.n} sentences × ${emb.d} dims, ${emb.langs.length} languages besides English`,
  );
  const results = await bitextFromEmbeddings(emb, { k });
  const groupRows = bitextGroupRows(setup, results, { ...boot, groups: K_T1_GROUPS });
  const langRows = bitextLanguageRows(setup, results, boot);
  await Deno.mkdir(values.out, { recursive: true });
  const inputs = Object.fromEntries(Object.entries(emb.checksums).map(([f, v]) => [`emb/${f}`, v]));
  const note = `Embeddings: ${values.emb} (${emb.n} × ${emb.d}); setup label ${setup}; k = ${k}.`;
  const t1 = await writeTableArtifact({
    id: "K-T1",
    title: "Bitext retrieval against English by language group (paper K, Table 1)",
    rows: groupRows,
    columns: [
      "setup",
      "group",
      "score",
      "eng_to_x",
      "x_to_eng",
      "mean",
      "mean_ci_low",
      "mean_ci_high",
      "n_languages",
      "compared",
      "paper_mean",
      "paper_source",
    ],
    formats: { eng_to_x: 3, x_to_eng: 3, mean: 3, mean_ci_low: 3, mean_ci_high: 3, paper_mean: 3 },
    caption:
      "Accuracy (fraction) of retrieving the translation among all sentences of the other language; cosine = nearest neighbour, xsim = K's own score (within-language k-neighbourhood radii); compared = the score whose row carries K's published value. CI: 95% percentile bootstrap over sentences.",
    outDir: values.out,
    seeds: { bootstrap: boot.seed },
    inputs,
    notes: [note, ...XLMR_MAPPING_RULES],
  });
  console.log(t1.markdown);
  await writeTableArtifact({
    id: "K-T1-LANGS",
    title: "Bitext retrieval against English, per language (detail of K-T1)",
    rows: langRows,
    columns: [
      "setup",
      "benchmark",
      "lang",
      "score",
      "eng_to_x",
      "x_to_eng",
      "mean",
      "ci_low",
      "ci_high",
      "n",
    ],
    formats: { eng_to_x: 3, x_to_eng: 3, mean: 3, ci_low: 3, ci_high: 3 },
    caption: "Per-language accuracies (fractions). CI: 95% percentile bootstrap over sentences.",
    outDir: values.out,
    seeds: { bootstrap: boot.seed },
    inputs,
    notes: [note],
  });
  console.error(`bitext: wrote K-T1 and K-T1-LANGS to ${values.out}`);
  return 0;
});
