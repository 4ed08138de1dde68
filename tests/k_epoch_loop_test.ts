/**
 * K's training loop as the authors' `train()` leaves it (nkrasner/cl-clip-align at d75b729,
 * `Alignment/text-image/finetune_clip.py`): `runKSetupTraining` on tiny towers, watched through
 * its callbacks and the Dropout sites — dropout on exactly until the first validation of each
 * epoch, validation after within-epoch batches k·validateEvery and not after the last step, the
 * last partial batch trained on, validation batches in a seeded shuffle with the plain mean of
 * their losses.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import {
  Dropout,
  ParameterSet,
  parseEncoderConfig,
  type VitConfig,
  VitEncoder,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { kHeadSpecs } from "../lib/k_finetune/k_head_specs.ts";
import {
  type KItem,
  kStepItems,
  type KTrainingSet,
  kValidationBatches,
} from "../lib/k_finetune/k_training_set.ts";
import { runKSetupTraining } from "../lib/k_finetune/k_setup_loop.ts";
import type { KCaptionRecord } from "../lib/k_finetune/k_caption_records.ts";

await initBackend("wasm");

const TC = parseEncoderConfig({
  model_type: "xlm-roberta",
  vocab_size: 30,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
  hidden_act: "gelu",
  max_position_embeddings: 20,
  type_vocab_size: 1,
  pad_token_id: 1,
  layer_norm_eps: 1e-5,
}) as XlmRobertaConfig;
const IC = parseEncoderConfig({
  model_type: "vit",
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
  hidden_act: "gelu",
  image_size: 8,
  patch_size: 4,
  num_channels: 3,
  layer_norm_eps: 1e-12,
}) as VitConfig;

function items(n: number, partition: "train" | "val"): KItem[] {
  return Array.from({ length: n }, (_, row) => {
    const record: KCaptionRecord = {
      image_id: `${partition}${row}`,
      partition,
      captions: { en: `caption ${row}` },
      origin: {},
    };
    return { row, id: `${partition}${row}`, record, lang: "en" };
  });
}

Deno.test("runKSetupTraining(): dropout until each epoch's first validation, validation after within-epoch batches 2, 4 (validateEvery 2) and not after the last step, last partial batch trained on", async () => {
  // 14 records in batches of 3: 5 batches an epoch, the last of 2 records; 9 steps end at
  // batch 3 of epoch 1 (no validation there)
  const set: KTrainingSet = {
    trainKeys: [],
    valKeys: [],
    captionsPerLang: {},
    assignment: null,
    assignmentSeed: null,
    train: items(14, "train"),
    val: items(7, "val"),
  };
  const text = new XlmRobertaEncoder(TC, { seed: 1 });
  const image = new VitEncoder(IC, { seed: 2 });
  const head = new ParameterSet(kHeadSpecs(8, 8, 4), 3);
  const steps: { size: number; dropoutCalls: number }[] = [];
  const validations: number[] = [];
  const valBatches: string[][][] = [];
  let inValidation = false;
  const apply = Dropout.prototype.apply;
  Dropout.prototype.apply = function <T extends Parameters<typeof apply>[0]>(
    this: Dropout,
    x: T,
    which: Parameters<typeof apply>[1],
  ): T {
    assert.ok(!inValidation, "no dropout in validation");
    steps.at(-1)!.dropoutCalls++;
    return apply.call(this, x, which) as T;
  };
  const dir = await Deno.makeTempDir();
  try {
    const r = await runKSetupTraining({
      setup: "eng-only",
      set,
      text,
      image,
      head,
      tokenize: (texts) => {
        const length = 4;
        const ids = new Int32Array(texts.length * length).fill(1);
        texts.forEach((t, i) => {
          ids[i * length] = 0;
          ids[i * length + 1] = 3 + (Number(t.split(" ")[1]) % 20);
          ids[i * length + 2] = 2;
        });
        return { ids, batch: texts.length, length };
      },
      pixels: (its, part) => {
        if (part === "train") {
          if (inValidation) {
            validations.push(steps.length);
            inValidation = false;
          }
          steps.push({ size: its.length, dropoutCalls: 0 });
        } else {
          if (!inValidation) valBatches.push([]);
          inValidation = true;
          valBatches.at(-1)!.push(its.map((it) => it.id));
        }
        return Promise.resolve(Float32Array.from({ length: its.length * 3 * 64 }, (_, i) => {
          const k = Math.floor(i / (3 * 64));
          return Math.sin(i * 0.37 + Number(its[k]!.id.replace(/\D/g, "")));
        }));
      },
      plan: {
        projectionDim: 4,
        batchSize: 3,
        maxLength: 4,
        freezeSteps: 2,
        schedule: {
          steps: 9,
          lr: 1e-3,
          warmupSteps: 0,
          finalLrFraction: 1,
          maxGradNorm: 1,
          weightDecay: 0,
          seed: 5,
          evalEvery: 2,
          checkpointEvery: 100,
        },
      },
      dropout: {
        text: { hidden: 0.1, attention: 0.1 },
        image: { hidden: 0.1, attention: 0.1 },
      },
      dir,
      fingerprint: "loop",
      quiet: true,
      t0: performance.now(),
    });
    if (inValidation) validations.push(steps.length);
    assert.ok(r.completed);
    // 9 training steps; epoch 0: 3, 3, 3, 3, 2 records (drop_last=False); epoch 1: 3, 3, 3, 3
    assert.deepEqual(steps.map((s) => s.size), [3, 3, 3, 3, 2, 3, 3, 3, 3]);
    // validation after within-epoch batch 2 and 4 of epoch 0 (steps 3 and 5 done) and batch 2
    // of epoch 1 (step 8 done); not after the last step (batch 3 of epoch 1)
    assert.deepEqual(validations, [3, 5, 8]);
    assert.deepEqual(r.record.valHistory.map(([s]) => s), [3, 5, 8]);
    // train() at each epoch's start, eval() from its first validation on: dropout in batches
    // 0, 1, 2 of each epoch only
    const on = steps.map((s) => s.dropoutCalls > 0);
    assert.deepEqual(on, [true, true, true, false, false, true, true, true, false]);
    // the kept model is the best validated one, never unvalidated
    assert.ok([3, 5, 8].includes(r.record.bestStep));
    // each validation: 3 batches (3, 3, 1 records) of a seeded shuffle, different each time
    assert.equal(valBatches.length, 3);
    for (const v of valBatches) {
      assert.deepEqual(v.map((b) => b.length), [3, 3, 1]);
      assert.deepEqual(v.flat().sort(), set.val.map((it) => it.id).sort());
    }
    assert.notDeepEqual(valBatches[0], valBatches[1]);
  } finally {
    Dropout.prototype.apply = apply;
    for (const m of [text, image, head]) m.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kValidationBatches() is a seeded shuffle in batches with the last one partial; kStepItems() keeps the last partial batch of each epoch", () => {
  const val = items(7, "val");
  const a = kValidationBatches(val, 3, 11), b = kValidationBatches(val, 3, 11);
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((x) => x.length), [3, 3, 1]);
  assert.notDeepEqual(kValidationBatches(val, 3, 12), a);
  const train = items(7, "train");
  const epoch = [0, 1, 2].map((s) => kStepItems(train, 3, 1, s));
  assert.deepEqual(epoch.map((x) => x.length), [3, 3, 1]);
  assert.deepEqual(epoch.flat().map((it) => it.id).sort(), train.map((it) => it.id).sort());
});
