/**
 * Driver (issue 27 follow-up): loads the full-size stand-in XLM-R-large folder on the default
 * backend and embeds FLORES stand-in sentences at the given batch sizes (the first language at
 * each size, the others at the largest), printing tokens, CPU
 * seconds (process.cpuUsage), wall seconds, RSS, tf.memory() and the WASM heap size per call.
 *   ./kit run -A bench/wasm_batch/xlmr_large_wasm_batches.ts FOLDER FLORES_DIR LANG 8,16,32
 */
import process from "node:process";
import { join } from "node:path";
import { tf } from "../../lib/backend/tf.ts";
import { initBackend } from "../../lib/backend/select_backend.ts";
import { loadSafetensorsTextModel } from "../../lib/encoders/safetensors_model_folder.ts";

const [folder, flores, langs, sizes] = Deno.args;
if (!folder || !flores || !langs || !sizes) throw new Error("usage: FOLDER FLORES LANGS SIZES");
const info = await initBackend();
console.log(`backend ${info.name} (${info.device})`);
const heap = () => {
  const w = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return w?.HEAPU8 ? w.HEAPU8.buffer.byteLength : NaN;
};
const GB = 1e9;
/** KIT_BENCH_REPEATS=N: each call N times (the first pays one-off costs: heap growth). */
const repeats = Number(Deno.env.get("KIT_BENCH_REPEATS") ?? 1);
const t0 = performance.now();
const model = await loadSafetensorsTextModel(folder, {
  batchSize: Math.max(...sizes.split(",").map(Number)),
});
console.log(
  `loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; RSS ${
    (Deno.memoryUsage().rss / GB).toFixed(2)
  } GB; heap ${(heap() / GB).toFixed(2)} GB; tensors ${tf.memory().numTensors}`,
);
for (const lang of langs.split(",")) {
  const lines = (await Deno.readTextFile(join(flores, "devtest", `${lang}.devtest`))).split("\n")
    .filter((l) => l.length > 0);
  let offset = 0;
  // the first language at every size, the others at the largest
  const all = sizes.split(",").map(Number);
  for (const n of lang === langs.split(",")[0] ? all : [Math.max(...all)]) {
    const texts = lines.slice(offset, offset + n);
    offset += n;
    const tok = model.tokenize(texts);
    const realPer = texts.map((t) => model.tokenize([t]).length);
    for (let rep = 0; rep < repeats; rep++) {
      const c0 = process.cpuUsage(), w0 = performance.now();
      const out = await model.embed(texts);
      const c1 = process.cpuUsage(c0), w1 = performance.now();
      const cpu = (c1.user + c1.system) / 1e6;
      console.log(
        `${lang} batch ${n}${
          rep > 0 ? ` (again, ${rep + 1})` : ""
        }: padded ${tok.length} tokens (mean real ${
          (realPer.reduce((a, b) => a + b, 0) / n).toFixed(1)
        }); CPU ${cpu.toFixed(1)} s (${(cpu / n).toFixed(2)} s/sentence); wall ${
          ((w1 - w0) / 1000).toFixed(1)
        } s; RSS ${(Deno.memoryUsage().rss / GB).toFixed(2)} GB; heap ${
          (heap() / GB).toFixed(2)
        } GB; tensors ${tf.memory().numTensors}; row0[0..2] ${out[0]?.toFixed(5)} ${
          out[1]?.toFixed(5)
        }`,
      );
    }
  }
}
model.dispose();
