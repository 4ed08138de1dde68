import { SeededRandom } from "../../lib/util/seeded_random.ts";

/** Options of {@link plantedModalityGapEmbeddings}. */
export interface PlantedOptions {
  n?: number;
  d?: number;
  langs?: readonly string[];
  /** Norm of the image mean direction (the "modality gap" offset). */
  gap?: number;
  /** Cosine between the text mean and the image mean. */
  rho?: number;
  /** Caption noise (per dimension, ×1/√d) in the noisy half S2 and the clean half S1. */
  noiseHigh?: number;
  noiseLow?: number;
  /** Items put energy share w1 = u^mix in S1 (u uniform): larger mix → more items live in S2. */
  mix?: number;
  seed?: number;
}

/**
 * Synthetic CLIP-like embeddings with planted cross-language structure, built so that text-only
 * alignment reproduces paper D's asymmetry (t2i up, i2t down):
 *
 * - every item i has a content vector z_i spread over two halves of the space, S1 and S2, with an
 *   item-specific share w1 of its energy in S1; images are `v_i = g_v + z_i` with a large common
 *   offset g_v along the last axis (CLIP image embeddings share a big mean direction);
 * - each language's caption of item i is `t_i = g_t + z_i + noise`, the same content in every
 *   language (that is the planted cross-language structure), with caption noise that is small in
 *   S1 and large in S2; the text mean g_t has cosine `rho` with g_v (a modality gap).
 *
 * A head trained for t2i learns to amplify S1 and damp S2 (a signal-to-noise reweighting), which
 * raises t2i. But after re-normalisation a caption's weight on the shared mean direction then
 * depends on how much of its item lives in S2, so captions acquire different offsets `t_i·g_v`
 * toward *every* image: t2i is blind to such a per-caption offset (constant over the images a
 * caption ranks), while i2t — one image ranking many captions — is not, and drops.
 */
export function plantedModalityGapEmbeddings(opts: PlantedOptions = {}) {
  const n = opts.n ?? 600, d = opts.d ?? 64;
  const langs = opts.langs ?? ["l0", "l1", "l2"];
  const gap = opts.gap ?? 3, rho = opts.rho ?? 0.9;
  const noiseHigh = opts.noiseHigh ?? 2, noiseLow = opts.noiseLow ?? 0.3, mix = opts.mix ?? 2;
  const rng = new SeededRandom(opts.seed ?? 3);
  const half = d / 2;
  const gv = new Float32Array(d);
  gv[d - 1] = gap;
  const gt = new Float32Array(d);
  gt[d - 1] = gap * rho;
  gt[0] = gap * Math.sqrt(1 - rho * rho);
  const images = new Float32Array(n * d);
  const z: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const w1 = Math.pow(rng.next(), mix);
    const zi = new Float32Array(d);
    for (let c = 0; c < d - 1; c++) {
      zi[c] = rng.normal() * Math.sqrt(((c < half ? w1 : 1 - w1) * 2) / (d - 1));
    }
    z.push(zi);
    for (let c = 0; c < d; c++) images[i * d + c] = gv[c]! + zi[c]!;
  }
  const textByLang: Record<string, { data: Float32Array; rows: number; cols: number }> = {};
  for (const l of langs) {
    const t = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d - 1; c++) {
        t[i * d + c] = gt[c]! + z[i]![c]! +
          (rng.normal() * (c < half ? noiseLow : noiseHigh)) / Math.sqrt(d);
      }
      t[i * d + d - 1] = gt[d - 1]!;
    }
    textByLang[l] = { data: t, rows: n, cols: d };
  }
  return { images: { data: images, rows: n, cols: d }, textByLang };
}
