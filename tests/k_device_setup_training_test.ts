/**
 * K's fine-tuning loop (`runKSetupTraining`) with `deviceState` on WebGPU (Mesa lavapipe here)
 * against the host loop on WASM, on tiny towers and synthetic caption records: the same loss
 * (`kLoss`), K's loop (`kLoopStep`: frozen warm-up, the last partial batch, validation after
 * within-epoch batch multiples of `evalEvery`) and validation (plain mean over seeded-shuffled
 * batches), so the same losses and validation history, frozen warm-up included (both keep
 * per-parameter Adam state), for an image setup and Eng-Pivot; with the warm-up, the towers stay
 * untouched while frozen (no gradient, no update).
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import {
  readEncoderConfig,
  type VitConfig,
  VitEncoder,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { ParameterSet } from "../lib/encoders/parameter_set.ts";
import type { TokenBatch } from "../lib/encoders/xlm_roberta_encoder.ts";
import type { KCaptionRecord } from "../lib/k_finetune/k_caption_records.ts";
import { kHeadSpecs } from "../lib/k_finetune/k_head_specs.ts";
import { type KItem, type KTrainedSetup, kTrainingSet } from "../lib/k_finetune/k_training_set.ts";
import { runKSetupTraining } from "../lib/k_finetune/k_setup_loop.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const ignore = !adapter && Deno.env.get("KIT_REQUIRE_WEBGPU") !== "1";

function records(n: number, partition: "train" | "val"): KCaptionRecord[] {
  const rng = new SeededRandom(partition === "train" ? 5 : 6);
  return Array.from({ length: n }, (_, i) => {
    const captions: KCaptionRecord["captions"] = { en: `dog ${i} runs` };
    for (const l of ["es", "ja", "hi"] as const) {
      if (rng.next() < 0.8) captions[l] = `${l} dog ${i} ${Math.floor(rng.next() * 9)}`;
    }
    return { image_id: `${partition}${i}`, partition, captions, origin: {} };
  });
}

/** Words hashed into the tiny vocabulary, framed by <s> … </s>, padded with 1. */
function tokenize(texts: string[], vocab: number, maxLength: number): TokenBatch {
  const ids = new Int32Array(texts.length * maxLength).fill(1);
  texts.forEach((t, r) => {
    const words = t.split(/\s+/).slice(0, maxLength - 2);
    ids[r * maxLength] = 0;
    words.forEach((w, k) => {
      let h = 7;
      for (const ch of w) h = (h * 31 + ch.charCodeAt(0)) % 100_003;
      ids[r * maxLength + 1 + k] = 3 + (h % (vocab - 3));
    });
    ids[r * maxLength + 1 + words.length] = 2;
  });
  return { ids, batch: texts.length, length: maxLength };
}

async function run(
  backend: "wasm" | "webgpu",
  o: { freezeSteps: number; stopAfterSteps?: number; dir: string; setup?: KTrainedSetup },
) {
  const setup = o.setup ?? "eng-only";
  await initBackend(backend);
  const tc = await readEncoderConfig("tiny-xlmr") as XlmRobertaConfig;
  const ic = await readEncoderConfig("tiny-vit") as VitConfig;
  const text = new XlmRobertaEncoder(tc, { seed: 1 });
  const image = new VitEncoder(ic, { seed: 2 });
  const head = new ParameterSet(kHeadSpecs(tc.hidden_size, ic.hidden_size, 8), 3);
  const initialText = text.params.getState();
  // 14 records in batches of 4: 4 batches an epoch, the last one of 2 (kept, drop_last=False)
  const set = kTrainingSet([...records(14, "train"), ...records(8, "val")], setup, 4);
  const per = 3 * ic.image_size ** 2;
  const pixels = (items: readonly KItem[]) => {
    const px = new Float32Array(items.length * per);
    items.forEach((it, j) => {
      const rng = new SeededRandom(it.record.image_id.length * 1000 + Number(it.row ?? 0));
      for (let k = 0; k < per; k++) px[j * per + k] = rng.next() * 2 - 1;
    });
    return Promise.resolve(px);
  };
  const plan = {
    projectionDim: 8,
    batchSize: 4,
    maxLength: 8,
    freezeSteps: o.freezeSteps,
    schedule: {
      steps: 8,
      lr: 3e-3,
      warmupSteps: 1,
      finalLrFraction: 0.1,
      maxGradNorm: 0,
      weightDecay: 0.01,
      seed: 3,
      evalEvery: 2,
      checkpointEvery: 2,
    },
  };
  const r = await runKSetupTraining({
    setup,
    set,
    text,
    image,
    head,
    tokenize: (t) => tokenize(t, tc.vocab_size, plan.maxLength),
    pixels: (items) => pixels(items),
    plan,
    dir: o.dir,
    fingerprint: "test",
    quiet: true,
    stopAfterSteps: o.stopAfterSteps,
    deviceState: backend === "webgpu" ? { readLossEvery: 2 } : undefined,
    t0: performance.now(),
  });
  const state = text.params.getState();
  for (const m of [text, image, head]) m.dispose();
  return { r, state, initialText };
}

