import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/select_backend.ts";
import { loadOpenBlas } from "../lib/backend/openblas.ts";
import { tf } from "../lib/backend/tf.ts";
import { medianMs, runHeadWorkloads } from "../lib/bench/head_workloads.ts";

await initBackend("wasm");

Deno.test("runHeadWorkloads() times the peer's four workloads without leaking tensors (tiny sizes)", async () => {
  const before = tf.memory().numTensors;
  const t = await runHeadWorkloads({
    dim: 16,
    langs: 3,
    batchPerLang: 4,
    trainRows: 40,
    foldRows: 20,
    steps: 3,
    reps: 2,
  });
  assert.deepEqual(Object.keys(t).sort(), [
    "eval_fold_ms",
    "geometry_fold_ms",
    "linear_step_ms",
    "mlp_step_ms",
  ]);
  for (const v of Object.values(t)) assert.ok(Number.isFinite(v) && v >= 0);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("medianMs() calls the function once to warm up, then reps times", async () => {
  let calls = 0;
  await medianMs(() => calls++, 4);
  assert.equal(calls, 5);
});

Deno.test("bench --json --no-peer prints one JSON line with linear_step_ms, mlp_step_ms, eval_fold_ms, geometry_fold_ms", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/bench.ts", "--json", "--no-peer", "--steps", "2"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(lines.length, 1);
  const j = JSON.parse(lines[0]!);
  for (const k of ["linear_step_ms", "mlp_step_ms", "eval_fold_ms", "geometry_fold_ms"]) {
    assert.equal(typeof j[k], "number", k);
  }
  // the kit's CPU path: native OpenBLAS when it loads here, plain WASM otherwise
  const native = loadOpenBlas({ quiet: true }) !== null;
  assert.equal(j.backend, native ? "wasm+openblas" : "wasm");
  assert.equal(j.blas === null, !native);
  if (native) assert.ok(j.blas.threads >= 1);
});
