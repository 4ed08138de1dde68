import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  initBackend,
  loadOpenBlas,
  matMulFast,
  nativeBlas,
  nativeMatMulActive,
  setNativeBlasEnabled,
  tf,
} from "../lib/backend/mod.ts";
import { collectProvenance } from "../lib/artifacts/provenance.ts";
import { createHead } from "../lib/heads/create_head.ts";
import type { HeadKind } from "../lib/heads/head.ts";
import { batchMatMulFast } from "../lib/encoders/batch_mat_mul.ts";
import { symmetricInfoNceRepeatedImages } from "../lib/losses/symmetric_info_nce.ts";
import { HeadStepper } from "../lib/train/head_step.ts";
import { resolveTrainConfig } from "../lib/train/train_config.ts";
import { matrix } from "../lib/diagnostics/matrix.ts";
import { centredSquaredSingularValues, effectiveRank, pca90 } from "../lib/diagnostics/spectrum.ts";
import { symmetricEigenvalues } from "../lib/diagnostics/symmetric_eigen.ts";
import { gram } from "../lib/diagnostics/gram.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import {
  parseEncoderConfig,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import type { TokenBatch } from "../lib/encoders/xlm_roberta_encoder.ts";
import { evaluateFold } from "../lib/retrieval/fold_evaluation.ts";
import { alignmentEmbeddings } from "../lib/image_pivot/embedding_dir.ts";
import { runImagePivotCv } from "../lib/image_pivot/image_pivot_cv.ts";

/** Native-vs-WASM comparisons need the library; without it they are reported as ignored. */
const HAVE_OPENBLAS = loadOpenBlas({ quiet: true }) !== null;
const needsLib = { ignore: !HAVE_OPENBLAS, sanitizeResources: false, sanitizeOps: false };

function randn(rng: SeededRandom, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** max|a − b| / max|b|: the comparisons' "relative" (elementwise relative is meaningless near 0). */
function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

/** ‖a − b‖₂ / ‖b‖₂. */
function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** Runs `fn` on wasm+openblas, then on plain WASM (the native kernel switched off). */
async function onBothPaths<T>(fn: () => Promise<T> | T): Promise<{ native: T; wasm: T }> {
  const info = await initBackend("wasm+openblas");
  assert.equal(info.name, "wasm+openblas");
  assert.ok(nativeMatMulActive());
  const native = await fn();
  await initBackend("wasm");
  assert.ok(!nativeMatMulActive());
  const wasm = await fn();
  return { native, wasm };
}

/** Naive Float64 `op(A)·op(B)` for rank-2 row-major inputs. */
function naiveMatMul(
  a: Float32Array,
  [ar, ac]: [number, number],
  b: Float32Array,
  [br, bc]: [number, number],
  ta: boolean,
  tb: boolean,
): Float64Array {
  const m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) {
        s += (ta ? a[t * ac + i]! : a[i * ac + t]!) * (tb ? b[j * bc + t]! : b[t * bc + j]!);
      }
      out[i * n + j] = s;
    }
  }
  return out;
}

Deno.test(
  "tf.matMul on wasm+openblas equals a naive Float64 product and TF.js-WASM's kernel (1e-5) for every flag and batch shape",
  needsLib,
  async () => {
    const rng = new SeededRandom(3);
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 53], [53, 29], false, false],
      [[53, 37], [53, 29], true, false],
      [[37, 53], [29, 53], false, true],
      [[53, 37], [29, 53], true, true],
      [[288, 512], [512, 512], false, false],
      [[3, 7, 5], [3, 5, 4], false, false],
      [[3, 5, 7], [3, 4, 5], true, true],
      [[3, 7, 5], [5, 4], false, false],
      [[1, 7, 5], [2, 3, 5, 4], false, false],
      [[2, 3, 7, 5], [2, 3, 4, 5], false, true],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = randn(rng, sa.reduce((x, y) => x * y)), b = randn(rng, sb.reduce((x, y) => x * y));
      const run = () =>
        tf.tidy(() => {
          const before = tf.memory().numTensors;
          const y = tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb);
          const out = { shape: y.shape, data: y.dataSync() as Float32Array };
          assert.equal(tf.memory().numTensors, before + 3);
          return out;
        });
      const { native, wasm } = await onBothPaths(run);
      const what = `${sa}·${sb} ${ta} ${tb}`;
      assert.deepEqual(native.shape, wasm.shape, what);
      assert.ok(
        relMax(native.data, wasm.data) < 1e-5,
        `${what}: ${relMax(native.data, wasm.data)}`,
      );
      if (sa.length === 2 && sb.length === 2) {
        const ref = naiveMatMul(a, sa as [number, number], b, sb as [number, number], ta, tb);
        assert.ok(relMax(native.data, ref) < 1e-5, `${what} vs naive`);
      }
    }
  },
);

