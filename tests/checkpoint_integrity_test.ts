import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/backend/mod.ts";
import { ParameterSet } from "../lib/encoders/parameter_set.ts";
import {
  loadSafetensorsWeights,
  saveSafetensorsWeights,
} from "../lib/encoders/safetensors_weights.ts";
import { encodeSafetensors, readSafetensors, writeSafetensors } from "../lib/io/safetensors.ts";
import { isComplete, modelCacheDir } from "../lib/model_cache/model_cache.ts";
import { isKitModelCachePath, modelFileReadOptions } from "../lib/model_cache/model_file_policy.ts";
import {
  resumeLine,
  runResumableTraining,
  type TrainingSchedule,
} from "../lib/resumable_training/resumable_trainer.ts";
import { KitError } from "../lib/util/kit_error.ts";

await initBackend("wasm");

async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "kit-integrity-test-" });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Flips every bit of the byte at `at` (negative: from the end). */
async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = bytes[i]! ^ 0xff;
  await Deno.writeFile(path, bytes);
}

function rejectsNaming(path: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof KitError, `expected a KitError, got ${String(err)}`);
    assert.ok(err.message.includes(path), `the message names ${path}: ${err.message}`);
    assert.match(err.message, pattern);
    assert.match(err.describe(), /delete .* and rerun/, "says how to rebuild");
    return true;
  };
}

const tensors = () => ({
  w: {
    dtype: "F32" as const,
    shape: [3, 4],
    data: Float32Array.from({ length: 12 }, (_, i) => i / 7),
  },
  b: { dtype: "F64" as const, shape: [2], data: [1.5, -2] },
});

Deno.test("writeSafetensors() seals the file: metadata round-trips without the hash key", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "x.safetensors");
    await writeSafetensors(p, tensors(), { step: "4" });
    const f = await readSafetensors(p, { requireHash: true });
    assert.deepEqual(f.metadata, { step: "4" });
    const text = new TextDecoder().decode(await Deno.readFile(p));
    assert.match(text, /"kit_sha256":"[0-9a-f]{64}"/);
  });
});

Deno.test("readSafetensors() stops naming the file when any single byte was flipped (data, header, hash)", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "x.safetensors");
    await writeSafetensors(p, tensors(), { step: "4" });
    const size = (await Deno.stat(p)).size;
    const text = new TextDecoder().decode(await Deno.readFile(p));
    const hashAt = text.indexOf('"kit_sha256":"') + '"kit_sha256":"'.length;
    const stepAt = text.indexOf('"step":"4"') + '"step":"'.length;
    // last data byte, first data byte of the F32 tensor's last value, a metadata digit, the hash
    for (const at of [size - 1, size - 3, stepAt, hashAt + 10]) {
      await writeSafetensors(p, tensors(), { step: "4" });
      await readSafetensors(p); // intact: fine
      await flipByte(p, at);
      await assert.rejects(readSafetensors(p), rejectsNaming(p, /damaged|not valid JSON|hash/));
    }
  });
});

Deno.test("the model cache's read rules require the hash in a kit model cache folder, not in a user's model folder", async () => {
  await withTempDir(async (dir) => {
    const old = Deno.env.get("KIT_CACHE_DIR");
    Deno.env.set("KIT_CACHE_DIR", dir);
    try {
      const cached = join(modelCacheDir("k-test", { a: 1 }, "fp"), "model.safetensors");
      const user = join(dir, "models", "FacebookAI", "xlm-roberta-large", "model.safetensors");
      assert.equal(isKitModelCachePath(cached), true);
      assert.equal(isKitModelCachePath(user), false);
      for (const p of [cached, user]) {
        await Deno.mkdir(join(p, ".."), { recursive: true });
        await Deno.writeFile(p, encodeSafetensors(tensors(), { step: "1" })); // no hash
      }
      assert.equal((await readSafetensors(user, modelFileReadOptions(user))).metadata.step, "1");
      const cacheRule = (err: unknown) => {
        rejectsNaming(cached, /no content hash/)(err);
        assert.match((err as KitError).describe(), /reproduce --only 02/, "names the notebook");
        return true;
      };
      await assert.rejects(readSafetensors(cached, modelFileReadOptions(cached)), cacheRule);
      const ps = new ParameterSet([{ name: "w", shape: [3, 4], init: { kind: "zeros" } }], 1);
      await assert.rejects(
        loadSafetensorsWeights({ params: ps, prefix: "" }, cached, modelFileReadOptions(cached)),
        cacheRule,
      );
      ps.dispose();
      // the file format itself knows no cache: without the cache's rules, a hash is optional
      assert.equal((await readSafetensors(cached)).metadata.step, "1");
    } finally {
      if (old === undefined) Deno.env.delete("KIT_CACHE_DIR");
      else Deno.env.set("KIT_CACHE_DIR", old);
    }
  });
});

