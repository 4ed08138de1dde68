// Times notebook 05's cells 5 (five folds × identity/linear/MLP heads, diagnostics, probe) and 7
// (D-T1…D-T6 tables, per-item outcomes with D5's set-statistic replicates) on an embedding folder,
// with the same lib calls as the notebook (issue 27: where D's paper path spends its time).
//
//   KIT_PROFILE=paper KIT_CACHE_DIR=/tmp/c KIT_ARTIFACT_DIR=/tmp/f \
//     ./kit run -A bench/rehearsal/d05_cells_5_7.ts <run>/figures/d_embeddings
//
// <run> is a rehearsal run folder (`./kit task reproduce --profile paper --rehearse --only 05`
// writes d_embeddings there). Use an empty KIT_CACHE_DIR: a warm `.cache/results/d-cv` or
// `d-set-replicates` entry turns the cells into cache reads.
import { loadavg } from "node:os";
import { kitConfig } from "../../lib/config/mod.ts";
import { initBackend } from "../../lib/backend/mod.ts";
import { loadEmbeddingDir } from "../../lib/image_pivot/embedding_dir.ts";
import {
  imagePivotTables,
  publishedLookupForD,
  runImagePivotCv,
} from "../../lib/image_pivot/mod.ts";
import { ImagePivotItemRecorder, writeItemOutcomes } from "../../lib/claims/mod.ts";
import { writeTableArtifact } from "../../lib/artifacts/mod.ts";

const dir = Deno.args[0];
if (!dir) throw new Error("usage: d05_cells_5_7.ts <embedding folder>");
const cfg = kitConfig();
const backend = await initBackend(cfg.backend);
const emb = await loadEmbeddingDir(dir);
const load = () => loadavg()[0]!.toFixed(1);
console.log(`backend ${backend.name}; ${emb.n} items × ${emb.d}; load ${load()}`);
let t = performance.now();
const items = new ImagePivotItemRecorder(emb.n);
const cv = await runImagePivotCv(emb, {
  folds: 5,
  seed: 7,
  cache: true,
  log: (l) => console.log(l),
  onHoldout: items.record,
});
console.log(`cell 5: ${((performance.now() - t) / 1000).toFixed(1)} s; load ${load()}`);
t = performance.now();
for (const tb of imagePivotTables(cv, publishedLookupForD())) {
  await writeTableArtifact({
    ...tb,
    seeds: { kfold: cv.seed },
    inputs: emb.checksums,
    notes: ["bench"],
  });
}
const tr = performance.now();
const outcomes = await items.cachedOutcomes();
console.log(`  set-statistic replicates: ${((performance.now() - tr) / 1000).toFixed(1)} s`);
await writeItemOutcomes(cfg.artifactDir, outcomes);
console.log(`cell 7: ${((performance.now() - t) / 1000).toFixed(1)} s; load ${load()}`);