Deno.test(
  "matMulFast() and batchMatMulFast() give the same values and gradients on both paths without leaking",
  needsLib,
  async () => {
    const rng = new SeededRandom(4);
    const a = randn(rng, 6 * 9),
      b = randn(rng, 9 * 4),
      a3 = randn(rng, 2 * 6 * 9),
      b3 = randn(rng, 2 * 4 * 9);
    const run = () => {
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => {
        const x = tf.tensor2d(a, [9, 6]), y = tf.tensor2d(b, [9, 4]);
        const x3 = tf.tensor3d(a3, [2, 6, 9]), y3 = tf.tensor3d(b3, [2, 4, 9]);
        const g2 = tf.grads((p, q) =>
          tf.sum(tf.square(matMulFast(p as tf.Tensor2D, q as tf.Tensor2D, true, false)))
        )([x, y]);
        const g3 = tf.grads((p, q) =>
          tf.sum(tf.square(batchMatMulFast(p as tf.Tensor3D, q as tf.Tensor3D, false, true)))
        )([x3, y3]);
        return [...g2, ...g3].map((g) => g.dataSync() as Float32Array);
      });
      assert.equal(tf.memory().numTensors, before);
      return out;
    };
    const { native, wasm } = await onBothPaths(run);
    native.forEach((g, i) => assert.ok(relMax(g, wasm[i]!) < 1e-5, `gradient ${i}`));
  },
);

Deno.test(
  "symmetricInfoNceRepeatedImages() value and gradients agree within 1e-5 on wasm+openblas and WASM",
  needsLib,
  async () => {
    const rng = new SeededRandom(5);
    const L = 9, B = 32, d = 512;
    const t = randn(rng, L * B * d), u = randn(rng, B * d);
    const run = () => {
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => {
        const tt = tf.tensor2d(t, [L * B, d]), uu = tf.tensor2d(u, [B, d]);
        const norm = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
        const { value, grads } = tf.valueAndGrads((p, q) =>
          symmetricInfoNceRepeatedImages(norm(p as tf.Tensor2D), norm(q as tf.Tensor2D), L, 0.07)
        )([tt, uu]);
        return {
          value: value.dataSync()[0]!,
          grads: grads.map((g) => g.dataSync() as Float32Array),
        };
      });
      assert.equal(tf.memory().numTensors, before);
      return out;
    };
    const { native, wasm } = await onBothPaths(run);
    assert.ok(Math.abs(native.value - wasm.value) <= 1e-5 * Math.abs(wasm.value));
    assert.ok(relMax(native.grads[0]!, wasm.grads[0]!) < 1e-5, "dT");
    assert.ok(relMax(native.grads[1]!, wasm.grads[1]!) < 1e-5, "dU");
  },
);

