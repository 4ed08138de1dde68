import { kitConfig } from "../config/kit_config.ts";
import { type TableArtifact, writeTableArtifact } from "../artifacts/table_artifact.ts";
import { DEFAULT_TOLERANCE } from "../paper/tolerance.ts";
import { KitError } from "../util/kit_error.ts";
import { ArtifactStore } from "./artifact_store.ts";
import { CLAIM_THRESHOLDS, CLAIMS, claimsForProfile } from "./claim_list.ts";
import { claimArtifacts, claimItemFiles, type ClaimSpec } from "./claim_spec.ts";
import {
  CLAIM_BOOTSTRAP,
  type ClaimBootstrap,
  type ClaimRow,
  evaluateClaim,
  type Verdict,
  VERDICTS,
} from "./evaluate_claim.ts";
import { PAPER_CHECK_ARTIFACTS, type PaperCheckRow, paperCheckRows } from "./paper_check.ts";
import { SET_STATISTIC_DEFAULTS } from "./d_item_outcomes.ts";

export interface ClaimsOptions {
  /** Folder of the run's artifacts (`<id>.json`); CLAIMS (and PAPER-CHECK) are written there too. */
  artifactDir?: string;
  /** Profile of the run (default: the artifacts' provenance, else `kitConfig().profile`). */
  profile?: "mini" | "paper";
  /** Compare with the published numbers (default: only in the paper profile). */
  paperCheck?: boolean;
  /** The claims to decide (default: all of them, as the run's profile decides them: `claimsForProfile`). */
  claims?: readonly ClaimSpec[];
  /** The intervals' bootstrap (default {@link CLAIM_BOOTSTRAP}: 1000 resamples, seed 2025, 95 %). */
  bootstrap?: ClaimBootstrap;
}

/** "14 holds, 3 does not hold, 6 inconclusive, 2 not measurable": verdict counts in order. */
export function verdictCounts(rows: readonly { verdict: Verdict }[]): string {
  return VERDICTS.map((v) => `${rows.filter((r) => r.verdict === v).length} ${v}`).join(", ");
}

export interface ClaimsResult {
  profile: string;
  rows: ClaimRow[];
  bootstrap: ClaimBootstrap;
  paperCheck: PaperCheckRow[] | null;
  artifacts: TableArtifact[];
}

/**
 * Decides every claim from the artifacts in `artifactDir` (a missing artifact makes its claims
 * "not measurable"; an unreadable or invalid one, or an evaluator that throws, throws a KitError
 * naming the claim). In the paper profile also compares each published number with its
 * regenerated counterpart.
 */
export async function evaluateClaims(
  opts: ClaimsOptions = {},
): Promise<Omit<ClaimsResult, "artifacts">> {
  const dir = opts.artifactDir ?? kitConfig().artifactDir;
  // both profiles' lists read the same artifacts and item files (K-T1 holds both benchmarks)
  const declared = opts.claims ?? [...CLAIMS, ...claimsForProfile("mini")];
  const bootstrap = opts.bootstrap ?? CLAIM_BOOTSTRAP;
  const store = await ArtifactStore.load(
    dir,
    [...declared.flatMap(claimArtifacts), ...PAPER_CHECK_ARTIFACTS],
    declared.flatMap(claimItemFiles),
  );
  const profile = opts.profile ?? store.profile() ?? kitConfig().profile;
  const claims = opts.claims ?? claimsForProfile(profile === "paper" ? "paper" : "mini");
  const rows = claims.map((c) => {
    try {
      return evaluateClaim(store, c, bootstrap);
    } catch (err) {
      if (err instanceof KitError) throw new KitError(`claim ${c.id}: ${err.message}`, err.hints);
      throw new KitError(
        `claim ${c.id}: its evaluator failed (a bug in lib/claims): ${
          err instanceof Error ? err.stack : err
        }`,
      );
    }
  });
  const check = opts.paperCheck ?? profile === "paper";
  return { profile, rows, bootstrap, paperCheck: check ? paperCheckRows(store) : null };
}

/**
 * Writes artifact `CLAIMS` (one row per claim: id, paper, claim, values, verdict, note; no cell
 * blank) and, in the paper profile, `PAPER-CHECK` (published vs regenerated with tolerance).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cp } from "node:fs/promises";
 * import { join } from "node:path";
 * import { writeClaimsArtifact } from "./write_claims_artifact.ts";
 * import { PROJECT_ROOT } from "../util/paths.ts";
 * // the committed mini run's artifacts, copied: CLAIMS is written beside them
 * const mini = join(PROJECT_ROOT, "figures", "mini");
 * const artifactDir = await Deno.makeTempDir();
 * for await (const e of Deno.readDir(mini)) {
 *   const [from, to] = [join(mini, e.name), join(artifactDir, e.name)];
 *   if (e.name.endsWith(".json")) await Deno.copyFile(from, to);
 * }
 * await cp(join(mini, "items"), join(artifactDir, "items"), { recursive: true });
 * const { rows } = await writeClaimsArtifact({ artifactDir });
 * const verdicts = (r: { id: string; verdict: string }[]) => r.map((x) => `${x.id} ${x.verdict}`);
 * const committed = JSON.parse(await Deno.readTextFile(join(mini, "CLAIMS.json")));
 * assert.deepEqual(verdicts(rows), verdicts(committed.rows)); // the same verdicts, recomputed
 * assert(await Deno.stat(join(artifactDir, "CLAIMS.md")));
 * await Deno.remove(artifactDir, { recursive: true });
 * ```
 */
