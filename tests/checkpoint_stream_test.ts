import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeSealedSafetensors, type SafeTensorInput } from "../lib/io/safetensors.ts";
import { SafetensorsReader } from "../lib/io/safetensors_stream.ts";
import {
  verifySealedSafetensors,
  writeSafetensorsStreaming,
} from "../lib/io/safetensors_stream_writer.ts";
import {
  bestStatePath,
  readTrainingCheckpointInto,
  restoreBestState,
  saveBestState,
  writeTrainingCheckpoint,
} from "../lib/resumable_training/checkpoint_io.ts";
import { KitError } from "../lib/util/kit_error.ts";

const tensors = (): Record<string, SafeTensorInput> => ({
  "b/f32": {
    dtype: "F32",
    shape: [3, 5],
    data: Float32Array.from({ length: 15 }, (_, i) => i / 7),
  },
  "a/list": { dtype: "F32", shape: [4], data: [1.5, -2, 3e-9, 7] },
  "c/f16": { dtype: "F16", shape: [6], data: [0.5, 1, -3, 65504, 1e-3, 0] },
  "d/f64": { dtype: "F64", shape: [2, 2], data: Float64Array.from([Math.PI, -1, 1e300, 0]) },
  "e/i32": { dtype: "I32", shape: [3], data: [1, -2, 2 ** 30] },
  "f/i64": { dtype: "I64", shape: [2], data: BigInt64Array.from([1n, -(2n ** 40n)]) },
});

