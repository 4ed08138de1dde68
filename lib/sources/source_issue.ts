/**
 * A problem found while reading a source: a malformed line, a missing image, an undecodable
 * file. Loaders never skip silently: every dropped item becomes one `SourceIssue`, and the
 * dataset build writes them all to a rejects report (JSON + Markdown).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceIssue } from "./source_issue.ts";
 * const i = sourceIssue("tuxpaint-stamps", "stamps/a.txt", "malformed line", { line: 3 });
 * assert(i.action === "rejected" && i.line === 3);
 * ```
 */
export interface SourceIssue {
  /** The source (loader) that found it, e.g. `tuxpaint-stamps`, `coco`, `wit`. */
  source: string;
  /** The file, relative to the source's root folder where there is one. */
  file: string;
  /** 1-based line number inside `file`, where the problem is a line. */
  line?: number;
  /** A short, stable category used to count rejects (e.g. `malformed line`, `truncated image`). */
  reason: string;
  /** Specifics: the offending text, the decoder's message, the other file of a duplicate. */
  detail?: string;
  /** `rejected`: an item (line, record, image) was dropped because it is broken.
   *  `skipped`: an item was left out on purpose (e.g. a Tux Paint `_mirror` variant). */
  action: "rejected" | "skipped";
}

/** Builds a `SourceIssue` (action `rejected` unless told otherwise). */
export function sourceIssue(
  source: string,
  file: string,
  reason: string,
  extra: { line?: number; detail?: string; action?: "rejected" | "skipped" } = {},
): SourceIssue {
  const issue: SourceIssue = { source, file, reason, action: extra.action ?? "rejected" };
  if (extra.line !== undefined) issue.line = extra.line;
  if (extra.detail !== undefined) issue.detail = extra.detail;
  return issue;
}

/** Shortens a line of text for an issue's `detail` (keeps reports readable). */
export function clipText(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
