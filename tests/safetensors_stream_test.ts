import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  loadSafetensorsWeights,
  readEncoderConfig,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { readSafetensors, type SafeTensorInput, writeSafetensors } from "../lib/io/safetensors.ts";
import { SafetensorsReader } from "../lib/io/safetensors_stream.ts";
import { float16BitsToNumber, numberToFloat16Bits } from "../lib/io/float16.ts";
import { KitError } from "../lib/util/kit_error.ts";

await initBackend("wasm");

const DIR = new URL("./fixtures/k_torch/", import.meta.url).pathname;
const golden = JSON.parse(await Deno.readTextFile(`${DIR}golden.json`)) as {
  ids: number[][];
  xlmr_pooled: number[];
};

/** The fixture XLM-R folder's tensors rewritten as F16 (a copy written by the test). */
async function fp16Copy(dir: string): Promise<string> {
  const f = await readSafetensors(`${DIR}xlmr/model.safetensors`);
  const out: Record<string, SafeTensorInput> = {};
  for (const [k, t] of f.tensors) {
    out[k] = { dtype: "F16", shape: t.shape, data: t.data as Float32Array };
  }
  const path = join(dir, "model.safetensors");
  await writeSafetensors(path, out);
  return path;
}

Deno.test("SafetensorsReader reads every tensor in small chunks exactly as the whole-file parser (F32 and F16)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const path of [`${DIR}xlmr/model.safetensors`, await fp16Copy(dir)]) {
      const whole = await readSafetensors(path);
      // 24-byte chunks: every tensor of more than 6 floats spans several reads.
      const r = await SafetensorsReader.open(path, { chunkBytes: 24 });
      try {
        assert.deepEqual([...r.entries.keys()], [...whole.tensors.keys()]);
        for (const [k, t] of whole.tensors) {
          const got = new Float32Array(t.data.length);
          await r.readFloat32Into(k, got);
          assert.deepEqual(got, t.data, k);
        }
        await assert.rejects(() => r.readFloat32Into("nope", new Float32Array(1)), KitError);
        const first = [...r.entries.keys()][0]!;
        await assert.rejects(() => r.readFloat32Into(first, new Float32Array(1)), /values/);
      } finally {
        r.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSafetensorsWeights() streams an F16 model folder: values are the F16-rounded weights and embeddings stay close to torch's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await fp16Copy(dir);
    const cfg = await readEncoderConfig(`${DIR}xlmr/config.json`) as XlmRobertaConfig;
    const m = new XlmRobertaEncoder(cfg, { hostWordEmbeddings: true });
    const rep = await loadSafetensorsWeights(m, path, { chunkBytes: 64 });
    assert.equal(rep.loaded.length, m.params.specs.length);
    const f32 = await readSafetensors(`${DIR}xlmr/model.safetensors`);
    for (const n of m.params.names) {
      const want = Float32Array.from(
        f32.tensors.get(n)!.data as Float32Array,
        (x) => float16BitsToNumber(numberToFloat16Bits(x)),
      );
      assert.deepEqual(m.params.values[n], want, n);
    }
    const ids = golden.ids;
    const b = { ids: Int32Array.from(ids.flat()), batch: ids.length, length: ids[0]!.length };
    const pooled = tf.tidy(() => m.embed(b).dataSync().slice());
    let worst = 0;
    pooled.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - golden.xlmr_pooled[i]!))));
    assert.ok(worst > 0 && worst < 2e-2, `F16 weights move the pooled embedding by ${worst}`);
    m.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSafetensorsWeights() leaves the model untouched when a shape does not match", async () => {
  const cfg = await readEncoderConfig(`${DIR}xlmr/config.json`) as XlmRobertaConfig;
  const m = new XlmRobertaEncoder({ ...cfg, intermediate_size: cfg.intermediate_size + 1 });
  const before = m.params.getState();
  await assert.rejects(() => loadSafetensorsWeights(m, `${DIR}xlmr/model.safetensors`), /shape/);
  for (const n of m.params.names) assert.deepEqual(m.params.values[n], before[n]);
  m.dispose();
});
