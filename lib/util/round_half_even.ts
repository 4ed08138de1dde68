/**
 * Python's and numpy's `round`: to the nearest integer, halves to even (2.5 → 2, 3.5 → 4), as
 * torchvision's `center_crop` and the papers' Table 6 hub ratio use it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundHalfEven } from "./round_half_even.ts";
 * assert.deepEqual([2.5, 3.5, -2.5, 5.54, 0.49].map(roundHalfEven), [2, 4, -2, 6, 0]);
 * ```
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