Deno.test(
  "a head-training trajectory (linear and MLP, 8 steps) is the same on wasm+openblas and WASM within 1e-5",
  needsLib,
  async () => {
    const rng = new SeededRandom(6);
    const d = 128, L = 3, n = 200;
    const unit = (rows: number) => {
      const x = randn(rng, rows * d);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += x[r * d + c]! ** 2;
        for (let c = 0; c < d; c++) x[r * d + c]! /= Math.sqrt(s);
      }
      return x;
    };
    const text = Array.from({ length: L }, () => unit(n)), images = unit(n);
    const idx = Array.from({ length: n }, (_, i) => i);
    const config = resolveTrainConfig({
      epochs: 1,
      stepsPerEpoch: 8,
      batchPerLang: 16,
      warmupSteps: 2,
    });
    for (const kind of ["linear", "mlp"] as HeadKind[]) {
      const run = async () => {
        const head = createHead(kind, d, { seed: 7 });
        try {
          const before = tf.memory().numTensors;
          const stepper = await HeadStepper.create(head, text, images, idx, config);
          const losses: number[] = [];
          for (let s = 0; s < 8; s++) losses.push((await stepper.step(s)).loss);
          assert.equal(tf.memory().numTensors, before);
          return { losses, params: stepper.params };
        } finally {
          head.dispose();
        }
      };
      const { native, wasm } = await onBothPaths(run);
      native.losses.forEach((l, i) => {
        assert.ok(
          Math.abs(l - wasm.losses[i]!) <= 1e-5 * Math.abs(wasm.losses[i]!),
          `${kind} loss ${i}`,
        );
      });
      for (const [name, p] of Object.entries(native.params)) {
        const r = relL2(p, wasm.params[name]!);
        assert.ok(r < 1e-5, `${kind} ${name}: relative L2 difference ${r}`);
      }
    }
  },
);

interface SpectrumGolden {
  n: number;
  d: number;
  languages: string[];
  data: Record<string, number[]>;
  per_language: Record<
    string,
    { squared_singular_values: number[]; effective_rank: number; pca90: number }
  >;
}

Deno.test(
  "geometry on LAPACK (dsyrk + dsyevd) and in plain JS both match the numpy goldens (effective rank, PCA-90)",
  needsLib,
  () => {
    const golden: SpectrumGolden = JSON.parse(
      Deno.readTextFileSync(new URL("./fixtures/diagnostics_golden.json", import.meta.url)),
    );
    const results: Record<string, { rank: number; pca: number; s2: Float64Array }>[] = [];
    for (const on of [true, false]) {
      setNativeBlasEnabled(on);
      assert.equal(nativeBlas() !== null, on);
      const r: Record<string, { rank: number; pca: number; s2: Float64Array }> = {};
      for (const l of golden.languages) {
        const x = matrix(Float64Array.from(golden.data[l]!), golden.n, golden.d);
        r[l] = { rank: effectiveRank(x), pca: pca90(x), s2: centredSquaredSingularValues(x) };
        const g = golden.per_language[l]!;
        const tag = `${on ? "LAPACK" : "JS"} ${l}`;
        assert.ok(Math.abs(r[l].rank - g.effective_rank) <= 1e-5 * g.effective_rank, `${tag} rank`);
        assert.equal(r[l].pca, g.pca90, `${tag} PCA-90`);
        const ref = g.squared_singular_values;
        for (let i = 0; i < ref.length; i++) {
          assert.ok(Math.abs(r[l].s2[i]! - ref[i]!) <= 1e-6 * ref[0]!, `${tag} s²[${i}]`);
        }
      }
      results.push(r);
    }
    setNativeBlasEnabled(true);
    for (const l of golden.languages) {
      assert.ok(
        Math.abs(results[0]![l]!.rank - results[1]![l]!.rank) <= 1e-9 * results[1]![l]!.rank,
      );
    }
  },
);

Deno.test(
  "LAPACK eigenvalues and the dsyrk Gram equal the JS ones at paper scale (554×512), descending",
  needsLib,
  () => {
    const rng = new SeededRandom(8);
    const x = matrix(Float64Array.from(randn(rng, 554 * 512)), 554, 512);
    setNativeBlasEnabled(true);
    const gN = gram(x), eN = symmetricEigenvalues({ data: gram(x).data, size: 554 });
    const s2N = centredSquaredSingularValues(x);
    setNativeBlasEnabled(false);
    const gJ = gram(x), eJ = symmetricEigenvalues({ data: gJ.data, size: 554 });
    const s2J = centredSquaredSingularValues(x);
    setNativeBlasEnabled(true);
    assert.ok(relMax(gN.data, gJ.data) < 1e-12, "gram");
    for (let i = 1; i < eN.length; i++) assert.ok(eN[i]! <= eN[i - 1]!, "descending");
    assert.ok(relMax(eN, eJ) < 1e-10, "eigenvalues");
    assert.ok(relMax(s2N, s2J) < 1e-10, "squared singular values");
  },
);

