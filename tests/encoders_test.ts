import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  batchMatMulFast,
  loadSafetensorsWeights,
  parseEncoderConfig,
  readEncoderConfig,
  saveSafetensorsWeights,
  SubwordTokenizer,
  type TokenBatch,
  type VitConfig,
  VitEncoder,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { writeSafetensors } from "../lib/io/safetensors.ts";
import { KitError } from "../lib/util/kit_error.ts";

await initBackend("wasm");

interface FixtureParams {
  [name: string]: { shape: number[]; data: number[] };
}
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/encoders.json", import.meta.url)),
) as {
  xlmr: {
    config: unknown;
    params: FixtureParams;
    ids: number[][];
    position_ids: number[][];
    hidden: number[];
    pooled: number[];
    lm_logits: number[];
  };
  vit: {
    config: unknown;
    num_labels: number;
    params: FixtureParams;
    pixels: number[];
    batch: number;
    hidden: number[];
    pooled: number[];
    logits: number[];
  };
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function setFromFixture(_params: { values: Record<string, Float32Array> }, p: FixtureParams) {
  const state: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(p)) state[k] = Float32Array.from(v.data);
  return state;
}

function fixtureBatch(ids: number[][]): TokenBatch {
  return { ids: Int32Array.from(ids.flat()), batch: ids.length, length: ids[0]!.length };
}

Deno.test("XlmRobertaEncoder matches the numpy reference (positions, post-LN layers, masked mean pooling, LM head)", () => {
  const fx = fixture.xlmr;
  const m = new XlmRobertaEncoder(parseEncoderConfig(fx.config) as XlmRobertaConfig, {
    lmHead: true,
  });
  m.params.setState(setFromFixture(m.params, fx.params));
  const b = fixtureBatch(fx.ids);
  assert.deepEqual(Array.from(m.positionIds(b)), fx.position_ids.flat());
  const before = tf.memory().numTensors;
  const [hidden, pooled, logits] = tf.tidy(() => {
    const h = m.encode(b, tf.tensor2d(m.embeddingInput(b), [b.batch * b.length, m.dim]));
    return [
      h.dataSync().slice(),
      m.meanPool(b, h).dataSync().slice(),
      m.lmLogits(h).dataSync().slice(),
    ];
  });
  assert.equal(tf.memory().numTensors, before);
  // Padding positions' hidden states depend on -inf vs float32-min masking only through rows that
  // are never pooled; compare all of them anyway (both give exact zeros to padded keys).
  assert.ok(
    maxAbsDiff(hidden!, fx.hidden) < 2e-4,
    `hidden differs by ${maxAbsDiff(hidden!, fx.hidden)}`,
  );
  assert.ok(
    maxAbsDiff(pooled!, fx.pooled) < 2e-4,
    `pooled differs by ${maxAbsDiff(pooled!, fx.pooled)}`,
  );
  assert.ok(
    maxAbsDiff(logits!, fx.lm_logits) < 5e-4,
    `logits differ by ${maxAbsDiff(logits!, fx.lm_logits)}`,
  );
  m.dispose();
});

Deno.test("VitEncoder matches the numpy reference (patch conv, CLS, pre-LN layers, mean pooling, classifier)", () => {
  const fx = fixture.vit;
  const m = new VitEncoder(parseEncoderConfig(fx.config) as VitConfig, {
    numLabels: fx.num_labels,
  });
  m.params.setState(setFromFixture(m.params, fx.params));
  const before = tf.memory().numTensors;
  const [pooled, logits] = tf.tidy(() => {
    const p = m.embed(Float32Array.from(fx.pixels), fx.batch);
    return [p.dataSync().slice(), m.classify(p).dataSync().slice()];
  });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(
    maxAbsDiff(pooled!, fx.pooled) < 2e-4,
    `pooled differs by ${maxAbsDiff(pooled!, fx.pooled)}`,
  );
  assert.ok(
    maxAbsDiff(logits!, fx.logits) < 5e-4,
    `logits differ by ${maxAbsDiff(logits!, fx.logits)}`,
  );
  m.dispose();
});

