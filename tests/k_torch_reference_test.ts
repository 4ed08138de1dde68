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
import { moduleGrads } from "../lib/resumable_training/module_grads.ts";
import { runResumableTraining } from "../lib/resumable_training/resumable_trainer.ts";
import { kHeadSpecs } from "../lib/k_finetune/k_head_specs.ts";
// the loss and gradient the training loop (runKSetupTraining) and the real-shape step use
import {
  type KImageCaptionBatch,
  kLoss,
  kLossGrads,
  type KPivotBatch,
} from "../lib/k_finetune/k_loss.ts";

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
      loss: kLoss(m, b, x0).dataSync()[0]!,
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

Deno.test("kLossGrads() matches torch's gradient of K's loss for every parameter (word table as sparse rows)", async () => {
  const { m } = await loadModels();
  const b = fixtureBatch();
  const before = tf.memory().numTensors;
  const r = await kLossGrads(m, b, "all", { wordGrad: "sparse" });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(r.loss - golden.loss) < TOL, `loss ${r.loss} vs ${golden.loss}`);
  const g = {
    text: r.grads.text!,
    image: r.grads.image!,
    head: r.grads.head!,
    wordRows: r.wordRows!,
  };
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

const training = JSON.parse(await Deno.readTextFile(`${DIR}training_golden.json`)) as {
  pivot: {
    ids: number[][];
    n_english: number;
    en_idx: number[];
    loss: number;
    grads: Record<string, number[]>;
  };
  frozen: {
    x: number[];
    y: number[];
    W0: number[];
    b0: number[];
    lr: number;
    steps: number;
    frozen_steps: number;
    trajectory: { W: number[]; b: number[] }[];
    b_step_count: number;
  };
};

Deno.test("kLossGrads() on an Eng-Pivot batch (text + head training) matches torch's text–text pivot loss and gradient of every parameter (tests/fixtures/make_k_torch_training.py)", async () => {
  const { m } = await loadModels();
  const p = training.pivot;
  const batch: KPivotBatch = {
    tokens: { ids: Int32Array.from(p.ids.flat()), batch: p.ids.length, length: p.ids[0]!.length },
    nEnglish: p.n_english,
    enIdx: p.en_idx,
  };
  const before = tf.memory().numTensors;
  const r = await kLossGrads(m, batch, "text+head");
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Math.abs(r.loss - p.loss) < TOL, `loss ${r.loss} vs ${p.loss}`);
  assert.equal(r.grads.image, undefined, "the image tower is not trained by a pivot batch");
  const kit: Record<string, Float32Array> = { ...r.grads.text, ...r.grads.head };
  // torch: the image projection gets no gradient (None); the kit leaves it out of the head's grads
  // or gives zeros
  for (const [n, want] of Object.entries(p.grads)) {
    const mine = kit[n];
    assert.ok(mine, `no gradient for ${n}`);
    const d = maxAbsDiff(mine, want);
    assert.ok(d < TOL, `gradient of ${n} differs by ${d}`);
  }
  for (const n of ["image_projection.weight", "image_projection.bias"]) {
    const g = kit[n];
    assert.ok(!g || g.every((x) => x === 0), `${n} has a gradient from a pivot batch`);
  }
  for (const x of [m.text, m.image, m.head]) x.dispose();
});

Deno.test("kLossGrads() with the towers frozen ('head') gives only the head's gradient, equal to the head part of the full gradient", async () => {
  const { m } = await loadModels();
  const b = fixtureBatch();
  const all = await kLossGrads(m, b, "all", { wordGrad: "sparse" });
  const before = tf.memory().numTensors;
  const head = await kLossGrads(m, b, "head");
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Object.keys(head.grads), ["head"]);
  assert.equal(head.wordRows, undefined);
  for (const [n, g] of Object.entries(head.grads.head!)) {
    assert.ok(maxAbsDiff(g, all.grads.head![n]!) < 1e-6, n);
    assert.ok(maxAbsDiff(g, golden.grads[n]!) < TOL, n);
  }
  for (const x of [m.text, m.image, m.head]) x.dispose();
});

/**
 * The kit's trainer (runResumableTraining, which K's loop runs through) on torch's frozen-then-
 * thawed problem: `b` gets no gradient for the first 3 steps, as K's towers in the warm-up.
 * Returns the values of W and b after every step.
 */