Deno.test(
  "provenance records wasm+openblas with its thread count in the signature; plain wasm stays 'backend:wasm'",
  needsLib,
  async () => {
    const info = await initBackend("wasm+openblas");
    assert.ok(info.blas && info.blas.threads >= 1);
    const p = collectProvenance();
    assert.equal(p.backend?.name, "wasm+openblas");
    assert.match(p.signature, /\|backend:wasm\+openblas\|blas:openblas-[\d.]+-\w+-\d+t\|/);
    await initBackend("wasm");
    const q = collectProvenance();
    assert.equal(q.backend?.blas, null);
    assert.match(q.signature, /\|backend:wasm\|seeds:/);
  },
);

async function probe(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./fixtures/openblas_fallback_probe.ts", import.meta.url).pathname],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { result: JSON.parse(lines.at(-1)!), stderr };
}

Deno.test(
  "without the library (bogus KIT_OPENBLAS, or off) the WASM path is taken, the reason printed once, results unchanged",
  {
    sanitizeResources: false,
  },
  async () => {
    for (const setting of ["libopenblas-missing-for-test.so.0", "off"]) {
      const { result, stderr } = await probe({ KIT_OPENBLAS: setting });
      assert.equal(result.backend, "wasm");
      assert.equal(result.blas, null);
      assert.equal(result.native, false);
      assert.deepEqual(result.matmul, [17, 39]);
      assert.ok(Math.abs(result.rank - 2) < 1e-9);
      assert.match(result.forced, /could not start the TF\.js backend "wasm\+openblas"/);
      assert.match(result.forced, setting === "off" ? /KIT_OPENBLAS=off/ : /libopenblas-missing/);
      assert.equal(stderr.match(/native BLAS off/g)?.length, 1, stderr);
    }
  },
);

Deno.test(
  "the XLM-R encoder's embedding pass (the mini encoders' path) agrees on both paths within 1e-5 and with numpy",
  needsLib,
  async () => {
    const fx = JSON.parse(
      await Deno.readTextFile(new URL("./fixtures/encoders.json", import.meta.url)),
    ).xlmr as {
      config: unknown;
      params: Record<string, { data: number[] }>;
      ids: number[][];
      pooled: number[];
    };
    const state = Object.fromEntries(
      Object.entries(fx.params).map(([k, v]) => [k, Float32Array.from(v.data)]),
    );
    const b: TokenBatch = {
      ids: Int32Array.from(fx.ids.flat()),
      batch: fx.ids.length,
      length: fx.ids[0]!.length,
    };
    const run = () => {
      const m = new XlmRobertaEncoder(parseEncoderConfig(fx.config) as XlmRobertaConfig);
      m.params.setState(state);
      const before = tf.memory().numTensors;
      const pooled = tf.tidy(() => {
        const h = m.encode(b, tf.tensor2d(m.embeddingInput(b), [b.batch * b.length, m.dim]));
        return m.meanPool(b, h).dataSync().slice() as Float32Array;
      });
      assert.equal(tf.memory().numTensors, before);
      m.dispose();
      return pooled;
    };
    const { native, wasm } = await onBothPaths(run);
    assert.ok(relMax(native, wasm) < 1e-5, `native vs wasm ${relMax(native, wasm)}`);
    assert.ok(relMax(native, fx.pooled) < 2e-4, "native vs numpy");
  },
);