Deno.test("loadSafetensorsWeights() reproduces a saved XLM-R and ViT exactly in a fresh model", async () => {
  const dir = await Deno.makeTempDir();
  const xc = await readEncoderConfig("tiny-xlmr") as XlmRobertaConfig;
  const vc = await readEncoderConfig("tiny-vit") as VitConfig;
  const a = new XlmRobertaEncoder(xc, { seed: 1, lmHead: true });
  const v = new VitEncoder(vc, { seed: 2, numLabels: 3 });
  await saveSafetensorsWeights(a, join(dir, "xlmr.safetensors"));
  await saveSafetensorsWeights(v, join(dir, "vit.safetensors"));
  const b2 = new XlmRobertaEncoder(xc, { seed: 99, lmHead: true });
  const v2 = new VitEncoder(vc, { seed: 98, numLabels: 3 });
  const r1 = await loadSafetensorsWeights(b2, join(dir, "xlmr.safetensors"));
  const r2 = await loadSafetensorsWeights(v2, join(dir, "vit.safetensors"));
  assert.equal(r1.loaded.length, a.params.specs.length);
  assert.equal(r2.unused.length, 0);
  const batch: TokenBatch = {
    ids: Int32Array.from([0, 5, 7, 2, 1, 0, 9, 9, 9, 2]),
    batch: 2,
    length: 5,
  };
  const px = Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => Math.sin(i));
  const out = (t: XlmRobertaEncoder, w: VitEncoder) =>
    tf.tidy(() => [t.embed(batch).dataSync().slice(), w.embed(px, 2).dataSync().slice()]);
  const [t1, i1] = out(a, v), [t2, i2] = out(b2, v2);
  assert.deepEqual(t2, t1);
  assert.deepEqual(i2, i1);
  for (const m of [a, v, b2, v2]) m.dispose();
});

Deno.test("loadSafetensorsWeights() reads base-model names (no roberta./vit. prefix), skips the pooler, keeps missing heads", async () => {
  const dir = await Deno.makeTempDir();
  const xc = await readEncoderConfig("tiny-xlmr") as XlmRobertaConfig;
  const a = new XlmRobertaEncoder(xc, { seed: 1 });
  const tensors: Record<string, { dtype: "F32"; shape: readonly number[]; data: Float32Array }> =
    {};
  for (const s of a.params.specs) {
    tensors[s.name.replace(/^roberta\./, "")] = {
      dtype: "F32",
      shape: s.shape,
      data: a.params.values[s.name]!,
    };
  }
  tensors["pooler.dense.weight"] = { dtype: "F32", shape: [16, 16], data: new Float32Array(256) };
  await writeSafetensors(join(dir, "base.safetensors"), tensors);
  const b = new XlmRobertaEncoder(xc, { seed: 5, lmHead: true });
  const r = await loadSafetensorsWeights(b, join(dir, "base.safetensors"));
  assert.deepEqual(r.unused, ["pooler.dense.weight"]);
  assert.ok(r.keptOptional.includes("lm_head.bias"));
  assert.deepEqual(
    b.params.values["roberta.encoder.layer.1.output.dense.weight"],
    a.params.values["roberta.encoder.layer.1.output.dense.weight"],
  );
  a.dispose();
  b.dispose();
});

Deno.test("loadSafetensorsWeights() names a missing or mis-shaped tensor and the file", async () => {
  const dir = await Deno.makeTempDir();
  const vc = await readEncoderConfig("tiny-vit") as VitConfig;
  const v = new VitEncoder(vc);
  const full: Record<string, { dtype: "F32"; shape: readonly number[]; data: Float32Array }> = {};
  for (const s of v.params.specs) {
    full[s.name] = { dtype: "F32", shape: s.shape, data: v.params.values[s.name]! };
  }
  const missing = { ...full };
  delete missing["vit.encoder.layer.1.attention.attention.key.weight"];
  await writeSafetensors(join(dir, "missing.safetensors"), missing);
  await assert.rejects(
    () => loadSafetensorsWeights(v, join(dir, "missing.safetensors")),
    (e: Error) => {
      assert.ok(e instanceof KitError);
      assert.match(
        e.message,
        /missing\.safetensors: tensor "vit\.encoder\.layer\.1\.attention\.attention\.key\.weight".*missing/,
      );
      return true;
    },
  );
  const bad = {
    ...full,
    "vit.layernorm.weight": { dtype: "F32" as const, shape: [8], data: new Float32Array(8) },
  };
  await writeSafetensors(join(dir, "bad.safetensors"), bad);
  await assert.rejects(
    () => loadSafetensorsWeights(v, join(dir, "bad.safetensors")),
    (e: Error) => {
      assert.ok(e instanceof KitError);
      assert.match(e.message, /"vit\.layernorm\.weight" has shape \[8\], the model expects \[16\]/);
      return true;
    },
  );
  v.dispose();
});

