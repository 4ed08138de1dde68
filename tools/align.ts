/**
 * `./kit task align --emb DIR --out DIR [--heads linear,mlp] [--folds 5] [--seed 7]
 *  [--before-only] [--dump-folds] [--no-diagnostics] [--no-probe] [--resume] [--backend NAME]`:
 * paper D end to end on an embedding folder (`images.npy` N×d, `text_<lang>.npy` N×d each, row i
 * = image i). Writes D-T1…D-T6 (json with provenance, md, tex, csv) to --out, and with
 * --dump-folds `folds.json` = the holdout index lists.
 */
import { integerOption } from "../lib/util/integer_option.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { initBackend } from "../lib/backend/select_backend.ts";
import { kitConfig } from "../lib/config/kit_config.ts";
import { writeTableArtifact } from "../lib/artifacts/table_artifact.ts";
import { loadEmbeddingDir } from "../lib/image_pivot/embedding_dir.ts";
import { runImagePivotCv, type TrainedHeadKind } from "../lib/image_pivot/image_pivot_cv.ts";
import { imagePivotTables } from "../lib/image_pivot/image_pivot_tables.ts";
import { atomicWriteJson } from "../lib/util/atomic_write.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";
import { publishedLookupForD } from "../lib/image_pivot/published_lookup.ts";

const HELP = `usage: ./kit task align --emb DIR --out DIR [options]
  --emb DIR          images.npy (N×d) and text_<lang>.npy (N×d each; row i = image i)
  --out DIR          where D-T1…D-T6 are written
  --heads LIST       trained heads, comma-separated: linear,mlp (default both)
  --folds K          cross-validation folds (default 5)
  --seed S           KFold shuffle / head init / probe seed (default 7)
  --langs LIST       languages (default D's nine when present, else every text_*.npy)
  --before-only      identity head only (no training)
  --dump-folds       also write folds.json (the holdout index lists)
  --no-diagnostics   skip Table 6 (D-T6)
  --no-probe         skip the lang-ID probe inside Table 6
  --resume           keep per-fold training checkpoints in DIR/checkpoints and resume from them
  --backend NAME     auto|webgpu|tfjs-node-gpu|wasm+openblas|wasm|cpu (default: KIT_BACKEND,
                     else auto, as the notebooks; the identity-head retrieval numbers are
                     computed in float64 JavaScript and do not depend on it)`;

await runMain(async () => {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      emb: { type: "string" },
      out: { type: "string" },
      heads: { type: "string" },
      folds: { type: "string" },
      seed: { type: "string" },
      langs: { type: "string" },
      "before-only": { type: "boolean", default: false },
      "dump-folds": { type: "boolean", default: false },
      "no-diagnostics": { type: "boolean", default: false },
      "no-probe": { type: "boolean", default: false },
      resume: { type: "boolean", default: false },
      backend: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.emb) throw new KitError("--emb DIR is required", [HELP]);
  if (!values.out) throw new KitError("--out DIR is required", [HELP]);
  const int = integerOption;
  const folds = int("folds", values.folds, 5, 2);
  const seed = int("seed", values.seed, 7, 0);
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
