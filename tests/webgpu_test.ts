/**
 * The GPU code path, exercised without a GPU: TF.js's WebGPU backend on Mesa lavapipe (Vulkan on
 * the CPU; Debian `mesa-vulkan-drivers`). `./kit task test` installs the driver when it can and
 * then sets KIT_REQUIRE_WEBGPU=1, so a missing adapter fails the suite instead of skipping.
 */
import assert from "node:assert/strict";
import { initBackend, matMulFast, tf } from "../lib/backend/mod.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const required = Deno.env.get("KIT_REQUIRE_WEBGPU") === "1";

function randomUnitRows(rng: SeededRandom, n: number, d: number): Float32Array {
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) x[i * d + j]! *= inv;
  }
  return x;
}

/** Symmetric InfoNCE of a residual linear head and its gradient, on the active backend. */
async function lossAndGrad(
  t: Float32Array,
  v: Float32Array,
  dw: Float32Array,
  n: number,
  d: number,
) {
  const { value, grad } = tf.tidy(() => {
    const T = tf.tensor2d(t, [n, d]), V = tf.tensor2d(v, [n, d]);
    const W = tf.tensor2d(dw, [d, d]);
    const f = (w: tf.Tensor) => {
      const proj = matMulFast(T, tf.add(tf.eye(d), w) as tf.Tensor2D);
      const normed = tf.div(proj, tf.norm(proj, 2, 1, true)) as tf.Tensor2D;
      const logits = tf.div(matMulFast(normed, V, false, true), 0.07);
      const labels = tf.oneHot(tf.range(0, n, 1, "int32"), n);
      const a = tf.losses.softmaxCrossEntropy(labels, logits);
      const b = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
      return tf.mul(0.5, tf.add(a, b)) as tf.Scalar;
    };
    return tf.valueAndGrad(f)(W);
  });
  // Asynchronous reads: the WebGPU backend cannot read synchronously everywhere.
  const loss = (await value.data())[0]!, g = (await grad.data()) as Float32Array;
  tf.dispose([value, grad]);
  return { loss, grad: g };
}

Deno.test({
  name: "webgpu backend matches wasm on matmul and a contrastive-loss gradient (Mesa lavapipe)",
  ignore: !adapter && !required,
  fn: async () => {
    assert.ok(
      adapter,
      "KIT_REQUIRE_WEBGPU=1 but no WebGPU adapter: apt-get install -y mesa-vulkan-drivers libvulkan1",
    );
    const rng = new SeededRandom(3);
    const n = 48, d = 64;
    const a = Float32Array.from({ length: n * d }, () => rng.normal());
    const b = Float32Array.from({ length: d * n }, () => rng.normal());
    const t = randomUnitRows(rng, n, d), v = randomUnitRows(rng, n, d);
    const dw = Float32Array.from({ length: d * d }, () => 0.01 * rng.normal());

    const results: Record<string, { mm: Float32Array; loss: number; grad: Float32Array }> = {};
    for (const name of ["wasm", "webgpu"] as const) {
      const info = await initBackend(name);
      assert.equal(info.name, name);
      const before = tf.memory().numTensors;
      const prod = tf.tidy(() => matMulFast(tf.tensor2d(a, [n, d]), tf.tensor2d(b, [d, n])));
      const mm = (await prod.data()) as Float32Array;
      prod.dispose();
      results[name] = { mm, ...(await lossAndGrad(t, v, dw, n, d)) };
      assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked`);
    }
    await initBackend("wasm");
    const w = results.wasm!, g = results.webgpu!;
    let mmErr = 0, gradErr = 0, gradMax = 0;
    for (let i = 0; i < w.mm.length; i++) mmErr = Math.max(mmErr, Math.abs(w.mm[i]! - g.mm[i]!));
    for (let i = 0; i < w.grad.length; i++) {
      gradErr = Math.max(gradErr, Math.abs(w.grad[i]! - g.grad[i]!));
      gradMax = Math.max(gradMax, Math.abs(w.grad[i]!));
    }
    assert.ok(mmErr < 1e-4, `matmul differs by ${mmErr}`);
    assert.ok(Math.abs(w.loss - g.loss) < 1e-4, `loss ${w.loss} vs ${g.loss}`);
    assert.ok(
      gradErr < 1e-4 * Math.max(1, gradMax),
      `gradient differs by ${gradErr} (max |g| ${gradMax})`,
    );
    assert.ok(gradMax > 0, "gradient is zero: the test would not detect a difference");
  },
});

Deno.test({
  name:
    "trainHead() on the webgpu backend follows the wasm loss trajectory (paper D's linear and MLP heads)",
  ignore: !adapter && !required,
  fn: async () => {
    const { createHead } = await import("../lib/heads/create_head.ts");
    const { trainHead } = await import("../lib/train/train_head.ts");
    const rng = new SeededRandom(5);
    const n = 40, d = 32;
    const rows = () => ({ data: randomUnitRows(rng, n, d), rows: n, cols: d });
    const textByLang = { en: rows(), de: rows(), fr: rows() };
    const images = rows();
    const trainIdx = Array.from({ length: 30 }, (_, i) => i);
    const holdoutIdx = Array.from({ length: 10 }, (_, i) => 30 + i);
    const losses: Record<string, number[]> = {};
    for (const kind of ["linear", "mlp"] as const) {
      for (const name of ["wasm", "webgpu"] as const) {
        await initBackend(name);
        const before = tf.memory().numTensors;
        const head = createHead(kind, d, { hidden: 16, seed: 7 });
        const r = await trainHead({
          head,
          textByLang,
          images,
          trainIdx,
          holdoutIdx,
          config: { epochs: 2, stepsPerEpoch: 3, warmupSteps: 2, batchPerLang: 8 },
          evaluate: () => 0,
          progress: false,
        });
        head.dispose();
        assert.equal(tf.memory().numTensors, before, `${name} ${kind}: tensors leaked`);
        losses[`${kind}/${name}`] = r.lossHistory;
      }
      const w = losses[`${kind}/wasm`]!, g = losses[`${kind}/webgpu`]!;
      assert.equal(g.length, 6);
      g.forEach((x, i) =>
        assert.ok(Math.abs(x - w[i]!) < 1e-3, `${kind} step ${i}: webgpu ${x} vs wasm ${w[i]}`)
      );
    }
    await initBackend("wasm");
  },
});