export async function writeClaimsArtifact(opts: ClaimsOptions = {}): Promise<ClaimsResult> {
  const dir = opts.artifactDir ?? kitConfig().artifactDir;
  const result = await evaluateClaims({ ...opts, artifactDir: dir });
  const counts = verdictCounts(result.rows);
  const b = result.bootstrap;
  const artifacts = [
    await writeTableArtifact({
      id: "CLAIMS",
      title:
        `Qualitative claims of papers K and D, decided on this run (${result.profile} profile)`,
      rows: result.rows,
      columns: ["id", "paper", "claim", "values", "verdict", "note"],
      caption: `${counts}. Each verdict comes from the ${
        100 * b.level
      }% paired bootstrap interval of the difference the claim rests on (printed as estimate [low, high]); each note states the rule and its thresholds.`,
      seeds: { bootstrap: b.seed },
      notes: [
        `Verdicts: holds = the ${
          100 * b.level
        }% interval of the difference lies entirely on the claimed side; does not hold = entirely on the other side; ` +
        `inconclusive = it straddles the bound; "about the same" holds when the interval lies inside ±margin and does not hold when it lies entirely outside. ` +
        `Intervals: paired percentile bootstrap (${b.resamples} resamples, seed ${b.seed}) over the per-item outcomes the notebooks write to items/ ` +
        `(K-T1: FLORES sentences, both directions per sentence; K-T2: XNLI test pairs, drawn jointly in every language; D: holdout items of all folds, concatenated) — both sides of a difference on the same draw. ` +
        `The numbers in the values column are these per-item statistics on the observed sample: K's equal the tables'; D's retrieval and mean-cosine numbers pool the items of all folds, ` +
        `so they differ from the tables' means of fold means in the 4th decimal when folds differ in size; D's hubness is computed per fold, then averaged, as in D-T6 ` +
        `(under resampling each item keeps its k-occurrence in its fold's kNN graph); D's lang-ID accuracy is, per fold, the share of the probe's test rows ((item, language) pairs, all languages pooled) ` +
        `classified right, then the mean over folds, exactly D-T6's number (under resampling the fitted probe and its split are held fixed; an item enters with its rows in the test split; an item with none there has no lang-ID outcome). ` +
        `D-T6's effective rank and Gram correlation (D5a, D5b) have no per-item outcomes: notebook 05 recomputes them, for the identity and linear heads, on the first ${SET_STATISTIC_DEFAULTS.resamples} of the same resamples ` +
        `(each fold's drawn holdout items with their multiplicities: the effective rank of the weighted scatter, i.e. of the matrix with duplicated rows; the Gram correlation over pairs of distinct items, pair weight the product of the multiplicities, ` +
        `pairs of two copies of one item left out since their entry is a squared norm), averaged over folds like D-T6; the interval is the percentile interval of the per-resample differences and the estimate is D-T6's number. ` +
        `A resample holds about 63 % distinct items, so its effective rank lies below the observed one for both heads: the interval is of the paired difference, not of either rank.`,
        `Thresholds: "not much" (K2b) = a drop of at most ${CLAIM_THRESHOLDS.notMuchDrop} (2 points) in mean bitext accuracy; ` +
        `"flat" (D4b) = a rise of at most ${CLAIM_THRESHOLDS.flat} in macro R@1; hubness "about the same" (D7) = within ` +
        `${
          CLAIM_THRESHOLDS.hubnessRelative * 100
        }% of the before value; lang-ID "about the same" (D8) = within ` +
        `${CLAIM_THRESHOLDS.langIdAbsolute} accuracy; "raises"/"drops"/"beats" = any change in that direction (> 0).`,
        "A claim is not measurable when this run has no artifact, row, value or per-item outcomes behind it (the note says which).",
        ...(result.profile === "paper" ? [] : [
          "In the mini profile the models and data are the kit's small stand-ins, so a claim that does not hold here says little about the paper.",
        ]),
      ],
      outDir: dir,
    }),
  ];
  if (result.paperCheck) {
    const measured = result.paperCheck.filter((r) => r.within !== null);
    artifacts.push(
      await writeTableArtifact({
        id: "PAPER-CHECK",
        title: "Published numbers beside the regenerated ones",
        rows: result.paperCheck,
        columns: [
          "paper",
          "table",
          "row",
          "column",
          "published",
          "std",
          "source",
          "tolerance",
          "regenerated",
          "diff",
          "within",
        ],
        formats: { published: 4, std: 4, tolerance: 4, regenerated: 4, diff: 4 },
        caption: `${
          measured.filter((r) => r.within).length
        } of ${measured.length} regenerated numbers within tolerance ` +
          `(${result.paperCheck.length - measured.length} not regenerated in this run).`,
        notes: [
          `within = |regenerated − published| ≤ tolerance; tolerance = the published std (one std over folds), or where the ` +
          `paper gives none: fractions ${DEFAULT_TOLERANCE.fraction}, percentages ${DEFAULT_TOLERANCE.percent}, ` +
          `other quantities ${DEFAULT_TOLERANCE.raw}.`,
          "K's numbers are percentages: the K-T1/K-T2 fractions are multiplied by 100 here.",
        ],
        outDir: dir,
      }),
    );
  }
  return { ...result, artifacts };
}
