import { kitConfig } from "../config/kit_config.ts";
import { type TableArtifact, writeTableArtifact } from "../artifacts/table_artifact.ts";
import { DEFAULT_TOLERANCE } from "../paper/tolerance.ts";
import { KitError } from "../util/kit_error.ts";
import { ArtifactStore } from "./artifact_store.ts";
import { CLAIM_THRESHOLDS, CLAIMS } from "./claim_list.ts";
import { claimArtifacts, type ClaimSpec } from "./claim_spec.ts";
import { type ClaimRow, evaluateClaim } from "./evaluate_claim.ts";
import { PAPER_CHECK_ARTIFACTS, type PaperCheckRow, paperCheckRows } from "./paper_check.ts";

export interface ClaimsOptions {
  /** Folder of the run's artifacts (`<id>.json`); CLAIMS (and PAPER-CHECK) are written there too. */
  artifactDir?: string;
  /** Profile of the run (default: the artifacts' provenance, else `kitConfig().profile`). */
  profile?: "mini" | "paper";
  /** Compare with the published numbers (default: only in the paper profile). */
  paperCheck?: boolean;
  /** The claims to decide (default: all of `CLAIMS`). */
  claims?: readonly ClaimSpec[];
}

export interface ClaimsResult {
  profile: string;
  rows: ClaimRow[];
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
  const claims = opts.claims ?? CLAIMS;
  const store = await ArtifactStore.load(dir, [
    ...claims.flatMap(claimArtifacts),
    ...PAPER_CHECK_ARTIFACTS,
  ]);
  const profile = opts.profile ?? store.profile() ?? kitConfig().profile;
  const rows = claims.map((c) => {
    try {
      return evaluateClaim(store, c);
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
  return { profile, rows, paperCheck: check ? paperCheckRows(store) : null };
}

/**
 * Writes artifact `CLAIMS` (one row per claim: id, paper, claim, values, verdict, note; no cell
 * blank) and, in the paper profile, `PAPER-CHECK` (published vs regenerated with tolerance).
 *
 * ```ts ignore
 * import { writeClaimsArtifact } from "./write_claims_artifact.ts";
 * const { rows } = await writeClaimsArtifact({ artifactDir: "figures/mini" });
 * console.log(rows.map((r) => `${r.id} ${r.verdict}`).join("\n"));
 * ```
 */
export async function writeClaimsArtifact(opts: ClaimsOptions = {}): Promise<ClaimsResult> {
  const dir = opts.artifactDir ?? kitConfig().artifactDir;
  const result = await evaluateClaims({ ...opts, artifactDir: dir });
  const counts = (["holds", "does not hold", "not measurable"] as const)
    .map((v) => `${result.rows.filter((r) => r.verdict === v).length} ${v}`).join(", ");
  const artifacts = [
    await writeTableArtifact({
      id: "CLAIMS",
      title:
        `Qualitative claims of papers K and D, decided on this run (${result.profile} profile)`,
      rows: result.rows,
      columns: ["id", "paper", "claim", "values", "verdict", "note"],
      caption: `${counts}. Each note states the rule and its thresholds.`,
      notes: [
        `Thresholds: "not much" (K2b) = a drop of at most ${CLAIM_THRESHOLDS.notMuchDrop} (2 points) in mean bitext accuracy; ` +
        `"flat" (D4b) = a rise of at most ${CLAIM_THRESHOLDS.flat} in macro R@1; hubness "about the same" (D7) = within ` +
        `${
          CLAIM_THRESHOLDS.hubnessRelative * 100
        }% of the before value; lang-ID "about the same" (D8) = within ` +
        `${CLAIM_THRESHOLDS.langIdAbsolute} accuracy; "raises"/"drops"/"beats" = any change in that direction (> 0).`,
        "A claim is not measurable when this run has no artifact, row or value behind it (the note says which).",
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
