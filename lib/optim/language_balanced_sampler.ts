import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/**
 * Paper D's batch sampler: each step draws `batchPerLang` image indices *with replacement*
 * from the training indices (seeded), and the batch stacks every language's captions of those
 * images in language blocks, over the same images repeated once per language.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { LanguageBalancedSampler } from "./language_balanced_sampler.ts";
 * const a = new LanguageBalancedSampler([0, 1, 2, 3], { batchPerLang: 2, seed: 7 });
 * const b = new LanguageBalancedSampler([0, 1, 2, 3], { batchPerLang: 2, seed: 7 });
 * assert(a.next().join() === b.next().join());
 * ```
 */
export class LanguageBalancedSampler {
  readonly trainIdx: Int32Array;
  readonly batchPerLang: number;
  readonly #rng: SeededRandom;

  constructor(trainIdx: ArrayLike<number>, opts: { batchPerLang?: number; seed: number }) {
    if (trainIdx.length === 0) {
      throw new KitError("LanguageBalancedSampler: the training set is empty");
    }
    this.trainIdx = Int32Array.from(trainIdx);
    this.batchPerLang = opts.batchPerLang ?? 32;
    if (!Number.isInteger(this.batchPerLang) || this.batchPerLang < 1) {
      throw new KitError(
        `LanguageBalancedSampler: batchPerLang must be a positive integer, got ${this.batchPerLang}`,
      );
    }
    this.#rng = new SeededRandom(opts.seed);
  }

  /** The next `batchPerLang` image indices (rows of the full arrays), drawn with replacement. */
  next(): Int32Array {
    const out = new Int32Array(this.batchPerLang);
    for (let i = 0; i < out.length; i++) {
      out[i] = this.trainIdx[this.#rng.int(this.trainIdx.length)]!;
    }
    return out;
  }

  /** The generator state (checkpoint it to resume the same stream). */
  get state(): number {
    return this.#rng.state;
  }
  set state(s: number) {
    this.#rng.state = s;
  }
}

/** Copies rows `idx` of a row-major `? × dim` array into `out` (allocated when not given). */
export function gatherRows(
  data: Float32Array,
  dim: number,
  idx: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const dst = out ?? new Float32Array(idx.length * dim);
  const rows = data.length / dim;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (!(r >= 0 && r < rows)) throw new KitError(`gatherRows: row ${r} out of range [0, ${rows})`);
    dst.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return dst;
}

/** One language-balanced batch (row-major Float32Arrays). */
export interface LanguageBalancedBatch {
  /** The B image indices drawn. */
  imageIndices: Int32Array;
  /** L·B × d captions: block l holds language l's captions of `imageIndices`. */
  text: Float32Array;
  /** B × d images of `imageIndices`. */
  uniqueImages: Float32Array;
  /** L·B × d: `uniqueImages` repeated L times (D's `I[idx].repeat(L, 1)`). */
  images: () => Float32Array;
}

/**
 * Builds D's batch for `imageIndices`: captions of every language in language blocks, images
 * repeated once per language (materialised only when `images()` is called).
 */
export function languageBalancedBatch(
  textByLang: readonly Float32Array[],
  images: Float32Array,
  dim: number,
  imageIndices: Int32Array,
): LanguageBalancedBatch {
  const b = imageIndices.length;
  const text = new Float32Array(textByLang.length * b * dim);
  textByLang.forEach((rows, l) =>
    gatherRows(rows, dim, imageIndices, text.subarray(l * b * dim, (l + 1) * b * dim))
  );
  const uniqueImages = gatherRows(images, dim, imageIndices);
  return {
    imageIndices,
    text,
    uniqueImages,
    images: () => {
      const out = new Float32Array(textByLang.length * b * dim);
      for (let l = 0; l < textByLang.length; l++) out.set(uniqueImages, l * b * dim);
      return out;
    },
  };
}