async function kitFrozenTrajectory(feedZerosWhileFrozen: boolean) {
  const f = training.frozen;
  const ps = new ParameterSet([
    { name: "W", shape: [3, 2], init: { kind: "zeros" } },
    { name: "b", shape: [2], init: { kind: "zeros" } },
  ], 0);
  ps.setState({ W: Float32Array.from(f.W0), b: Float32Array.from(f.b0) });
  const x = tf.tensor2d(f.x, [6, 3]), y = tf.tensor2d(f.y, [6, 2]);
  const dir = await Deno.makeTempDir();
  const traj: { W: number[]; b: number[] }[] = [];
  try {
    await runResumableTraining({
      label: "frozen",
      checkpointPath: `${dir}/c.safetensors`,
      fingerprint: "frozen",
      quiet: true,
      schedule: {
        steps: f.steps,
        lr: f.lr,
        warmupSteps: 0,
        finalLrFraction: 1,
        maxGradNorm: 0,
        weightDecay: 0,
        seed: 0,
        evalEvery: 0,
        checkpointEvery: 100,
      },
      lrAt: () => f.lr,
      task: {
        modules: { m: ps },
        step: async (step) => {
          if (step > 0) traj.push({ W: [...ps.values.W!], b: [...ps.values.b!] });
          const r = await moduleGrads({ m: ps }, [], () =>
            tf.mean(tf.square(tf.sub(
              tf.add(tf.matMul(x, ps.tensor("W")), ps.tensor("b")),
              y,
            ))) as tf.Scalar);
          const g = r.grads.m!;
          if (step < f.frozen_steps) {
            // frozen: b receives no gradient (or, the old way, a zero one)
            if (feedZerosWhileFrozen) g.b = new Float32Array(2);
            else delete g.b;
          }
          return { loss: r.loss, grads: { m: g } };
        },
      },
    });
    traj.push({ W: [...ps.values.W!], b: [...ps.values.b!] });
  } finally {
    tf.dispose([x, y]);
    ps.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  return traj;
}

Deno.test("the kit's trainer follows torch.optim.Adam's trajectory within 1e-6 when a parameter is frozen for the first 3 steps (per-parameter Adam state)", async () => {
  const f = training.frozen;
  const traj = await kitFrozenTrajectory(false);
  assert.equal(traj.length, f.steps);
  let worst = 0;
  traj.forEach((t, s) => {
    worst = Math.max(
      worst,
      maxAbsDiff(t.W, f.trajectory[s]!.W),
      maxAbsDiff(t.b, f.trajectory[s]!.b),
    );
  });
  assert.ok(worst < 1e-6, `trajectory differs by ${worst}`);
  // b did not move while frozen, and moved after
  assert.ok(maxAbsDiff(traj[f.frozen_steps - 1]!.b, f.b0) < 1e-7);
  assert.ok(maxAbsDiff(traj[f.steps - 1]!.b, f.b0) > 0.05);
  // the old way (one step counter, zero gradients fed while frozen) is not torch's trajectory
  const old = await kitFrozenTrajectory(true);
  const oldDiff = maxAbsDiff(old[f.steps - 1]!.b, f.trajectory[f.steps - 1]!.b);
  assert.ok(oldDiff > 1e-3, `a shared step counter would differ by only ${oldDiff}`);
});

Deno.test("swapping a sign in K's loss (lib/k_finetune/k_loss.ts) makes the torch comparison fail", async () => {
  // a copy of the repository's lib/ and this test, with the image projection's output negated
  const root = new URL("../", import.meta.url).pathname;
  const tmp = await Deno.makeTempDir();
  try {
    await new Deno.Command("cp", { args: ["-r", `${root}lib`, `${root}tests`, tmp] }).output();
    for (const f of ["deno.json", "deno.lock", "package.json"]) {
      await Deno.copyFile(`${root}${f}`, `${tmp}/${f}`).catch(() => {});
    }
    await Deno.symlink(`${root}node_modules`, `${tmp}/node_modules`);
    const lossFile = `${tmp}/lib/k_finetune/k_loss.ts`;
    const src = await Deno.readTextFile(lossFile);
    const needle = 'const I = project(m, pooled, "image_projection");';
    assert.ok(src.includes(needle), "the mutation's target line is in k_loss.ts");
    await Deno.writeTextFile(
      lossFile,
      src.replace(needle, 'const I = tf.neg(project(m, pooled, "image_projection"));'),
    );
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "-A",
        "--no-check",
        "--filter",
        "matches torch's gradient of K's loss",
        `${tmp}/tests/k_torch_reference_test.ts`,
      ],
      cwd: tmp,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = (new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr))
      // deno-lint-ignore no-control-regex
      .replace(/\x1b\[[0-9;]*m/g, "");
    assert.ok(!run.success, `the mutated loss passed the torch comparison:\n${out.slice(-2000)}`);
    // it failed in the comparison itself (the test ran; not a load or type error)
    assert.match(out, /kLossGrads\(\) matches torch's gradient .* FAILED/);
    assert.match(out, /AssertionError: loss [-\d.e]+ vs [-\d.e]+/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
