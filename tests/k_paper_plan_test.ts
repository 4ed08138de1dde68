import assert from "node:assert/strict";
import {
  K_PAPER_HYPERPARAMETERS,
  kPaperBatchesPerEpoch,
  kPaperStep,
} from "../lib/k_finetune/k_paper_plan.ts";
import { KitError } from "../lib/util/kit_error.ts";

Deno.test("kPaperStep() follows K's loop: per-epoch linear decay, towers frozen for the first half of epoch 0, validation every 300th batch", () => {
  // COCO 2017 train: 118,287 images → 3,697 batches of 32 (the last one 15 images).
  const per = kPaperBatchesPerEpoch(118_287);
  assert.equal(per, 3697);
  const steps = Array.from({ length: per * 10 }, (_, s) => kPaperStep(s, per));
  // LambdaLR(1 − e/10) stepped after each epoch: 1e-5, 0.9e-5, …, 0.1e-5, constant within one.
  for (let e = 0; e < 10; e++) {
    const lrs = new Set(steps.filter((s) => s.epoch === e).map((s) => s.lr));
    assert.equal(lrs.size, 1);
    assert.ok(Math.abs([...lrs][0]! - 1e-5 * (1 - e / 10)) < 1e-20);
  }
  // Frozen while batch_idx / 3697 < 0.5: batches 0..1848 of epoch 0.
  const frozen = steps.filter((s) => s.towersFrozen);
  assert.equal(frozen.length, 1849);
  assert.ok(frozen.every((s) => s.epoch === 0 && s.batch <= 1848));
  // Validation after batch 300, 600, …, 3600 of every epoch (12 a epoch), never after batch 0.
  const val = steps.filter((s) => s.validateAfter);
  assert.equal(val.length, 12 * 10);
  assert.deepEqual(val.slice(0, 3).map((s) => s.batch), [300, 600, 900]);
  assert.equal(K_PAPER_HYPERPARAMETERS.projectionDim, 512);
});

Deno.test("kPaperStep() rejects steps past the last epoch and empty epochs", () => {
  assert.throws(() => kPaperStep(20, 2), KitError);
  assert.throws(() => kPaperStep(0, 0), KitError);
  assert.throws(() => kPaperBatchesPerEpoch(0), KitError);
});

Deno.test("kPaperStep(): dropout (training mode) exactly until the first validation of each epoch, as model.train() at epoch start and eval() at validation leave it; the switch keeps it on", () => {
  const per = 700; // validations after batches 300 and 600 of each epoch
  const steps = Array.from({ length: per * 10 }, (_, s) => kPaperStep(s, per));
  for (let e = 0; e < 10; e++) {
    const ep = steps.filter((s) => s.epoch === e);
    assert.deepEqual(ep.filter((s) => s.validateAfter).map((s) => s.batch), [300, 600]);
    // batch 300 trains in train() mode, then validation switches to eval() for the epoch
    assert.deepEqual(
      ep.filter((s) => s.trainMode).map((s) => s.batch),
      Array.from({ length: 301 }, (_, b) => b),
    );
  }
  // epoch 0: the towers thaw at batch 350, already in eval() mode — no dropout on them in epoch 0
  assert.ok(steps.filter((s) => !s.towersFrozen && s.epoch === 0).every((s) => !s.trainMode));
  assert.ok(
    Array.from({ length: per * 10 }, (_, s) => kPaperStep(s, per, undefined, true))
      .every((s) => s.trainMode),
  );
  // an epoch shorter than the validation interval: no validation, training mode throughout
  const short = Array.from({ length: 200 }, (_, s) => kPaperStep(s, 100));
  assert.ok(short.every((s) => s.trainMode && !s.validateAfter));
});
