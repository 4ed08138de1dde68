import { KitError } from "../util/kit_error.ts";

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

function checkSeed(seed: number, what: string): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new KitError(
      `${what}: seed must be an integer in [0, 2^32 - 1] (as numpy requires), got ${seed}`,
    );
  }
  return seed >>> 0;
}

/**
 * The Mersenne Twister MT19937 (Matsumoto & Nishimura 1998) seeded with `init_genrand(seed)`,
 * which is exactly what numpy's legacy `RandomState(seed)` does for an integer seed
 * (`_legacy_seeding` → `mt19937_seed`, not `init_by_array`). `nextUint32()` equals numpy's
 * `RandomState(seed)._bit_generator.random_raw()` output by output.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MT19937 } from "./mt19937.ts";
 * assert(new MT19937(0).nextUint32() === 2357136044);
 * ```
 */
export class MT19937 {
  readonly #mt = new Uint32Array(N);
  #pos = N;

  constructor(seed: number) {
    let s = checkSeed(seed, "MT19937");
    const mt = this.#mt;
    mt[0] = s;
    for (let i = 1; i < N; i++) {
      // mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >>> 30)) + i   (mod 2^32)
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i) >>> 0;
      mt[i] = s;
    }
    this.#pos = N;
  }

  #twist(): void {
    const mt = this.#mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.#pos = 0;
  }

  /** The next tempered 32-bit output, as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    if (this.#pos >= N) this.#twist();
    let y = this.#mt[this.#pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * The parts of numpy's legacy `np.random.RandomState(seed)` that scikit-learn's shuffling uses:
 * `randomInterval`, `shuffle` and `permutation`, bit for bit equal to numpy (any version since
 * 1.17, whose legacy stream is frozen).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumpyRandomState } from "./mt19937.ts";
 * // np.random.RandomState(0).permutation(10) → [2 8 4 9 1 6 7 3 0 5]
 * assert(new NumpyRandomState(0).permutation(10).join() === "2,8,4,9,1,6,7,3,0,5");
 * ```
 */
export class NumpyRandomState {
  readonly bitGenerator: MT19937;

  constructor(seed: number) {
    checkSeed(seed, "NumpyRandomState");
    this.bitGenerator = new MT19937(seed);
  }

  /**
   * A uniform integer in [0, max], numpy's `random_interval`: draw 32-bit outputs, mask them
   * with the smallest all-ones mask ≥ max, reject values above max.
   */
  randomInterval(max: number): number {
    if (!Number.isInteger(max) || max < 0) {
      throw new KitError(
        `NumpyRandomState.randomInterval: max must be a non-negative integer, got ${max}`,
      );
    }
    if (max === 0) return 0;
    if (max > 0xffffffff) {
      // numpy switches to 64-bit draws here; no array the kit shuffles is that long.
      throw new KitError(`NumpyRandomState.randomInterval: max ${max} > 2^32 - 1 is not supported`);
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.bitGenerator.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /**
   * Shuffles `xs` in place exactly like the legacy `RandomState.shuffle` of a 1-D array
   * (Fisher–Yates from the end: for i = n−1 … 1, j = randomInterval(i), swap x[i], x[j]).
   * Returns `xs`.
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(xs: T): T {
    const a = xs as { [i: number]: unknown };
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return xs;
  }

  /** `RandomState.permutation(n)`: a shuffled `0..n-1`. */
  permutation(n: number): number[] {
    if (!Number.isInteger(n) || n < 0) {
      throw new KitError(
        `NumpyRandomState.permutation: n must be a non-negative integer, got ${n}`,
      );
    }
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}
