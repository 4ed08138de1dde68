/**
 * Upload micro-benchmark on the WebGPU adapter (issue 24): `size` MB of float32 values to a
 * storage buffer, (a) through a new `mappedAtCreation` staging buffer + copy (TF.js-WebGPU's
 * upload path), (b) with `queue.writeBuffer` (the kit's path), each `repeats` times, waiting for
 * the queue after each. Prints the medians; `--json` writes them.
 *
 *   deno run -A tools/webgpu_upload_bench.ts [--mb 64] [--repeats 5] [--json out.json]
 */
import { parseArgs } from "node:util";

/** What `runUploadBench` measured (milliseconds). */
export interface UploadBenchReport {
  adapter: string;
  bytes: number;
  mappedStagingMs: number[];
  writeBufferMs: number[];
  medianMappedStagingMs: number;
  medianWriteBufferMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Runs both upload paths on the first high-performance adapter. */
export async function runUploadBench(mb: number, repeats: number): Promise<UploadBenchReport> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter");
  const device = await adapter.requestDevice();
  const bytes = Math.floor(mb * 2 ** 20 / 4) * 4;
  const data = new Float32Array(bytes / 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 1013;
  const target = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  const mapped: number[] = [], written: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    const staging = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    new Float32Array(staging.getMappedRange()).set(data);
    staging.unmap();
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(staging, 0, target, 0, bytes);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    staging.destroy();
    mapped.push(performance.now() - t);
    t = performance.now();
    device.queue.writeBuffer(target, 0, data);
    await device.queue.onSubmittedWorkDone();
    written.push(performance.now() - t);
  }
  target.destroy();
  device.destroy();
  const info = adapter.info;
  return {
    adapter: [info?.vendor, info?.architecture, info?.device, info?.description]
      .filter((s) => s).join(" "),
    bytes,
    mappedStagingMs: mapped,
    writeBufferMs: written,
    medianMappedStagingMs: median(mapped),
    medianWriteBufferMs: median(written),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mb: { type: "string", default: "64" },
      repeats: { type: "string", default: "5" },
      json: { type: "string" },
    },
  });
  const r = await runUploadBench(Number(values.mb), Number(values.repeats));
  console.log(
    `${r.adapter}: ${(r.bytes / 2 ** 20).toFixed(0)} MB — mapped staging ${
      r.medianMappedStagingMs.toFixed(1)
    } ms, writeBuffer ${
      r.medianWriteBufferMs.toFixed(1)
    } ms (medians of ${r.mappedStagingMs.length})`,
  );
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(r, null, 2));
}