Deno.test("readEncoderConfig() reads the real XLM-R large and ViT-B/16 in21k shapes and rejects bad configs", async () => {
  const x = await readEncoderConfig("xlm-roberta-large") as XlmRobertaConfig;
  assert.equal(x.hidden_size, 1024);
  assert.equal(x.vocab_size, 250002);
  const v = await readEncoderConfig("vit-base-patch16-224-in21k") as VitConfig;
  assert.equal(v.hidden_size * v.num_hidden_layers, 768 * 12);
  assert.throws(() => parseEncoderConfig({ model_type: "bert" }), KitError);
  assert.throws(
    () =>
      parseEncoderConfig({
        model_type: "vit",
        hidden_size: 10,
        num_hidden_layers: 1,
        num_attention_heads: 3,
        intermediate_size: 4,
        image_size: 8,
        patch_size: 4,
        num_channels: 3,
      }),
    /multiple of num_attention_heads/,
  );
});

Deno.test("batchMatMulFast() gives tf.matMul's values and gradients with every transpose flag", () => {
  const a = tf.randomNormal([2, 3, 4], 0, 1, "float32", 1) as tf.Tensor3D;
  const b = tf.randomNormal([2, 4, 5], 0, 1, "float32", 2) as tf.Tensor3D;
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const A = ta ? tf.transpose(a, [0, 2, 1]) as tf.Tensor3D : a;
    const B = tb ? tf.transpose(b, [0, 2, 1]) as tf.Tensor3D : b;
    const f1 = (x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.square(batchMatMulFast(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb)));
    const f2 = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb)));
    const g1 = tf.grads(f1)([A, B]), g2 = tf.grads(f2)([A, B]);
    for (let i = 0; i < 2; i++) assert.ok(maxAbsDiff(g1[i]!.dataSync(), g2[i]!.dataSync()) < 1e-4);
    tf.dispose([...g1, ...g2]);
    if (ta) A.dispose();
    if (tb) B.dispose();
  }
  tf.dispose([a, b]);
});

Deno.test("SubwordTokenizer.learn() is deterministic, round-trips through JSON and pads with <pad>", () => {
  const texts = [
    "A red car.",
    "A red cat.",
    "Un coche rojo.",
    "赤い車",
    "लाल कार",
    "a red car again",
  ];
  const t1 = SubwordTokenizer.learn(texts, { vocabSize: 60, minCount: 1 });
  const t2 = SubwordTokenizer.learn([...texts], { vocabSize: 60, minCount: 1 });
  assert.deepEqual(t1.pieces, t2.pieces);
  assert.equal(t1.vocabSize, 60);
  const t3 = new SubwordTokenizer(JSON.parse(JSON.stringify(t1.toJSON())));
  assert.deepEqual(t3.encode("A red car."), t1.encode("A red car."));
  assert.equal(t1.encode("car ✈").at(-2), t1.unkId); // an unseen character
  const b = t1.batch(["a red car", "rojo"], 8);
  assert.equal(b.batch, 2);
  assert.ok(b.length <= 8);
  assert.equal(b.ids[b.length * 2 - 1], t1.padId);
  assert.equal(t1.encode("a red car red car red car", 5).length, 5);
  assert.equal(t1.encode("a red car red car red car", 5).at(-1), t1.eosId);
});