Deno.test("loadSafetensorsWeights() of a trained model with a flipped byte stops naming the file", async () => {
  await withTempDir(async (dir) => {
    const ps = new ParameterSet([{
      name: "layer.weight",
      shape: [4, 4],
      init: { kind: "normal", std: 0.1 },
    }], 5);
    const model = { params: ps, prefix: "" };
    const p = join(dir, "models", "k-test@0123456789ab", "model.safetensors");
    await saveSafetensorsWeights(model, p);
    await loadSafetensorsWeights(model, p);
    await flipByte(p, -2);
    await assert.rejects(
      loadSafetensorsWeights(model, p),
      rejectsNaming(p, /content hash mismatch/),
    );
    ps.dispose();
  });
});

const schedule = (steps: number): TrainingSchedule => ({
  steps,
  lr: 0.05,
  warmupSteps: 1,
  finalLrFraction: 0.1,
  maxGradNorm: 0,
  weightDecay: 0,
  seed: 9,
  evalEvery: 0,
  checkpointEvery: 2,
});

/** A quadratic task: loss sum((w - 1)^2), gradient 2(w - 1). */
function quadraticTask(ps: ParameterSet) {
  return {
    modules: { m: ps },
    step: () => {
      const w = ps.values.w!;
      let loss = 0;
      const g = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        loss += (w[i]! - 1) ** 2;
        g[i] = 2 * (w[i]! - 1);
      }
      return Promise.resolve({ loss, grads: { m: { w: g } } });
    },
  };
}

Deno.test("a flipped byte in a training checkpoint stops the next (resumed) run with the file named", async () => {
  await withTempDir(async (dir) => {
    const checkpointPath = join(dir, "checkpoint.safetensors");
    const ps = new ParameterSet([{ name: "w", shape: [6], init: { kind: "normal", std: 0.5 } }], 2);
    const common = {
      label: "quad",
      task: quadraticTask(ps),
      schedule: schedule(6),
      checkpointPath,
      fingerprint: "q",
      quiet: true,
    };
    const first = await runResumableTraining({ ...common, stopAfterSteps: 4 });
    assert.equal(first.stepsDone, 4);
    await flipByte(checkpointPath, -5);
    await assert.rejects(
      runResumableTraining(common),
      rejectsNaming(checkpointPath, /content hash mismatch/),
    );
    ps.dispose();
  });
});

Deno.test("a resumed training prints 'resuming <model> from step N/M (checkpoint <time>)'", async () => {
  assert.equal(
    resumeLine("k-eng-only", 40, 120, new Date(Date.UTC(2026, 10, 30, 1, 2, 3, 456))),
    "resuming k-eng-only from step 40/120 (checkpoint 2026-11-30 01:02:03 UTC)",
  );
  await withTempDir(async (dir) => {
    const checkpointPath = join(dir, "checkpoint.safetensors");
    const ps = new ParameterSet([{ name: "w", shape: [6], init: { kind: "normal", std: 0.5 } }], 2);
    const common = {
      label: "quad",
      task: quadraticTask(ps),
      schedule: schedule(6),
      checkpointPath,
      fingerprint: "q",
    };
    const lines: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => lines.push(a.map(String).join(" "));
    try {
      await runResumableTraining({ ...common, quiet: true, stopAfterSteps: 4 });
      const mtime = (await Deno.stat(checkpointPath)).mtime;
      const r = await runResumableTraining({ ...common, quiet: false });
      assert.equal(r.resumedFromStep, 4);
      assert.ok(lines.includes(resumeLine("quad", 4, 6, mtime)), lines.join("\n"));
    } finally {
      console.error = orig;
      ps.dispose();
    }
  });
});

Deno.test("isComplete() counts a model folder written before content hashes as not complete (trained again)", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "training.json"), "{}");
    await writeSafetensors(join(dir, "a.safetensors"), tensors());
    assert.equal(await isComplete(dir), true);
    await Deno.writeFile(join(dir, "b.safetensors"), encodeSafetensors(tensors())); // no hash
    const lines: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => lines.push(a.map(String).join(" "));
    try {
      assert.equal(await isComplete(dir), false);
    } finally {
      console.error = orig;
    }
    assert.match(
      lines.join("\n"),
      /written before the kit's content hashes \(b\.safetensors\); training it again/,
    );
  });
});
