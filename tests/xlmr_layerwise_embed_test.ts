import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { parseEncoderConfig, type XlmRobertaConfig } from "../lib/encoders/encoder_config.ts";
import { type TokenBatch, XlmRobertaEncoder } from "../lib/encoders/xlm_roberta_encoder.ts";
import { loadSafetensorsTextModel } from "../lib/encoders/safetensors_model_folder.ts";
import {
  WASM_HEAP_LIMIT_BYTES,
  wasmBatchLimit,
  xlmrLayerActivationBytes,
} from "../lib/encoders/xlmr_wasm_heap_budget.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { writeXlmrTokenizerFiles } from "./fixtures/tiny_pretrained_models.ts";

const FIXTURE = new URL("./fixtures/k_torch/xlmr/", import.meta.url).pathname;

await initBackend("wasm");

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/encoders.json", import.meta.url)),
) as { xlmr: { config: unknown } };
const base = parseEncoderConfig(fixture.xlmr.config) as XlmRobertaConfig;

/** Rows of different lengths (`<s>` … `</s>`, padded with pad_token_id), deterministic ids. */
function rows(c: XlmRobertaConfig, lengths: number[]): number[][] {
  return lengths.map((n, r) => {
    const ids = [0];
    for (let t = 1; t < n - 1; t++) ids.push(3 + ((r * 31 + t * 17) % (c.vocab_size - 3)));
    ids.push(2);
    return ids;
  });
}
function padded(c: XlmRobertaConfig, rs: number[][]): TokenBatch {
  const length = Math.max(...rs.map((r) => r.length));
  const ids = new Int32Array(rs.length * length).fill(c.pad_token_id);
  rs.forEach((r, i) => ids.set(r, i * length));
  return { ids, batch: rs.length, length };
}

Deno.test("XlmRobertaEncoder.embed() (one tidy a layer) equals meanPool(encode()) and leaks nothing", () => {
  const c = { ...base, num_hidden_layers: 4 };
  const m = new XlmRobertaEncoder(c, { seed: 3 });
  const b = padded(c, rows(c, [7, 4, 9, 3]));
  const before = tf.memory().numTensors;
  const layerwise = tf.tidy(() => m.embed(b));
  const whole = tf.tidy(() =>
    m.meanPool(b, m.encode(b, tf.tensor2d(m.embeddingInput(b), [b.batch * b.length, m.dim])))
  );
  // the same kernels on the same shapes in the same order: identical values
  assert.deepEqual(Array.from(layerwise.dataSync()), Array.from(whole.dataSync()));
  layerwise.dispose();
  whole.dispose();
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});

Deno.test("XlmRobertaEncoder.embed(): a padded batch gives each row as embedded alone", () => {
  const c = { ...base, num_hidden_layers: 3 };
  const m = new XlmRobertaEncoder(c, { seed: 5 });
  const rs = rows(c, [9, 3, 6, 9, 5]);
  const batched = tf.tidy(() => m.embed(padded(c, rs))).arraySync() as number[][];
  let worst = 0;
  rs.forEach((r, i) => {
    const alone = (tf.tidy(() => m.embed(padded(c, [r]))).arraySync() as number[][])[0]!;
    for (let j = 0; j < alone.length; j++) {
      worst = Math.max(worst, Math.abs(alone[j]! - batched[i]![j]!));
    }
  });
  assert.ok(worst < 1e-5, `batched differs from one-at-a-time by ${worst}`);
  m.dispose();
});

Deno.test("XlmRobertaEncoder.embed()'s peak tensor memory does not grow with depth (encode's does)", async () => {
  const peak = async (layers: number, layerwise: boolean) => {
    const c = { ...base, num_hidden_layers: layers };
    const m = new XlmRobertaEncoder(c, { seed: 1 });
    const b = padded(c, rows(c, [9, 9, 7, 8, 9, 6, 9, 9]));
    const start = tf.memory().numBytes;
    const info = await tf.profile(() => {
      const e = tf.tidy(() =>
        layerwise ? m.embed(b) : m.meanPool(
          b,
          m.encode(b, tf.tensor2d(m.embeddingInput(b), [b.batch * b.length, m.dim])),
        )
      );
      e.dispose();
    });
    m.dispose();
    return info.peakBytes - start;
  };
  const [l2, l8] = [await peak(2, true), await peak(8, true)];
  const [e2, e8] = [await peak(2, false), await peak(8, false)];
  assert.ok(l8 < 1.25 * l2, `embed: peak ${l8} B at 8 layers vs ${l2} B at 2`);
  assert.ok(e8 > 2 * e2, `encode under one tidy: peak ${e8} B at 8 layers vs ${e2} B at 2`);
});

Deno.test("wasmBatchLimit(): XLM-R-large's default batch of 32 × 128 tokens fits beside its weights; a text that cannot fit is a KitError", () => {
  const large = { hidden_size: 1024, num_attention_heads: 16 };
  const weights = 4 * 303_400_000;
  assert.equal(wasmBatchLimit(large, 32, 128, weights), 32);
  // all 24 layers' intermediates at once (the old single tidy) would not have fitted at 16 × 48
  assert.ok(weights + 24 * xlmrLayerActivationBytes(large, 16, 48) > WASM_HEAP_LIMIT_BYTES);
  // a smaller heap splits the batch: the largest count whose layer fits
  const limit = weights + 500 * 2 ** 20;
  const n = wasmBatchLimit(large, 32, 128, weights, limit);
  assert.ok(n >= 1 && n < 32);
  const free = limit - Math.min(384 * 2 ** 20, limit / 8) - weights;
  assert.ok(xlmrLayerActivationBytes(large, n, 128) <= free);
  assert.ok(xlmrLayerActivationBytes(large, n + 1, 128) > free);
  assert.throws(
    () => wasmBatchLimit(large, 32, 128, weights, weights + 100 * 2 ** 20),
    (e: unknown) =>
      e instanceof KitError && /one text of 128 tokens/.test(e.message) &&
      /--backend cpu/.test(e.describe()),
  );
});

Deno.test("loadSafetensorsTextModel(): a batch split to fit the heap gives the unsplit rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of ["config.json", "model.safetensors"]) {
      await Deno.copyFile(join(FIXTURE, f), join(dir, f));
    }
    await writeXlmrTokenizerFiles(dir);
    const texts = ["hello world", "the cat sat", "", "a b hello the cat sat world a b", "cat"];
    const whole = await loadSafetensorsTextModel(dir, { batchSize: 5 });
    const a = await whole.embed(texts);
    const used = tf.memory().numBytes;
    const c = whole.encoder.config;
    const length = whole.tokenize(texts).length;
    // a heap with room for two texts' layer beside what is allocated now
    const limit = (used + 2.5 * xlmrLayerActivationBytes(c, 1, length)) * 8 / 7;
    const split = await loadSafetensorsTextModel(dir, { batchSize: 5, wasmHeapLimitBytes: limit });
    assert.ok(wasmBatchLimit(c, 5, length, tf.memory().numBytes, limit) < 5);
    const b = await split.embed(texts);
    let worst = 0;
    a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]!))));
    assert.ok(worst < 1e-5, `split rows differ by ${worst}`);
    await assert.rejects(
      () =>
        loadSafetensorsTextModel(dir, { wasmHeapLimitBytes: tf.memory().numBytes }).then((m) =>
          m.embed(texts).finally(() => m.dispose())
        ),
      (e: unknown) => e instanceof KitError && /WASM heap/.test(e.message),
    );
    whole.dispose();
    split.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
