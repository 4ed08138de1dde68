import { createHead } from "../heads/create_head.ts";
import { meanCosine } from "../diagnostics/mean_cosine.ts";
import {
  centredSquaredSingularValues,
  componentsForVarianceShare,
  effectiveRankFromSpectrum,
} from "../diagnostics/spectrum.ts";
import { evaluateFold } from "../retrieval/fold_evaluation.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { HeadStepper } from "../train/head_step.ts";
import { resolveTrainConfig } from "../train/train_config.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/** Median milliseconds of the four workloads of `bench/torch_reference.py` (same names). */
export interface HeadWorkloadTimes {
  linear_step_ms: number;
  mlp_step_ms: number;
  eval_fold_ms: number;
  geometry_fold_ms: number;
}

/** Sizes of the workloads (defaults = paper D's: d 512, 9 languages, 32 images, 2216/554 rows). */
export interface HeadWorkloadOptions {
  dim?: number;
  langs?: number;
  batchPerLang?: number;
  trainRows?: number;
  foldRows?: number;
  /** Timed repetitions of a training step (default 30, like the reference). */
  steps?: number;
  /** Timed repetitions of the evaluation and geometry workloads (default 5). */
  reps?: number;
  seed?: number;
}

function unitRows(rng: SeededRandom, rows: number, cols: number): RowMatrix {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) {
      const v = rng.normal();
      data[r * cols + c] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let c = 0; c < cols; c++) data[r * cols + c]! *= inv;
  }
  return { data, rows, cols };
}

/** Median of `reps` timed calls after one warm-up call (as the reference's `time_ms`). */
export async function medianMs(
  fn: () => unknown | Promise<unknown>,
  reps: number,
): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  out.sort((a, b) => a - b);
  const m = out.length >> 1;
  return out.length % 2 ? out[m]! : (out[m - 1]! + out[m]!) / 2;
}

/**
 * Times, on random unit vectors, the kit's own implementation of the four workloads of the
 * PyTorch peer (`bench/torch_reference.py`), with the same shapes: one residual-linear and one
 * residual-MLP training step of paper D (288 caption rows, symmetric InfoNCE, clipping, Adam);
 * one holdout fold's t2i + i2t R@1/5/10 + MRR for 9 languages (554 × 554 each); and the
 * geometry of one fold (effective rank, PCA-90, mean cosine for 9 languages, 554 × 512 each).
 * Runs on whatever TF.js backend is active.
 */
export async function runHeadWorkloads(opts: HeadWorkloadOptions = {}): Promise<HeadWorkloadTimes> {
  const d = opts.dim ?? 512, L = opts.langs ?? 9, B = opts.batchPerLang ?? 32;
  const nTrain = opts.trainRows ?? 2216, nFold = opts.foldRows ?? 554;
  const steps = opts.steps ?? 30, reps = opts.reps ?? 5;
  const rng = new SeededRandom(opts.seed ?? 0);
  const text = Array.from({ length: L }, () => unitRows(rng, nTrain, d).data);
  const images = unitRows(rng, nTrain, d).data;
  const trainIdx = Array.from({ length: nTrain }, (_, i) => i);
  // Enough scheduled steps that warm-up + timed steps stay inside the schedule.
  const config = resolveTrainConfig({
    epochs: 1,
    stepsPerEpoch: steps + 1,
    warmupSteps: 0,
    batchPerLang: B,
  });

  const stepTime = async (kind: "linear" | "mlp") => {
    const head = createHead(kind, d, { seed: 7 });
    try {
      const stepper = await HeadStepper.create(head, text, images, trainIdx, config);
      let s = 0;
      return await medianMs(() => stepper.step(s++), steps);
    } finally {
      head.dispose();
    }
  };
  const linear_step_ms = await stepTime("linear");
  const mlp_step_ms = await stepTime("mlp");

  const holdText: Record<string, RowMatrix> = {};
  for (let l = 0; l < L; l++) holdText[`l${l}`] = unitRows(rng, nFold, d);
  const holdImages = unitRows(rng, nFold, d);
  const eval_fold_ms = await medianMs(
    () => evaluateFold(holdText, holdImages, { pivot: false }),
    reps,
  );
  const geometry_fold_ms = await medianMs(() => {
    for (const x of Object.values(holdText)) {
      // the spectrum of the centred X from the smaller scatter matrix (here Xcᵀ·Xc, 512 × 512),
      // as the diagnostics do when they need no Gram; the peer takes svdvals of the same Xc
      const s2 = centredSquaredSingularValues(x);
      effectiveRankFromSpectrum(s2);
      componentsForVarianceShare(s2, 0.9);
      meanCosine(x);
    }
  }, reps);
  return { linear_step_ms, mlp_step_ms, eval_fold_ms, geometry_fold_ms };
}
