/**
 * `./kit task align --emb DIR --out DIR [--heads linear,mlp] [--folds 5] [--seed 7]
 *  [--before-only] [--dump-folds] [--no-diagnostics] [--no-probe] [--resume] [--backend NAME]`:
 * paper D end to end on an embedding folder (`images.npy` N×d, `text_<lang>.npy` N×d each, row i
 * = image i). Writes D-T1…D-T6 (json with provenance, md, tex, csv) to --out, and with
 * --dump-folds `folds.json` = the holdout index lists.
 */
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";
import { join } from "node:path";
import { initBackend } from "../lib/backend/select_backend.ts";
import { kitConfig } from "../lib/config/kit_config.ts";
import { writeTableArtifact } from "../lib/artifacts/table_artifact.ts";
import { loadEmbeddingDir } from "../lib/image_pivot/embedding_dir.ts";
import { runImagePivotCv, type TrainedHeadKind } from "../lib/image_pivot/image_pivot_cv.ts";
import { imagePivotTables } from "../lib/image_pivot/image_pivot_tables.ts";
import { atomicWriteJson } from "../lib/util/atomic_write.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { publishedLookupForD } from "../lib/image_pivot/published_lookup.ts";

const CLI = {
  usage: "./kit task align --emb DIR --out DIR [options]",
  options: {
    emb: {
      type: "string",
      value: "DIR",
      help: "images.npy (N×d) and text_<lang>.npy (N×d each; row i = image i)",
    },
    out: { type: "string", value: "DIR", help: "where D-T1…D-T6 are written" },
    heads: {
      type: "string",
      value: "LIST",
      help: "trained heads, comma-separated: linear,mlp (default both)",
    },
    folds: { type: "integer", value: "K", min: 2, help: "cross-validation folds (default 5)" },
    seed: {
      type: "integer",
      value: "S",
      min: 0,
      help: "KFold shuffle / head init / probe seed (default 7)",
    },
    langs: {
      type: "string",
      value: "LIST",
      help: "languages (default D's nine when present, else every text_*.npy)",
    },
    "before-only": { type: "boolean", help: "identity head only (no training)" },
    "dump-folds": { type: "boolean", help: "also write folds.json (the holdout index lists)" },
    "no-diagnostics": { type: "boolean", help: "skip Table 6 (D-T6)" },
    "no-probe": { type: "boolean", help: "skip the lang-ID probe inside Table 6" },
    resume: {
      type: "boolean",
      help: "keep per-fold training checkpoints in DIR/checkpoints and resume from them",
    },
    backend: {
      type: "string",
      value: "NAME",
      help: `auto|webgpu|tfjs-node-gpu|wasm+openblas|wasm|cpu (default: KIT_BACKEND,
        else auto, as the notebooks; the identity-head retrieval numbers are
        computed in float64 JavaScript and do not depend on it)`,
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values) => {
  if (!values.emb) throw new UsageError("--emb DIR is required");
  if (!values.out) throw new UsageError("--out DIR is required");
  const folds = values.folds ?? 5;
  const seed = values.seed ?? 7;
  const heads = (values.heads ?? "linear,mlp").split(",").map((s) => s.trim()).filter((s) => s);
  for (const h of heads) {
    if (h !== "linear" && h !== "mlp") {
      throw new KitError(
        `--heads ${values.heads}: "${h}" is not a head; expected linear and/or mlp`,
      );
    }
  }
  // The same rule as the notebooks (KIT_BACKEND, else auto), so that notebook 05 and this command
  // run the same kernels on one machine; --backend overrides it (the name is validated).
  const backend = values.backend === undefined
    ? kitConfig().backend
    : kitConfig({ ...Deno.env.toObject(), KIT_BACKEND: values.backend }).backend;
  const info = await initBackend(backend);

  const emb = await loadEmbeddingDir(
    values.emb,
    values.langs ? { langs: values.langs.split(",").map((s) => s.trim()) } : {},
  );
  console.error(
    `align: ${emb.n} items × ${emb.d} dims, languages ${
      emb.langs.join(" ")
    }; ${folds} folds, seed ${seed}; backend ${info.name}`,
  );
  await Deno.mkdir(values.out, { recursive: true });
  const result = await runImagePivotCv(emb, {
    heads: heads as TrainedHeadKind[],
    folds,
    seed,
    beforeOnly: values["before-only"],
    diagnostics: !values["no-diagnostics"],
    probe: !values["no-probe"],
    checkpointDir: values.resume ? join(values.out, "checkpoints") : undefined,
    log: (line) => console.error(`align: ${line}`),
  });
  if (values["dump-folds"]) {
    await atomicWriteJson(join(values.out, "folds.json"), result.folds);
  }
  const published = emb.langs.length === 9 ? publishedLookupForD() : null;
  for (const t of imagePivotTables(result, published)) {
    const a = await writeTableArtifact({
      ...t,
      outDir: values.out,
      seeds: { kfold: seed, train: result.trainConfig?.seed ?? seed, probe: result.langIdSeed },
      inputs: Object.fromEntries(Object.entries(emb.checksums).map(([k, v]) => [`emb/${k}`, v])),
      notes: [
        `Embeddings: ${values.emb} (${emb.n} × ${emb.d}); heads ${result.heads.join(", ")}.`,
        ...(result.trainConfig
          ? [
            `Training: D's configuration ${
              JSON.stringify(result.trainConfig)
            }; best epoch selected on the reported holdout fold, as D's code does.`,
          ]
          : []),
      ],
    });
    console.log(a.markdown);
  }
  console.error(
    `align: wrote D-T1…D-T${result.results.every((r) => r.diagnostics) ? 6 : 5} to ${values.out}${
      values["dump-folds"] ? " (+ folds.json)" : ""
    }`,
  );
  return 0;
});
