import type { Deviation } from "./deviation.ts";

/**
 * Differences from paper K's code introduced by training at real shapes (issue 16). Kept apart
 * from `K_DEVIATIONS` (filled by the fidelity work); the lead merges them.
 */
export const K_REAL_SHAPE_DEVIATIONS: readonly Deviation[] = [
  {
    id: "k-lazy-sparse-word-embeddings",
    paper: "K",
    topic: "optimiser of the word-embedding table",
    authors:
      "dense torch.optim.Adam over every parameter: each step the whole 250,002 × 1024 word-embedding table gets a (mostly zero) gradient, and rows not in the batch still move by their decaying momentum",
    kit:
      "notebook 02's paper trainer and the real-shape step (tools/k_real_shape_step.ts): row-sparse ('lazy') Adam on the word table, as torch.optim.SparseAdam: only the rows the batch looked up get Adam's update (same step count and bias corrections); other rows and their moments stay as they are until looked up again. Every other parameter gets dense Adam",
    reason:
      "a dense 1 GB gradient plus a dense update of 2 GB of moments every step is most of a CPU step's memory traffic; the looked-up rows get exactly torch's update (tests/sparse_adam_test.ts)",
    profiles: ["paper"],
    affects: ["K-TRAIN", "K-F2", "K-T1", "K-T1-LANGS", "K-F1", "K-T2"],
  },
  {
    id: "k-paper-batches-and-validation",
    paper: "K",
    topic: "paper profile: last batch, validation cadence",
    authors:
      "DataLoader(shuffle=True, drop_last=False): the last partial batch of each epoch is trained; validation when batch_idx > 0 and batch_idx % 300 == 0 within each epoch, mean of per-batch validation losses",
    kit:
      "notebook 02's paper trainer reshuffles each epoch (seeded) and leaves out the last partial batch (floor(records / 32) batches an epoch); validates at global steps that are multiples of 300 and after the last step (the untrained step 0 is never kept); validation loss weighted by captions",
    reason:
      "the mini trainer's loop (runKSetupTraining) is shared with the paper profile; at COCO's ~590k caption records the dropped partial batch is < 32 records an epoch",
    profiles: ["paper"],
    affects: ["K-TRAIN", "K-F2", "K-T1", "K-T1-LANGS", "K-F1", "K-T2"],
  },
  {
    id: "k-paper-translations",
    paper: "K",
    topic: "paper profile: translated COCO captions",
    authors: "COCO captions machine-translated by Google Translate into es/ja/hi/qu",
    kit:
      "a translations file you provide (KIT_K_TRANSLATIONS: one {image_id, captions: {en, es, ja, hi, qu?}} a line, each line one caption record); without it only English COCO captions exist and the non-English setups stop with an error. NLLB-200 translation of COCO is not wired in (not testable offline)",
    reason:
      "Google Translate is not reachable offline; translating ~590k captions with NLLB on a CPU takes days",
    profiles: ["paper"],
    affects: ["K-TRAIN", "K-F2", "K-T1", "K-T1-LANGS", "K-F1", "K-T2"],
  },
];
