import type { PaperId } from "../paper/published_value.ts";

/** Where one number lives: the row of `artifact` whose fields equal `where`, column `field`. */
export interface Locator {
  artifact: string;
  where: Readonly<Record<string, string>>;
  field: string;
  /** Short name printed in the values column ("Eng-Only bitext mean"). */
  label: string;
}

/**
 * How a claim is decided from the artifacts. Every threshold is part of the data:
 * - `greater`: holds when a − b > margin;
 * - `flatOrDown`: holds when a − b ≤ flat (a rise of at most `flat` still counts as flat);
 * - `aboutSame`: holds when |a − b| ≤ relative·|b| (and/or ≤ absolute, when given);
 * - `allPositive`: holds when `field` > 0 in every row of `artifact` (one row per `key`), and
 *   there is at least `minRows` rows;
 * - `greatest`: holds when `best`'s value is greater than every other row's (rows matching
 *   `where`, one per `vary` value), with at least one other row present;
 * - `otherLanguagesNotHurt`: mean of `field` over the languages of `artifact` not matching
 *   `exclude` for setup `with` minus the same for `without` ≥ −maxDrop; when the per-language
 *   artifact is missing, the group row `fallback` of the group-level artifact is used instead.
 */
export type ClaimTest =
  | { kind: "greater"; a: Locator; b: Locator; margin: number }
  | { kind: "flatOrDown"; a: Locator; b: Locator; flat: number }
  | { kind: "aboutSame"; a: Locator; b: Locator; relative?: number; absolute?: number }
  | {
    kind: "allPositive";
    artifact: string;
    key: string;
    field: string;
    minRows: number;
    label: string;
  }
  | {
    kind: "greatest";
    artifact: string;
    where: Readonly<Record<string, string>>;
    vary: string;
    best: string;
    field: string;
    label: string;
  }
  | {
    kind: "otherLanguagesNotHurt";
    artifact: string;
    setupField: string;
    with: string;
    without: string;
    where: Readonly<Record<string, string>>;
    langField: string;
    exclude: string;
    field: string;
    maxDrop: number;
    fallback: { artifact: string; where: Readonly<Record<string, string>> };
  };

/** One qualitative claim of a paper, as data: what it says, where, and how it is decided. */
export interface ClaimSpec {
  /** Stable id: paper letter, claim number, part letter (`K1a`, `D7c`). */
  id: string;
  paper: PaperId;
  claim: string;
  /** Where the paper (and SPEC) say it. */
  source: string;
  test: ClaimTest;
}

/** The artifacts a claim reads. */
export function claimArtifacts(spec: ClaimSpec): string[] {
  const t = spec.test;
  switch (t.kind) {
    case "greater":
    case "flatOrDown":
    case "aboutSame":
      return [...new Set([t.a.artifact, t.b.artifact])];
    case "allPositive":
    case "greatest":
      return [t.artifact];
    case "otherLanguagesNotHurt":
      return [t.artifact, t.fallback.artifact];
  }
}

const pct = (x: number) => `${+(x * 100).toFixed(4)}%`;

/** The decision rule of a claim in words, with its thresholds (printed in the CLAIMS note). */
export function describeRule(spec: ClaimSpec): string {
  const t = spec.test;
  switch (t.kind) {
    case "greater":
      return `holds when ${t.a.label} − ${t.b.label} > ${t.margin}`;
    case "flatOrDown":
      return `holds when ${t.a.label} − ${t.b.label} ≤ +${t.flat} ("flat" = a change of at most ±${t.flat}; any drop counts as "down")`;
    case "aboutSame": {
      const parts = [
        ...(t.relative !== undefined ? [`${pct(t.relative)} of |${t.b.label}|`] : []),
        ...(t.absolute !== undefined ? [`${t.absolute} (absolute)`] : []),
      ];
      return `"about the same" = |${t.a.label} − ${t.b.label}| ≤ ${parts.join(" and ≤ ")}`;
    }
    case "allPositive":
      return `holds when ${t.label} > 0 in every row of ${t.artifact} (one per ${t.key}, at least ${t.minRows})`;
    case "greatest":
      return `holds when ${t.best} has the highest ${t.label} of all ${t.vary}s in ${t.artifact}`;
    case "otherLanguagesNotHurt":
      return `"not much" = the mean ${t.field} over the languages other than Quechua (${t.langField} not matching /${t.exclude}/) ` +
        `drops by at most ${t.maxDrop} (${+(t.maxDrop * 100).toFixed(
          2,
        )} points) from ${t.without} to ${t.with}`;
  }
}