for (const setup of ["eng-only", "eng-pivot"] as const) {
  Deno.test({
    name:
      `K's loop with deviceState (WebGPU) follows the host loop (WASM), frozen warm-up included (${setup})`,
    ignore,
    fn: async () => {
      const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
      const host = await run("wasm", { freezeSteps: 2, dir: a, setup });
      const dev = await run("webgpu", { freezeSteps: 2, dir: b, setup });
      const hl = host.r.record.lossHistory, dl = dev.r.record.lossHistory;
      assert.equal(hl.length, 8);
      assert.equal(dl.length, 8);
      dl.forEach((l, s) =>
        assert.ok(Math.abs(l - hl[s]!) <= 1e-4 * hl[s]!, `step ${s}: ${l} vs ${hl[s]}`)
      );
      // K's cadence: after within-epoch batch 2 of each 4-batch epoch; none at 0 nor at the end
      assert.deepEqual(host.r.record.valHistory.map((v) => v[0]), [3, 7]);
      assert.deepEqual(dev.r.record.valHistory.map((v) => v[0]), [3, 7]);
      dev.r.record.valHistory.forEach(([, v], k) => {
        const h = host.r.record.valHistory[k]![1];
        assert.ok(Math.abs(v - h) <= 1e-4 * h, `validation ${k}: ${v} vs ${h}`);
      });
      assert.equal(dev.r.record.bestStep, host.r.record.bestStep);
      assert.ok(dev.r.completed);
      for (const [n, v] of Object.entries(host.state)) {
        const d = dev.state[n]!;
        const tol = 1e-4 * (1 + Math.max(...v.map(Math.abs)));
        v.forEach((x, i) => assert.ok(Math.abs(d[i]! - x) <= tol, `${n}[${i}]: ${d[i]} vs ${x}`));
      }
      for (const d of [a, b]) await Deno.remove(d, { recursive: true });
    },
  });
}

Deno.test({
  name: "K's loop with deviceState: the towers are untouched during the frozen warm-up, then train",
  ignore,
  fn: async () => {
    const a = await Deno.makeTempDir();
    const frozen = await run("webgpu", { freezeSteps: 2, stopAfterSteps: 2, dir: a });
    for (const [n, v] of Object.entries(frozen.initialText)) {
      assert.deepEqual(frozen.state[n], v, `${n} changed while frozen`);
    }
    // resumed for steps 2–3 (thawed; stopped before the end, so no best-state restore)
    const thawed = await run("webgpu", { freezeSteps: 2, stopAfterSteps: 4, dir: a });
    assert.equal(thawed.r.completed, false);
    const moved = Object.entries(thawed.initialText).some(([n, v]) =>
      v.some((x, i) => x !== thawed.state[n]![i])
    );
    assert.ok(moved, "the text tower trained after thawing");
    const done = await run("webgpu", { freezeSteps: 2, dir: a });
    assert.ok(done.r.completed);
    assert.equal(done.r.record.lossHistory.length, 8);
    await Deno.remove(a, { recursive: true });
  },
});
