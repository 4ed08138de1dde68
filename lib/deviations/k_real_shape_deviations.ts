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
      "row-sparse ('lazy') Adam on the word table, as torch.optim.SparseAdam: only the rows the batch looked up get Adam's update (same step count and bias corrections); other rows and their moments stay as they are until looked up again. Every other parameter gets dense Adam",
    reason:
      "a dense 1 GB gradient plus a dense update of 2 GB of moments every step is most of a CPU step's memory traffic; the looked-up rows get exactly torch's update (tests/sparse_adam_test.ts)",
    profiles: ["paper"],
    affects: ["K-TRAIN", "K-T1", "K-T2"],
  },
];
