/**
 * The kit's TF.js towers and K's loss path against an independent PyTorch implementation
 * (tests/fixtures/make_k_torch.py, Debian python3-torch, float64): Hugging Face model folders
 * (config.json + model.safetensors with HF names) load through the kit's loaders, and the last
 * hidden states, pooled embeddings, K's loss and its gradient with respect to every parameter
 * match within 1e-4.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  loadSafetensorsWeights,
  ParameterSet,
  readEncoderConfig,
  type VitConfig,
  VitEncoder,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { kHeadSpecs } from "../lib/models/k_setup_training.ts";
import {
  type KImageCaptionBatch,
  kImageCaptionGrads,
  kImageCaptionLoss,
} from "../lib/models/k_train_step.ts";

await initBackend("wasm");

const DIR = new URL("./fixtures/k_torch/", import.meta.url).pathname;
const golden = JSON.parse(await Deno.readTextFile(`${DIR}golden.json`)) as {
  projection_dim: number;
  ids: number[][];
  position_ids: number[][];
  caption_image: number[];
  pixels: number[];
  xlmr_last_hidden_state: number[];
  xlmr_pooled: number[];
  vit_last_hidden_state: number[];
  vit_pooled: number[];
  text_projected: number[];
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
};
const TOL = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function loadModels() {
  const tc = await readEncoderConfig(`${DIR}xlmr/config.json`) as XlmRobertaConfig;
  const ic = await readEncoderConfig(`${DIR}vit/config.json`) as VitConfig;
  const text = new XlmRobertaEncoder(tc, { seed: 5, hostWordEmbeddings: true });
  const image = new VitEncoder(ic, { seed: 6 });
  const rt = await loadSafetensorsWeights(text, `${DIR}xlmr/model.safetensors`);
  const ri = await loadSafetensorsWeights(image, `${DIR}vit/model.safetensors`);
  const head = new ParameterSet(
    kHeadSpecs(tc.hidden_size, ic.hidden_size, golden.projection_dim),
    7,
  );
  const hf = await readSafetensors(`${DIR}head.safetensors`);
  head.setState(
    Object.fromEntries([...hf.tensors].map(([k, t]) => [k, t.data as Float32Array])),
  );
  return { m: { text, image, head }, rt, ri };
}

function fixtureBatch(): KImageCaptionBatch {
  return {
    tokens: {
      ids: Int32Array.from(golden.ids.flat()),
      batch: golden.ids.length,
      length: golden.ids[0]!.length,
    },
    pixels: Float32Array.from(golden.pixels),
    images: 2,
    captionImage: golden.caption_image,
  };
}

Deno.test("XLM-R and ViT towers loaded from HF model folders match torch's hidden states and pooled embeddings", async () => {
  const { m, rt, ri } = await loadModels();
  // The XLM-R folder is an XLMRobertaForMaskedLM checkpoint (roberta.* + lm_head.*), the ViT
  // one a ViTModel checkpoint (no prefix, pooler.*): both read, the heads left unused.
  assert.ok(rt.unused.includes("lm_head.dense.weight"));
  assert.ok(ri.unused.includes("pooler.dense.weight"));
  assert.equal(ri.loaded.length, m.image.params.specs.length);
  const b = fixtureBatch();
  assert.deepEqual(Array.from(m.text.positionIds(b.tokens)), golden.position_ids.flat());
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const tb = b.tokens;
    const x0 = tf.tensor2d(m.text.embeddingInput(tb), [tb.batch * tb.length, m.text.dim]);
    const th = m.text.encode(tb, x0);
    const c = m.image.config;
    const patches = tf.tensor2d(m.image.patchify(b.pixels, 2), [
      2 * m.image.numPatches,
      c.num_channels * c.patch_size * c.patch_size,
    ]);
    const ih = m.image.encode(patches, 2);
    return {
      th: th.dataSync().slice(),
      tp: m.text.meanPool(tb, th).dataSync().slice(),
      ih: ih.dataSync().slice(),
      ip: m.image.meanPool(ih, 2).dataSync().slice(),
      loss: kImageCaptionLoss(m, b, x0, patches).dataSync()[0]!,
    };
  });
  assert.equal(tf.memory().numTensors, before);
  // Padding rows too: HF computes them with the same masked attention.
  const dth = maxAbsDiff(out.th, golden.xlmr_last_hidden_state);
  const dtp = maxAbsDiff(out.tp, golden.xlmr_pooled);
  const dih = maxAbsDiff(out.ih, golden.vit_last_hidden_state);
  const dip = maxAbsDiff(out.ip, golden.vit_pooled);
  assert.ok(dth < TOL, `XLM-R last hidden state differs by ${dth}`);
  assert.ok(dtp < TOL, `XLM-R pooled differs by ${dtp}`);
  assert.ok(dih < TOL, `ViT last hidden state differs by ${dih}`);
  assert.ok(dip < TOL, `ViT pooled differs by ${dip}`);
  assert.ok(Math.abs(out.loss - golden.loss) < TOL, `loss ${out.loss} vs ${golden.loss}`);
  for (const x of [m.text, m.image, m.head]) x.dispose();
});

Deno.test("kImageCaptionGrads() matches torch's gradient of K's loss for every parameter (word table as sparse rows)", async () => {
  const { m } = await loadModels();
  const b = fixtureBatch();
  const before = tf.memory().numTensors;
  const g = await kImageCaptionGrads(m, b);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(g.loss - golden.loss) < TOL);
  const word = "roberta.embeddings.word_embeddings.weight";
  // The sparse rows are exactly the distinct ids of the batch.
  assert.deepEqual(
    Array.from(g.wordRows.rows),
    [...new Set(golden.ids.flat())].sort((a, b) => a - b),
  );
  const dense = new Float32Array(m.text.params.values[word]!.length);
  g.wordRows.rows.forEach((r, k) =>
    dense.set(
      g.wordRows.values.subarray(k * g.wordRows.width, (k + 1) * g.wordRows.width),
      r * g.wordRows.width,
    )
  );
  const kit: Record<string, Float32Array> = { ...g.text, ...g.head, [word]: dense };
  for (const [k, v] of Object.entries(g.image)) kit[k.replace(/^vit\./, "")] = v;
  const names = Object.keys(golden.grads);
  assert.equal(names.length, Object.keys(kit).length, "same parameters get gradients");
  let worst = 0, scale = 0;
  for (const n of names) {
    const mine = kit[n];
    assert.ok(mine, `no gradient for ${n}`);
    const d = maxAbsDiff(mine, golden.grads[n]!);
    assert.ok(d < TOL, `gradient of ${n} differs by ${d}`);
    worst = Math.max(worst, d);
    scale = Math.max(scale, ...golden.grads[n]!.map(Math.abs));
  }
  // The comparison is not vacuous: gradients are far from zero relative to the tolerance.
  assert.ok(scale > 100 * TOL && worst < TOL);
  for (const x of [m.text, m.image, m.head]) x.dispose();
});
