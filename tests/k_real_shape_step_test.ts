import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { kHeadSpecs } from "../lib/k_finetune/k_head_specs.ts";
import { randomKBatch, runRealShapeStep } from "../tools/k_real_shape_step.ts";
import { readEncoderConfig, type VitConfig, type XlmRobertaConfig } from "../lib/encoders/mod.ts";

await initBackend("wasm");

Deno.test("kHeadSpecs() starts the projections as torch nn.Linear (uniform ±1/√fan_in) and the scale at 1", () => {
  const specs = kHeadSpecs(1024, 768, 512);
  const by = Object.fromEntries(specs.map((s) => [s.name, s]));
  assert.deepEqual(by["text_projection.weight"]!.init, { kind: "uniform", bound: 1 / 32 });
  assert.deepEqual(by["image_projection.bias"]!.init, {
    kind: "uniform",
    bound: 1 / Math.sqrt(768),
  });
  assert.deepEqual(by["logit_scale"]!.init, { kind: "ones" });
});
Deno.test("randomKBatch() gives captions framed by <s> … </s>, padded with pad_token_id, one per image", async () => {
  const tc = await readEncoderConfig("tiny-xlmr") as XlmRobertaConfig;
  const ic = await readEncoderConfig("tiny-vit") as VitConfig;
  const b = randomKBatch(tc, ic, 3, 8, 1);
  assert.deepEqual(b.captionImage, [0, 1, 2]);
  for (let r = 0; r < 3; r++) {
    const row = Array.from(b.tokens.ids.subarray(r * 8, r * 8 + 8));
    assert.equal(row[0], 0);
    const end = row.indexOf(2);
    assert.ok(end >= 2);
    assert.ok(row.slice(end + 1).every((x) => x === tc.pad_token_id));
    assert.ok(row.slice(1, end).every((x) => x >= 3 && x < tc.vocab_size));
  }
  assert.equal(b.tokens.ids.subarray(0, 8).indexOf(2), 7, "the first caption is the longest");
  assert.equal(b.pixels.length, 3 * 3 * ic.image_size ** 2);
});

Deno.test("runRealShapeStep() at unit size trains (loss changes), reports times and memory, leaks no tensors", async () => {
  const before = tf.memory().numTensors;
  const r = await runRealShapeStep({
    backend: "wasm",
    steps: 3,
    images: 2,
    tokens: 8,
    text: "tiny-xlmr",
    image: "tiny-vit",
    projection: 8,
    seed: 0,
  });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.stepMs.length, 3);
  assert.ok(r.losses.every(Number.isFinite));
  assert.notEqual(r.losses[0], r.losses[2]);
  assert.ok(r.peakRssBytes === null || r.peakRssBytes > 0);
  assert.ok(r.steps.every((s) => s.wordRows > 0 && s.wordRows <= 16));
  assert.equal(
    r.medianStepMs,
    [...r.stepMs.slice(1)].sort((a, b) => a - b)[0]! / 2 +
      [...r.stepMs.slice(1)].sort((a, b) => a - b)[1]! / 2,
  );
});
