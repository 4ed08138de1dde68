import { basename } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { type NliExample, parseNliLabel } from "./nli_example.ts";
import { clipText, type SourceIssue, sourceIssue } from "./source_issue.ts";
import { headerIndex, readTsv } from "./text_io.ts";

/** The 15 XNLI languages. */
export const XNLI_LANGUAGES = [
  "ar",
  "bg",
  "de",
  "el",
  "en",
  "es",
  "fr",
  "hi",
  "ru",
  "sw",
  "th",
  "tr",
  "ur",
  "vi",
  "zh",
] as const;

/**
 * Reads the official XNLI 1.0 file (`XNLI-1.0/xnli.test.tsv` or `xnli.dev.tsv`: a header with
 * `language`, `gold_label`, `sentence1`, `sentence2`, `pairID`, `genre`, ... columns; fields are
 * tab-separated and not quoted). Returns the pairs grouped by language; a line with too few
 * fields or an unknown label is an issue, the rest load.
 */
export async function loadXnliOfficial(
  path: string,
  opts: { languages?: readonly string[] } = {},
): Promise<{ byLanguage: Record<string, NliExample[]>; issues: SourceIssue[] }> {
  const want = opts.languages ? new Set(opts.languages) : null;
  const byLanguage: Record<string, NliExample[]> = {};
  const issues: SourceIssue[] = [];
  const file = basename(path);
  let idx: Map<string, number> | null = null;
  for await (const rec of readTsv(path)) {
    if (idx === null) {
      idx = headerIndex(path, rec.fields, ["language", "gold_label", "sentence1", "sentence2"]);
      continue;
    }
    if (rec.fields.length === 1 && rec.fields[0] === "") continue;
    const get = (c: string) => {
      const i = idx!.get(c);
      return i === undefined ? undefined : rec.fields[i];
    };
    const language = get("language")?.trim();
    const premise = get("sentence1")?.trim();
    const hypothesis = get("sentence2")?.trim();
    const rawLabel = get("gold_label");
    if (!language || premise === undefined || hypothesis === undefined || rawLabel === undefined) {
      issues.push(
        sourceIssue("xnli", file, "malformed line", {
          line: rec.line,
          detail: `${rec.fields.length} fields, header has ${idx.size}`,
        }),
      );
      continue;
    }
    if (want && !want.has(language)) continue;
    const label = parseNliLabel(rawLabel);
    if (!label) {
      issues.push(
        sourceIssue("xnli", file, "unknown label", { line: rec.line, detail: clipText(rawLabel) }),
      );
      continue;
    }
    const ex: NliExample = {
      premise,
      hypothesis,
      label,
      language,
      id: get("pairID")?.trim() || String(rec.line),
    };
    const genre = get("genre")?.trim();
    if (genre) ex.genre = genre;
    (byLanguage[language] ??= []).push(ex);
  }
  if (idx === null) throw new KitError(`${path}: empty file`);
  return { byLanguage, issues };
}

/**
 * Reads an XTREME-style XNLI TSV (`dev-en.tsv`: `premise<TAB>hypothesis<TAB>label`, no header,
 * no quoting). A header line (`premise hypothesis label`) is tolerated. Bad lines are issues.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadXnliXtreme } from "./xnli.ts";
 * const path = await Deno.makeTempFile({ suffix: ".tsv" });
 * await Deno.writeTextFile(path, "A man sleeps.\tA person rests.\tentailment\nonly two\tfields\n");
 * const { examples, issues } = await loadXnliXtreme(path, "en");
 * assert.equal(examples.length, 1);
 * assert.equal(examples[0]!.hypothesis, "A person rests.");
 * assert.equal(issues.length, 1); // the malformed line is reported, not skipped silently
 * await Deno.remove(path);
 * ```
 */
export async function loadXnliXtreme(
  path: string,
  language: string,
): Promise<{ examples: NliExample[]; issues: SourceIssue[] }> {
  const examples: NliExample[] = [];
  const issues: SourceIssue[] = [];
  const file = basename(path);
  for await (const rec of readTsv(path)) {
    if (rec.fields.length === 1 && rec.fields[0]!.trim() === "") continue;
    if (rec.line === 1 && rec.fields[0]?.trim().toLowerCase() === "premise") continue;
    if (rec.fields.length !== 3) {
      issues.push(
        sourceIssue("xnli", file, "malformed line", {
          line: rec.line,
          detail: `${rec.fields.length} fields, expected 3`,
        }),
      );
      continue;
    }
    const label = parseNliLabel(rec.fields[2]!);
    if (!label) {
      issues.push(
        sourceIssue("xnli", file, "unknown label", {
          line: rec.line,
          detail: clipText(rec.fields[2]!),
        }),
      );
      continue;
    }
    examples.push({
      premise: rec.fields[0]!.trim(),
      hypothesis: rec.fields[1]!.trim(),
      label,
      language,
      id: String(rec.line),
    });
  }
  return { examples, issues };
}
