/**
 * IEEE 754 half-precision (binary16) ↔ number conversion for the `.npy` and `.safetensors`
 * readers and writers, on the built-in `Float16Array` (round to nearest, ties to even;
 * overflow gives ±Infinity; NaN stays NaN). Files hold little-endian halves.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFloat16, encodeFloat16, float16BitsToNumber, numberToFloat16Bits } from "./float16.ts";
 * assert.equal(float16BitsToNumber(numberToFloat16Bits(1.5)), 1.5);
 * assert.equal(numberToFloat16Bits(65520), 0x7c00); // rounds to +Infinity
 * assert.deepEqual(decodeFloat16(encodeFloat16([0.5, -2, 1e-8]), 0, 3), new Float32Array([0.5, -2, 0]));
 * ```
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const one16 = new Float16Array(1);
const oneBits = new Uint16Array(one16.buffer);

/** Half-precision bits → number (exact). */
export function float16BitsToNumber(h: number): number {
  oneBits[0] = h;
  return one16[0]!;
}

/** Number → half-precision bits (round to nearest, ties to even). */
export function numberToFloat16Bits(value: number): number {
  one16[0] = value;
  return oneBits[0]!;
}

/** Decodes `n` little-endian half floats starting at `bytes[offset]` into a Float32Array. */
export function decodeFloat16(bytes: Uint8Array, offset: number, n: number): Float32Array {
  if (LITTLE_ENDIAN) {
    // a copy, so the halves are 2-byte aligned whatever `offset` is
    const halves = new Float16Array(bytes.slice(offset, offset + 2 * n).buffer);
    return Float32Array.from(halves);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 2 * n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat16(2 * i, true);
  return out;
}

/** Encodes values as little-endian half floats (2 bytes each). */
export function encodeFloat16(values: ArrayLike<number>): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(Float16Array.from(values).buffer);
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat16(2 * i, values[i]!, true);
  return out;
}
