/**
 * IEEE 754 half-precision (binary16) ↔ float32 conversion, used by the `.npy` and
 * `.safetensors` readers and writers. Encoding rounds to nearest, ties to even (as numpy's
 * `astype(np.float16)` does); overflow gives ±Infinity; NaN stays NaN.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { float16BitsToNumber, numberToFloat16Bits } from "./float16.ts";
 * assert(float16BitsToNumber(numberToFloat16Bits(1.5)) === 1.5);
 * ```
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half-precision bits → number (exact). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Number → half-precision bits (via float32, round to nearest even). */
export function numberToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf / NaN
  // Unbiased exponent of the float32, re-biased for half.
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa (with its implicit 1) right.
    if (e < -10) return sign; // underflows to ±0
    mant |= 0x800000;
    const shift = 14 - e; // 14..24
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m += 1;
    return sign | m; // a carry into the exponent field is the correct result
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m += 1;
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** Decodes `n` little-endian half floats starting at `bytes[offset]` into a Float32Array. */
export function decodeFloat16(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = offset + 2 * i;
    out[i] = float16BitsToNumber(bytes[o]! | (bytes[o + 1]! << 8));
  }
  return out;
}

/** Encodes values as little-endian half floats (2 bytes each). */
export function encodeFloat16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = numberToFloat16Bits(values[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}
