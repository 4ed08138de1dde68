/**
 * Child process of checkpoint_stream_test.ts: allocates a training state of `MB` megabytes
 * (parameters, Adam's two moments: one third each), writes its best state and a checkpoint with
 * `lib/resumable_training/checkpoint_io.ts`, reads the checkpoint back in place, and prints peak resident
 * memory (`VmHWM`) before and after as JSON: a process of its own, so the peak is the writer's.
 *
 *   deno run -A tests/helpers/checkpoint_rss_child.ts DIR MB [legacy]
 */
import { join } from "node:path";
import {
  bestStatePath,
  readTrainingCheckpointInto,
  saveBestState,
  writeTrainingCheckpoint,
} from "../../lib/resumable_training/checkpoint_io.ts";
import { writeSafetensors } from "../../lib/io/safetensors.ts";

const hwm = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
const rss = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
const [dir, mb, legacy] = Deno.args;
const before = hwm();
const perArray = Math.floor((Number(mb) * 1e6) / 3 / 4 / 8); // 8 tensors of each kind
const names = Array.from({ length: 8 }, (_, i) => `layer${i}.weight`);
const fill = (seed: number) =>
  Object.fromEntries(names.map((n, i) => {
    const a = new Float32Array(perArray);
    for (let j = 0; j < a.length; j++) a[j] = Math.sin(seed + i * 7 + j * 1e-3);
    return [n, a];
  }));
const params = fill(1), m = fill(2), v = fill(3);
const stateBytes = 3 * 8 * perArray * 4;
const afterAlloc = rss();
const path = join(dir!, "checkpoint.safetensors");
const bestPath = bestStatePath(path);
const metadata = { format: "test", step: "7", has_best: "1" };
const t0 = performance.now();
const phases: Record<string, number> = {};
if (legacy === "legacy") {
  // the kit's earlier writer: the best state as a copy in memory, the file encoded in one buffer
  const best = Object.fromEntries(names.map((n) => [n, params[n]!.slice()]));
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const n of names) {
    tensors[`param/${n}`] = { dtype: "F32", shape: [perArray], data: params[n]! };
    tensors[`adam.m/${n}`] = { dtype: "F32", shape: [perArray], data: m[n]! };
    tensors[`adam.v/${n}`] = { dtype: "F32", shape: [perArray], data: v[n]! };
    tensors[`best/${n}`] = { dtype: "F32", shape: [perArray], data: best[n]! };
  }
  await writeSafetensors(path, tensors, metadata);
} else {
  await saveBestState(bestPath, names, params);
  phases.best = hwm();
  await writeTrainingCheckpoint(path, {
    names,
    params,
    m,
    v,
    lossHistory: [1, 2, 3],
    valHistory: [[0, 1.5]],
    bestPath,
    metadata,
  });
  phases.write = hwm();
  await readTrainingCheckpointInto(path, { names, params, m, v, bestPath }, () => {});
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ before, afterAlloc, peak: hwm(), phases, stateBytes, seconds }));
