import type {
  Deviation,
  DeviationArtifact,
  DeviationPaper,
  DeviationProfile,
} from "./deviation.ts";

/** Which deviations to show. */
export interface DeviationFilter {
  /** Show the deviations that affect any of these artifacts (all when omitted). */
  artifacts?: readonly DeviationArtifact[];
  /** Only those that exist in this profile. */
  profile?: DeviationProfile;
  /** Only this paper's. */
  paper?: DeviationPaper;
}

/** The deviations of `list` matching `filter`, in list order. */
export function selectDeviations(
  list: readonly Deviation[],
  filter: DeviationFilter = {},
): Deviation[] {
  return list.filter((d) =>
    (!filter.paper || d.paper === filter.paper) &&
    (!filter.profile || d.profiles.includes(filter.profile)) &&
    (!filter.artifacts || d.affects.some((a) => filter.artifacts!.includes(a)))
  );
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/**
 * A Markdown table of the deviations affecting given artifacts: topic, what the authors' code
 * does, what the kit does, why, profiles, and which of the artifacts it touches. Says so in one
 * line when none applies.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { deviationsMarkdown } from "./deviation_table.ts";
 * import { K_DEVIATIONS } from "./k_deviations.ts";
 * const md = deviationsMarkdown(K_DEVIATIONS, { artifacts: ["K-F1"] });
 * assert(md.includes("t-SNE settings"));
 * ```
 */
export function deviationsMarkdown(
  list: readonly Deviation[],
  filter: DeviationFilter = {},
): string {
  const rows = selectDeviations(list, filter);
  const scope = [
    filter.artifacts ? filter.artifacts.join(", ") : "all artifacts",
    filter.profile ? `${filter.profile} profile` : "",
  ].filter((s) => s).join(", ");
  if (rows.length === 0) {
    return `**Deviations from the authors' code** (${scope}): none known.`;
  }
  const shown = (d: Deviation) =>
    filter.artifacts ? d.affects.filter((a) => filter.artifacts!.includes(a)) : d.affects;
  return [
    `**Deviations from the authors' code** (${scope}; lib/deviations, ${rows.length} items)`,
    "",
    "| topic | authors' code | the kit | why | profiles | affects |",
    "|---|---|---|---|---|---|",
    ...rows.map((d) =>
      `| ${cell(d.topic)} | ${cell(d.authors)} | ${cell(d.kit)} | ${cell(d.reason)} | ${
        d.profiles.join(", ")
      } | ${shown(d).join(", ")} |`
    ),
  ].join("\n");
}
