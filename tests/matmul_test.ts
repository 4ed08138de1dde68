import assert from "node:assert/strict";
import { initBackend, matMulFast, tf } from "../lib/backend/mod.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

function randn(rng: SeededRandom, shape: [number, number]): tf.Tensor2D {
  const n = shape[0] * shape[1];
  return tf.tensor2d(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

Deno.test("matMulFast() equals tf.matMul and its gradients for every transpose combination", async () => {
  await initBackend("wasm");
  const rng = new SeededRandom(1);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const a = randn(rng, ta ? [5, 3] : [3, 5]);
    const b = randn(rng, tb ? [4, 5] : [5, 4]);
    const before = tf.memory().numTensors;
    const loss = (f: typeof matMulFast) => (x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.square(f(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb)));
    const ref = (x: tf.Tensor2D, y: tf.Tensor2D, p?: boolean, q?: boolean) =>
      tf.matMul(x, y, p, q) as tf.Tensor2D;
    const [ga, gb] = tf.grads(loss(matMulFast))([a, b]);
    const [ra, rb] = tf.grads(loss(ref))([a, b]);
    const y1 = matMulFast(a, b, ta, tb), y2 = tf.matMul(a, b, ta, tb);
    assert.ok(maxAbsDiff(y1, y2) < 1e-5);
    assert.ok(maxAbsDiff(ga!, ra!) < 1e-4);
    assert.ok(maxAbsDiff(gb!, rb!) < 1e-4);
    tf.dispose([ga!, gb!, ra!, rb!, y1, y2]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([a, b]);
  }
});