Deno.test("writeSafetensorsStreaming() writes the same bytes as encodeSealedSafetensors(), chunked and from another file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const want = encodeSealedSafetensors(tensors(), { format: "x", step: "3" });
    for (const chunkBytes of [8, 16, 1 << 20]) {
      const p = join(dir, `s${chunkBytes}.safetensors`);
      await writeSafetensorsStreaming(p, tensors(), { format: "x", step: "3" }, { chunkBytes });
      assert.deepEqual(await Deno.readFile(p), want, `chunkBytes ${chunkBytes}`);
      await verifySealedSafetensors(p, { chunkBytes: 8 });
    }
    // tensors copied byte for byte from a file make the same file again
    const src = join(dir, "s8.safetensors");
    const r = await SafetensorsReader.open(src);
    const copied = Object.fromEntries(
      [...r.entries].map(([k, e]) => [k, {
        dtype: e.dtype,
        shape: [...e.shape],
        file: src,
        fileOffset: e.fileOffset,
        byteLength: e.byteLength,
      }]),
    );
    r.close();
    const p2 = join(dir, "copy.safetensors");
    await writeSafetensorsStreaming(p2, copied, { format: "x", step: "3" }, { chunkBytes: 16 });
    assert.deepEqual(await Deno.readFile(p2), want);
    // a flipped byte is found; a wrong shape is refused before anything is written
    const bytes = await Deno.readFile(p2);
    bytes[bytes.length - 3]! ^= 1;
    await Deno.writeFile(p2, bytes);
    await assert.rejects(verifySealedSafetensors(p2), /content hash mismatch/);
    await assert.rejects(
      writeSafetensorsStreaming(join(dir, "bad.safetensors"), {
        x: { dtype: "F32", shape: [3], data: [1, 2] },
      }),
      (e: unknown) => e instanceof KitError && /shape \[3\] but 2 values/.test(e.message),
    );
    assert.equal([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp")).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint written and read with checkpoint_io round-trips parameters, moments, best state and histories in place", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const names = ["w", "b"];
    const mk = (s: number) => ({
      w: Float32Array.from({ length: 50 }, (_, i) => Math.sin(s + i)),
      b: Float32Array.from({ length: 7 }, (_, i) => Math.cos(s * i)),
    });
    const params = mk(1), m = mk(2), v = mk(3), best = mk(4);
    const path = join(dir, "checkpoint.safetensors"), bestPath = bestStatePath(path);
    await saveBestState(bestPath, names, best);
    await writeTrainingCheckpoint(path, {
      names,
      params,
      m,
      v,
      lossHistory: [3, 2.5],
      valHistory: [[0, 4], [2, 3.5]],
      bestPath,
      metadata: { format: "f", has_best: "1", step: "2" },
    });
    await Deno.remove(bestPath);
    const into = { params: mk(9), m: mk(9), v: mk(9) };
    const r = await readTrainingCheckpointInto(path, { names, ...into, bestPath }, (md) => {
      assert.equal(md.format, "f");
    });
    assert.ok(r);
    assert.deepEqual(into.params, params);
    assert.deepEqual(into.m, m);
    assert.deepEqual(into.v, v);
    assert.deepEqual(r.lossHistory, [3, 2.5]);
    assert.deepEqual(r.valHistory, [[0, 4], [2, 3.5]]);
    assert.equal(r.hasBest, true);
    const restored = mk(9);
    await restoreBestState(bestPath, names, restored);
    assert.deepEqual(restored, best);
    // checkMetadata refuses before anything is read into the arrays
    const untouched = mk(9);
    await assert.rejects(
      readTrainingCheckpointInto(
        path,
        { names, params: untouched, m: mk(9), v: mk(9), bestPath },
        () => {
          throw new KitError("another run's checkpoint");
        },
      ),
      /another run's checkpoint/,
    );
    assert.deepEqual(untouched, mk(9));
    assert.equal(
      await readTrainingCheckpointInto(join(dir, "none"), { names, ...into, bestPath }, () => {}),
      null,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function childPeak(dir: string, mb: number, legacy: boolean) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tests/helpers/checkpoint_rss_child.ts",
      dir,
      String(mb),
      ...(legacy ? ["legacy"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!) as {
    before: number;
    peak: number;
    stateBytes: number;
  };
}

Deno.test({
  name:
    "writing and reading a 300 MB training state's checkpoint (and best state) keeps peak RSS within 1.2× the state",
  ignore: !(() => {
    try {
      return /VmHWM/.test(Deno.readTextFileSync("/proc/self/status"));
    } catch {
      return false;
    }
  })(),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const s = await childPeak(dir, 300, false);
      const ratio = (s.peak - s.before) / s.stateBytes;
      const legacy = await childPeak(dir, 300, true);
      const legacyRatio = (legacy.peak - legacy.before) / legacy.stateBytes;
      console.log(
        `peak above the process's start: streamed ×${
          ratio.toFixed(2)
        } the state, in-memory writer ×${legacyRatio.toFixed(2)}`,
      );
      assert.ok(ratio <= 1.2, `streamed checkpoint I/O peaked at ×${ratio.toFixed(2)} the state`);
      // the check can fail: the kit's earlier writer (best copy + one buffer) goes far above it
      assert.ok(legacyRatio > 1.5, `in-memory writer only ×${legacyRatio.toFixed(2)}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("runResumableTraining() killed after its best validation and resumed ends on the same best parameters as an uninterrupted run", async () => {
  const { initBackend } = await import("../lib/backend/mod.ts");
  const { ParameterSet } = await import("../lib/encoders/parameter_set.ts");
  const { runResumableTraining } = await import("../lib/resumable_training/resumable_trainer.ts");
  await initBackend();
  const dir = await Deno.makeTempDir();
  // validation loss after step s (0 = before training): lowest after step 4 of 8
  const val = [5, 4, 3, 2, 1, 2, 3, 4, 5];
  const run = async (path: string, stops: number[]) => {
    const ps = new ParameterSet([{ name: "w", shape: [6], init: { kind: "normal", std: 1 } }], 3);
    let reached = 0, bestStep = -1, lastWritten: Float32Array | null = null;
    for (const stop of stops) {
      const o = await runResumableTraining({
        label: "best",
        checkpointPath: path,
        fingerprint: "t",
        quiet: true,
        stopAfterSteps: stop,
        schedule: {
          steps: 8,
          lr: 0.05,
          warmupSteps: 0,
          finalLrFraction: 1,
          maxGradNorm: 0,
          weightDecay: 0,
          seed: 0,
          evalEvery: 1,
          checkpointEvery: 100,
        },
        task: {
          modules: { m: ps },
          step: (s) => {
            reached = s + 1;
            if (reached === 4) lastWritten = null;
            return Promise.resolve({
              loss: 1,
              grads: { m: { w: Float32Array.from({ length: 6 }, (_, i) => Math.sin(s + i)) } },
            });
          },
          validate: () => {
            if (reached === 4) lastWritten = ps.values.w!.slice();
            return Promise.resolve(val[reached]!);
          },
        },
      });
      bestStep = o.bestStep;
    }
    return { w: ps.values.w!.slice(), bestStep, atStep4: lastWritten as Float32Array | null };
  };
  try {
    const a = await run(join(dir, "a.safetensors"), [8]);
    const b = await run(join(dir, "b.safetensors"), [6, 8]);
    assert.equal(a.bestStep, 4);
    assert.equal(b.bestStep, 4);
    assert.ok(a.atStep4);
    assert.deepEqual(a.w, a.atStep4, "the uninterrupted run ends on its step-4 parameters");
    assert.deepEqual(b.w, a.w, "the resumed run restores the same best state from its checkpoint");
    let left = true;
    try {
      await Deno.stat(bestStatePath(join(dir, "b.safetensors")));
    } catch {
      left = false;
    }
    assert.equal(left, false, "the working best-state file is removed when training completes");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
