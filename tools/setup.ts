/**
 * `./kit task setup [--webgpu]`: installs what the kit needs, idempotently (npm dependencies,
 * Jupyter from Debian, Chromium, the project-local Deno kernelspec; with --webgpu the Mesa
 * Vulkan CPU driver used to test the GPU path). `reproduce` and `test` run it first.
 */
import { ensureSetup } from "../lib/setup/ensure_setup.ts";
import { runMain } from "../lib/util/kit_error.ts";

await runMain(async () => {
  const report = await ensureSetup({ webgpu: Deno.args.includes("--webgpu") });
  if (Deno.args.includes("--verbose") || Object.values(report).includes("installed")) {
    console.error(`setup: ${JSON.stringify(report)}`);
  }
});
