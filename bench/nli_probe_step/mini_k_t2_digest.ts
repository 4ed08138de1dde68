/**
 * The mini profile's K-T2 inputs, computed without the result cache: for each of the five mini
 * setups, best epoch, selection accuracy and a digest of the epoch history and every test pair's
 * correctness. Run before and after a change to the NLI probe: the lines must be the same.
 *
 *   ./kit run -A bench/nli_probe_step/mini_k_t2_digest.ts
 */
import { createHash } from "node:crypto";
import { kitConfig } from "../../lib/config/mod.ts";
import { initBackend } from "../../lib/backend/mod.ts";
import { dataRegistry } from "../../lib/data/mod.ts";
import { evaluateNliSetup, K_NLI_PROTOCOL, loadNliBenchmark } from "../../lib/xnli/mod.ts";
import { loadKSetupEncoders } from "../../lib/models/mod.ts";
import { K_SETUPS } from "../../lib/encoders/mod.ts";
const cfg = kitConfig();
const backend = await initBackend();
const bench = await loadNliBenchmark(cfg, dataRegistry(), { seed: 13 });
const encoders = await loadKSetupEncoders({ smoke: false });
const probe = { ...K_NLI_PROTOCOL, seed: 42, epochs: K_NLI_PROTOCOL.epochs };
for (const s of K_SETUPS) {
  const t = performance.now();
  const r = await evaluateNliSetup(encoders[s], bench, probe, false);
  const h = createHash("sha256");
  h.update(JSON.stringify(r.history));
  for (const x of r.results) h.update(x.correct);
  console.log(
    backend.name,
    s,
    r.bestEpoch,
    r.bestSelectAccuracy,
    h.digest("hex").slice(0, 16),
    ((performance.now() - t) / 1000).toFixed(1),
    "s",
  );
}
for (const s of K_SETUPS) encoders[s].dispose();
