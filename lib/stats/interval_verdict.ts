import { KitError } from "../util/kit_error.ts";

/** A claim's verdict decided from an interval (`not measurable` when there is no interval). */
export type IntervalVerdict = "holds" | "does not hold" | "inconclusive";

/**
 * What a claim says about a difference d (A − B):
 * - `above`: d > threshold ("A beats B" is `above 0`);
 * - `atLeast`: d ≥ threshold ("does not drop by more than 0.02" is `atLeast −0.02`);
 * - `atMost`: d ≤ threshold ("flat or down" is `atMost +flat`);
 * - `within`: |d| ≤ margin ("about the same").
 */
export type ClaimedSide =
  | { kind: "above"; threshold: number }
  | { kind: "atLeast"; threshold: number }
  | { kind: "atMost"; threshold: number }
  | { kind: "within"; margin: number };

/**
 * The verdict of a claim about a difference from the difference's interval `[low, high]`:
 * **holds** when the whole interval lies on the claimed side, **does not hold** when it lies
 * entirely on the other side, **inconclusive** otherwise. For `within` (about the same): holds
 * when the interval lies inside `[−margin, +margin]`, does not hold when it lies entirely
 * outside it (wholly above +margin or wholly below −margin), inconclusive otherwise.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { intervalVerdict } from "./interval_verdict.ts";
 * const above0 = { kind: "above", threshold: 0 } as const;
 * assert(intervalVerdict(-0.028, 0.032, above0) === "inconclusive");
 * assert(intervalVerdict(0.08, 0.12, above0) === "holds");
 * assert(intervalVerdict(-0.12, -0.08, above0) === "does not hold");
 * ```
 */
export function intervalVerdict(low: number, high: number, side: ClaimedSide): IntervalVerdict {
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) {
    throw new KitError(
      `intervalVerdict: expected a finite interval low ≤ high, got [${low}, ${high}]`,
    );
  }
  switch (side.kind) {
    case "above":
      return low > side.threshold
        ? "holds"
        : high <= side.threshold
        ? "does not hold"
        : "inconclusive";
    case "atLeast":
      return low >= side.threshold
        ? "holds"
        : high < side.threshold
        ? "does not hold"
        : "inconclusive";
    case "atMost":
      return high <= side.threshold
        ? "holds"
        : low > side.threshold
        ? "does not hold"
        : "inconclusive";
    case "within": {
      const m = side.margin;
      if (!(m >= 0)) throw new KitError(`intervalVerdict: margin must be ≥ 0, got ${m}`);
      return low >= -m && high <= m
        ? "holds"
        : low > m || high < -m
        ? "does not hold"
        : "inconclusive";
    }
  }
}

/** The claimed side in words ("> 0", "≥ −0.02", "within ±0.02"), for rules and notes. */
export function describeSide(side: ClaimedSide): string {
  const n = (x: number) => (x < 0 ? `−${-x}` : `${x}`);
  switch (side.kind) {
    case "above":
      return `> ${n(side.threshold)}`;
    case "atLeast":
      return `≥ ${n(side.threshold)}`;
    case "atMost":
      return `≤ ${side.threshold > 0 ? "+" : ""}${n(side.threshold)}`;
    case "within":
      return `within ±${side.margin}`;
  }
}