Deno.test(
  "wasm+openblas repeats itself: a matmul and a head-training run twice give bit-identical results",
  needsLib,
  async () => {
    await initBackend("wasm+openblas");
    const rng = new SeededRandom(9);
    const a = randn(rng, 288 * 512), b = randn(rng, 512 * 512);
    const mm = () =>
      tf.tidy(() => tf.matMul(tf.tensor2d(a, [288, 512]), tf.tensor2d(b, [512, 512])).dataSync());
    assert.deepEqual(mm(), mm());
    const d = 64, n = 100;
    const text = [randn(rng, n * d), randn(rng, n * d)], images = randn(rng, n * d);
    const idx = Array.from({ length: n }, (_, i) => i);
    const config = resolveTrainConfig({
      epochs: 1,
      stepsPerEpoch: 5,
      batchPerLang: 8,
      warmupSteps: 1,
    });
    const train = async () => {
      const head = createHead("mlp", d, { seed: 3 });
      try {
        const stepper = await HeadStepper.create(head, text, images, idx, config);
        for (let s = 0; s < 5; s++) await stepper.step(s);
        return stepper.params;
      } finally {
        head.dispose();
      }
    };
    assert.deepEqual(await train(), await train());
  },
);

/**
 * Pairs of images that differ by `scale` per coordinate, captions = images + noise: every
 * caption's true image has a near twin, so float32 similarity sums of different kernels rank
 * some pairs differently.
 */
function nearTwinEmbeddings(seed: number, n: number, d: number, scale: number) {
  const rng = new SeededRandom(seed);
  const img = new Float32Array(n * d), en = new Float32Array(n * d), de = new Float32Array(n * d);
  for (let p = 0; p < n; p += 2) {
    for (let c = 0; c < d; c++) {
      const v = rng.normal();
      img[p * d + c] = v;
      img[(p + 1) * d + c] = v + scale * rng.normal();
    }
  }
  for (let i = 0; i < n * d; i++) {
    en[i] = img[i]! + 0.3 * rng.normal();
    de[i] = img[i]! + 0.3 * rng.normal();
  }
  const m = (data: Float32Array) => ({ data, rows: n, cols: d });
  return { images: m(img), text: { en: m(en), de: m(de) } };
}

Deno.test(
  "evaluateFold() and runImagePivotCv(beforeOnly) give identical metrics on wasm+openblas and WASM when the kernels' float32 products rank near ties differently",
  needsLib,
  async () => {
    const { images, text } = nearTwinEmbeddings(3, 256, 384, 1e-7);
    // The fixture is sensitive: the two matmul kernels disagree on some ranks.
    const fast = await onBothPaths(() => evaluateFold(text, images, { engine: "tf" }));
    assert.notDeepEqual(fast.native, fast.wasm, "fixture has no near ties the kernels split");
    // What the tables report does not depend on the kernel, and is the float64 reference.
    const reference = await evaluateFold(text, images, { engine: "js" });
    // The default engine "exact-fast" (each kernel's float32 products, float64 bits near ties).
    const byDefault = await onBothPaths(() => evaluateFold(text, images));
    assert.deepEqual(byDefault.native, reference);
    assert.deepEqual(byDefault.wasm, reference);
    const exactFast = await onBothPaths(() => evaluateFold(text, images, { engine: "exact-fast" }));
    assert.deepEqual(exactFast.native, reference);
    assert.deepEqual(exactFast.wasm, reference);
    // Its error bound is what makes it exact: a tolerance far below the bound lets the float32
    // near ties through, and the results differ from the reference on some kernel.
    const tooSmall = await onBothPaths(() =>
      evaluateFold(text, images, { engine: "exact-fast", exactFastToleranceScale: 1e-4 })
    );
    assert.ok(
      !isDeepStrictEqual(tooSmall.native, reference) ||
        !isDeepStrictEqual(tooSmall.wasm, reference),
      "a too-small tolerance still gave the reference on both kernels",
    );
    // Notebook 05 and `./kit task align --before-only` on different backends: the same "Before".
    const emb = alignmentEmbeddings(images, text);
    const cv = await onBothPaths(() =>
      runImagePivotCv(emb, { folds: 5, seed: 7, beforeOnly: true, diagnostics: false })
    );
    assert.deepEqual(cv.native.results, cv.wasm.results);
  },
);
