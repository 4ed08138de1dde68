import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/backend/mod.ts";
import { ParameterSet } from "../lib/encoders/mod.ts";
import { runResumableTraining, type TrainingSchedule } from "../lib/models/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

await initBackend("wasm");

const schedule = (maxGradNorm = 0): TrainingSchedule => ({
  steps: 3,
  lr: 0.1,
  warmupSteps: 0,
  finalLrFraction: 1,
  maxGradNorm,
  weightDecay: 0,
  seed: 0,
  evalEvery: 0,
  checkpointEvery: 100,
});
const ROWS = [1, 3];
const gradOf = (step: number) => ({
  emb: Float32Array.from({ length: 4 }, (_, i) => 0.3 * (i + 1) - 0.2 * step),
  w: Float32Array.from([0.5 - 0.1 * step, -0.25]),
});

Deno.test("runResumableTraining() with row-sparse gradients updates only the given rows, each as Adam (float64 oracle)", async () => {
  const dir = await Deno.makeTempDir();
  const ps = new ParameterSet([
    { name: "emb", shape: [5, 2], init: { kind: "normal", std: 1 } },
    { name: "w", shape: [2], init: { kind: "normal", std: 1 } },
  ], 1);
  const before = { emb: ps.values.emb!.slice(), w: ps.values.w!.slice() };
  try {
    await runResumableTraining({
      label: "sparse",
      checkpointPath: join(dir, "c.safetensors"),
      fingerprint: "t",
      schedule: schedule(),
      quiet: true,
      task: {
        modules: { m: ps },
        step: (step) => {
          const g = gradOf(step);
          return Promise.resolve({
            loss: 1,
            grads: { m: { w: g.w } },
            sparse: { m: { emb: { rows: ROWS, values: g.emb, width: 2 } } },
          });
        },
      },
    });
    // naive Adam in float64 (torch's formula), per value
    const adam = (p0: number, gs: number[]) => {
      let p = p0, m = 0, v = 0;
      gs.forEach((g, t) => {
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        const bc1 = 1 - 0.9 ** (t + 1), bc2 = 1 - 0.999 ** (t + 1);
        p -= (0.1 / bc1) * m / (Math.sqrt(v) / Math.sqrt(bc2) + 1e-8);
      });
      return p;
    };
    for (let r = 0; r < 5; r++) {
      for (let j = 0; j < 2; j++) {
        const i = r * 2 + j, k = ROWS.indexOf(r);
        const got = ps.values.emb![i]!;
        if (k < 0) assert.equal(got, before.emb[i], `row ${r} never looked up: untouched`);
        else {
          const want = adam(before.emb[i]!, [0, 1, 2].map((s) => gradOf(s).emb[k * 2 + j]!));
          assert.ok(Math.abs(got - want) < 1e-6, `emb[${r},${j}] ${got} vs ${want}`);
        }
      }
    }
    [0, 1].forEach((j) => {
      const want = adam(before.w[j]!, [0, 1, 2].map((s) => gradOf(s).w[j]!));
      assert.ok(Math.abs(ps.values.w![j]! - want) < 1e-6);
    });
    // clipping needs the whole gradient: refused with sparse rows
    await assert.rejects(
      () =>
        runResumableTraining({
          label: "clip",
          checkpointPath: join(dir, "d.safetensors"),
          fingerprint: "t",
          schedule: schedule(1),
          quiet: true,
          task: {
            modules: { m: ps },
            step: () =>
              Promise.resolve({
                loss: 1,
                grads: { m: { w: gradOf(0).w } },
                sparse: { m: { emb: { rows: ROWS, values: gradOf(0).emb, width: 2 } } },
              }),
          },
        }),
      (e: unknown) => e instanceof KitError && /cannot be clipped/.test(e.message),
    );
  } finally {
    ps.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
