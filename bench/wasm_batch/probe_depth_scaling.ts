/**
 * Does the plan's text-embedding probe (XLM-R-large width, 1–2 layers, 16 × 32 tokens, fastest
 * of reps) scale linearly to 24 layers and FLORES's padded lengths? Prints CPU ms per
 * sentence-layer for each shape, probed exactly as lib/plan/unit_probes.ts does.
 *   ./kit run -A bench/wasm_batch/probe_depth_scaling.ts CONFIG.json "1x16x32,2x16x32,24x16x32"
 */
import { initBackend } from "../../lib/backend/select_backend.ts";
import { probeTextEmbedding, textConfig } from "../../lib/plan/unit_probes.ts";

const [config, shapes, repsArg] = Deno.args;
if (!config || !shapes) throw new Error("usage: CONFIG SHAPES(layersxbatchxtokens,...) [REPS]");
const info = await initBackend();
console.log(`backend ${info.name}; load average ${Deno.loadavg()[0]?.toFixed(1)}`);
for (const s of shapes.split(",")) {
  const [layers, batch, tokens] = s.split("x").map(Number) as [number, number, number];
  const c = await textConfig(config, layers, 32_000);
  const r = await probeTextEmbedding(c, batch, tokens, { reps: Number(repsArg ?? 3) });
  console.log(
    `${layers} layers × ${batch} × ${tokens} tokens: CPU ${r.cpuMs.toFixed(0)} ms (${
      (r.cpuMs / batch).toFixed(1)
    } ms/sentence, ${(r.cpuMs / batch / layers).toFixed(2)} ms/sentence-layer, ${
      (r.cpuMs / batch / tokens / layers).toFixed(3)
    } ms/token-layer); wall ${r.ms.toFixed(0)} ms; load ${Deno.loadavg()[0]?.toFixed(1)}`,
  );
}
