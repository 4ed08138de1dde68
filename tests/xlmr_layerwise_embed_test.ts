import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { parseEncoderConfig, type XlmRobertaConfig } from "../lib/encoders/encoder_config.ts";
import { type TokenBatch, XlmRobertaEncoder } from "../lib/encoders/xlm_roberta_encoder.ts";

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
