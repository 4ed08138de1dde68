import type { Deviation, DeviationArtifact } from "./deviation.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

/**
 * The deviations that affect any of `affects` (all of them when omitted) as one Markdown table:
 * topic, what the authors' code does, what the kit does, why, profiles, and the affected
 * artifacts (those of `affects` when given). One sentence when none applies.
 *
 * ```ts
 * import { deviationsMarkdown } from "./deviations_table.ts";
 * import { D_DEVIATIONS } from "./d_deviations.ts";
 * console.assert(deviationsMarkdown(D_DEVIATIONS, ["D-F1"]).includes("UMAP"));
 * ```
 */
export function deviationsMarkdown(
  deviations: readonly Deviation[],
  affects?: readonly DeviationArtifact[],
): string {
  const rows = affects
    ? deviations.filter((d) => d.affects.some((a) => affects.includes(a)))
    : [...deviations];
  const scope = affects ? affects.join(", ") : "all artifacts";
  if (rows.length === 0) {
    return `**Deviations from the authors' code** (${scope}): none known.`;
  }
  const shown = (
    d: Deviation,
  ) => (affects ? d.affects.filter((a) => affects.includes(a)) : d.affects);
  return [
    `**Deviations from the authors' code** (${scope}; ${rows.length} listed in lib/deviations)`,
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
