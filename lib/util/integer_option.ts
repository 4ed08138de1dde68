import { KitError } from "./kit_error.ts";

/**
 * The value of a command-line option that must be an integer ≥ `min`: `fallback` when the
 * option was not given, else a `KitError` naming the option and what was expected.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { integerOption } from "./integer_option.ts";
 * assert(integerOption("folds", undefined, 5, 2) === 5);
 * assert(integerOption("folds", "3", 5, 2) === 3);
 * ```
 */
export function integerOption(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isInteger(x) || x < min) {
    throw new KitError(`--${name} ${value}: expected an integer ≥ ${min}`);
  }
  return x;
}
