import { join } from "node:path";
import { atomicWriteFile, atomicWriteJson } from "../util/atomic_write.ts";
import type { SourceIssue } from "../sources/source_issue.ts";
import { countIssues } from "./data_report.ts";

/** `rejects.json`: every dropped item with its file (relative to its source root) and reason. */
export interface RejectsReport {
  /** Source name → absolute root folder (the files below are relative to it). */
  roots: Record<string, string>;
  summary: { reason: string; action: "rejected" | "skipped"; count: number }[];
  issues: SourceIssue[];
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Renders the rejects report as Markdown: a summary by reason, then one table per reason. */
export function rejectsMarkdown(
  report: RejectsReport,
  title = "Dataset build: rejected and skipped items",
): string {
  const lines: string[] = [`# ${title}`, ""];
  const rejected = report.issues.filter((i) => i.action === "rejected").length;
  lines.push(
    `${rejected} rejected, ${
      report.issues.length - rejected
    } skipped. Paths are relative to each source's root:`,
    "",
  );
  for (const [s, r] of Object.entries(report.roots)) lines.push(`- \`${s}\`: \`${r}\``);
  lines.push("", "| action | reason | count |", "|---|---|---:|");
  for (const s of report.summary) {
    lines.push(`| ${s.action} | ${mdEscape(s.reason)} | ${s.count} |`);
  }
  for (const s of report.summary) {
    lines.push(
      "",
      `## ${s.action}: ${s.reason} (${s.count})`,
      "",
      "| source | file | line | detail |",
      "|---|---|---:|---|",
    );
    for (const i of report.issues) {
      if (i.reason !== s.reason || i.action !== s.action) continue;
      const root = report.roots[i.source];
      const link = root ? `[${mdEscape(i.file)}](<${join(root, i.file)}>)` : mdEscape(i.file);
      lines.push(`| ${i.source} | ${link} | ${i.line ?? ""} | ${mdEscape(i.detail ?? "")} |`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Writes `rejects.json` and `rejects.md` into `dir` (atomically) and returns their paths.
 * Issues are sorted by source, file, line for stable output.
 */
export async function writeRejectsReport(
  dir: string,
  issues: readonly SourceIssue[],
  roots: Record<string, string>,
): Promise<{ json: string; markdown: string; report: RejectsReport }> {
  const sorted = [...issues].sort((a, b) =>
    a.source !== b.source
      ? (a.source < b.source ? -1 : 1)
      : a.file !== b.file
      ? (a.file < b.file ? -1 : 1)
      : (a.line ?? 0) - (b.line ?? 0) || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0)
  );
  const report: RejectsReport = { roots, summary: countIssues(sorted), issues: sorted };
  const json = join(dir, "rejects.json");
  const markdown = join(dir, "rejects.md");
  await atomicWriteJson(json, report);
  await atomicWriteFile(markdown, rejectsMarkdown(report));
  return { json, markdown, report };
}
