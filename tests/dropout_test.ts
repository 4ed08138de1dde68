import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  Dropout,
  parseEncoderConfig,
  type VitConfig,
  VitEncoder,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

await initBackend("wasm");

const xc = parseEncoderConfig({
  model_type: "xlm-roberta",
  vocab_size: 12,
  hidden_size: 8,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 16,
  max_position_embeddings: 16,
  type_vocab_size: 1,
}) as XlmRobertaConfig;
const vc = parseEncoderConfig({
  model_type: "vit",
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
  image_size: 8,
  patch_size: 4,
  num_channels: 3,
  qkv_bias: true,
}) as VitConfig;
const batch = { ids: Int32Array.from([0, 5, 6, 7, 2, 0, 8, 2, 1, 1]), batch: 2, length: 5 };

async function encodeText(m: XlmRobertaEncoder, d?: Dropout): Promise<Float32Array> {
  const y = tf.tidy(() => m.encode(batch, tf.tensor2d(m.embeddingInput(batch), [10, m.dim]), d));
  const v = (await y.data()) as Float32Array;
  y.dispose();
  return v;
}

Deno.test("Dropout.apply() zeroes about `rate` of the units and scales the rest by 1/(1-rate), the same mask for the same seed", async () => {
  const x = tf.ones([100, 100]);
  const d = new Dropout({ hidden: 0.1, attention: 0 }, 7);
  const a = (await d.apply(x, "hidden").data()) as Float32Array;
  const zeros = a.filter((v) => v === 0).length;
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.9) < 1e-6));
  assert.ok(zeros > 800 && zeros < 1200, `${zeros} of 10000 dropped at rate 0.1`);
  // a second site draws another mask; a new Dropout with the same seed replays both
  const b = (await d.apply(x, "hidden").data()) as Float32Array;
  assert.notDeepEqual(Array.from(a), Array.from(b));
  const d2 = new Dropout({ hidden: 0.1, attention: 0 }, 7);
  assert.deepEqual(Array.from((await d2.apply(x, "hidden").data()) as Float32Array), Array.from(a));
  // rate 0 is the identity and uses no site
  assert.equal(d2.apply(x, "attention"), x);
  x.dispose();
  assert.throws(() => new Dropout({ hidden: 1, attention: 0 }, 0), KitError);
});

Deno.test("XlmRobertaEncoder.encode() with zero-rate Dropout is bit-identical to no dropout; rate 0.1 changes it reproducibly per seed", async () => {
  const m = new XlmRobertaEncoder(xc, { seed: 1 });
  const plain = await encodeText(m);
  assert.deepEqual(await encodeText(m, new Dropout({ hidden: 0, attention: 0 }, 3)), plain);
  const d1 = await encodeText(m, new Dropout({ hidden: 0.1, attention: 0.1 }, 3));
  const d1b = await encodeText(m, new Dropout({ hidden: 0.1, attention: 0.1 }, 3));
  const d2 = await encodeText(m, new Dropout({ hidden: 0.1, attention: 0.1 }, 4));
  assert.deepEqual(d1b, d1);
  assert.notDeepEqual(Array.from(d1), Array.from(plain));
  assert.notDeepEqual(Array.from(d2), Array.from(d1));
  // evaluation (no Dropout) is unaffected by earlier training-mode passes
  assert.deepEqual(await encodeText(m), plain);
  const before = tf.memory().numTensors;
  await encodeText(m, new Dropout({ hidden: 0.1, attention: 0.1 }, 5));
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
  m.dispose();
});

Deno.test("VitEncoder.encode() applies dropout only when given one, and its gradient uses the forward pass's mask", async () => {
  const v = new VitEncoder(vc, { seed: 2 });
  const px = Float32Array.from({ length: 2 * 3 * 64 }, (_, i) => Math.sin(i));
  const patches = tf.tensor2d(v.patchify(px, 2), [2 * v.numPatches, 48]);
  const run = async (d?: Dropout) => {
    const y = tf.tidy(() => v.encode(patches, 2, d));
    const out = (await y.data()) as Float32Array;
    y.dispose();
    return out;
  };
  const plain = await run();
  assert.notDeepEqual(
    Array.from(await run(new Dropout({ hidden: 0.2, attention: 0.2 }, 9))),
    Array.from(plain),
  );
  // d/dx sum(dropout(x)) = the mask / (1 - rate): the gradient sees the forward pass's mask
  const x = tf.ones([50]);
  const d = new Dropout({ hidden: 0.5, attention: 0 }, 11);
  const fwd = (await new Dropout({ hidden: 0.5, attention: 0 }, 11).apply(x, "hidden")
    .data()) as Float32Array;
  const g = tf.grad((t: tf.Tensor) => tf.sum(d.apply(t, "hidden")))(x);
  assert.deepEqual(Array.from((await g.data()) as Float32Array), Array.from(fwd));
  tf.dispose([x, g, patches]);
  v.dispose();
});
