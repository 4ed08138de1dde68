import type { PaperId } from "../paper/published_value.ts";
import type { ItemSelector } from "./item_outcomes.ts";

/** Where one number lives: the row of `artifact` whose fields equal `where`, column `field`. */
export interface Locator {
  artifact: string;
  where: Readonly<Record<string, string>>;
  field: string;
  /** Short name printed in the values column ("Eng-Only bitext mean"). */
  label: string;
  /**
   * The per-item outcomes this number is the macro mean of (what the bootstrap resamples). A
   * claim on a number without them is not measurable: a verdict needs an interval.
   */
  items?: ItemSelector;
}

/**
 * How a claim is decided from the artifacts. Every verdict comes from the 95 % paired bootstrap
 * interval of a difference d (per-item outcomes resampled, `items` selectors): *holds* when the
 * interval lies entirely on the claimed side, *does not hold* when entirely on the other side,
 * *inconclusive* otherwise. Every threshold is part of the data:
 * - `greater`: claimed d = a − b > margin;
 * - `flatOrDown`: claimed d = a − b ≤ flat (a rise of at most `flat` still counts as flat);
 * - `aboutSame`: claimed |a − b| ≤ relative·|b| (and/or ≤ absolute, when given): holds when the
 *   interval lies inside ±margin, does not hold when it lies entirely outside;
 * - `allPositive`: claimed `field` > 0 in every row of `artifact` (one row per `key`, at least
 *   `minRows`): d = the smallest per-row difference of `items.a` − `items.b` (selectors narrowed
 *   to the row's `key`), claimed > 0;
 * - `greatest`: claimed `best` above every other row (rows matching `where`, one per `vary`
 *   value): d = best − the largest other, claimed > 0;
 * - `otherLanguagesNotHurt`: d = mean of `field` over the languages not matching `exclude` for
 *   setup `with` minus the same for `without`, claimed ≥ −maxDrop.
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
    items?: { a: ItemSelector; b: ItemSelector };
  }
  | {
    kind: "greatest";
    artifact: string;
    where: Readonly<Record<string, string>>;
    vary: string;
    best: string;
    field: string;
    label: string;
    items?: ItemSelector;
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
    items?: ItemSelector;
  };

/** One qualitative claim of a paper, as data: what it says, where, and how it is decided. */
export interface ClaimSpec {
  /** Stable id: paper letter, claim number, part letter (`K1a`, `D7c`). */
  id: string;
  paper: PaperId;
  claim: string;
  /**
   * Where the paper says it, as a reader can follow it: the table or section with the paper's
   * arXiv id, or the quoted sentence's file and line at the authors' pinned commit.
   */
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
      return [t.artifact];
  }
}

/** The per-item outcome files a claim reads. */
export function claimItemFiles(spec: ClaimSpec): string[] {
  const t = spec.test;
  switch (t.kind) {
    case "greater":
    case "flatOrDown":
    case "aboutSame":
      return [...new Set([t.a.items?.items, t.b.items?.items].filter((x) => x !== undefined))];
    case "allPositive":
      return t.items ? [...new Set([t.items.a.items, t.items.b.items])] : [];
    case "greatest":
    case "otherLanguagesNotHurt":
      return t.items ? [t.items.items] : [];
  }
}

const pct = (x: number) => `${+(x * 100).toFixed(4)}%`;

/** The decision rule of a claim in words, with its thresholds (printed in the CLAIMS note). */
export function describeRule(spec: ClaimSpec): string {
  const t = spec.test;
  switch (t.kind) {
    case "greater":
      return `claimed: ${t.a.label} − ${t.b.label} > ${t.margin}`;
    case "flatOrDown":
      return `claimed: ${t.a.label} − ${t.b.label} ≤ +${t.flat} ("flat" = a change of at most ±${t.flat}; any drop counts as "down")`;
    case "aboutSame": {
      const parts = [
        ...(t.relative !== undefined ? [`${pct(t.relative)} of |${t.b.label}|`] : []),
        ...(t.absolute !== undefined ? [`${t.absolute} (absolute)`] : []),
      ];
      return `claimed "about the same": |${t.a.label} − ${t.b.label}| ≤ ${parts.join(" and ≤ ")}`;
    }
    case "allPositive":
      return `claimed: ${t.label} > 0 in every row of ${t.artifact} (one per ${t.key}, at least ${t.minRows}); difference = the smallest per-${t.key} gain`;
    case "greatest":
      return `claimed: ${t.best} has the highest ${t.label} of all ${t.vary}s in ${t.artifact}; difference = ${t.best} − the best other`;
    case "otherLanguagesNotHurt":
      return `claimed "not much": ${t.field} averaged over the languages other than Quechua (${t.langField} not matching /${t.exclude}/) ` +
        `drops by at most ${t.maxDrop} (${+(t.maxDrop * 100).toFixed(
          2,
        )} points) from ${t.without} to ${t.with}`;
  }
}
