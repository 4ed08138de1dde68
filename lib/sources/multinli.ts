import { basename } from "node:path";
import { type NliExample, parseNliLabel } from "./nli_example.ts";
import { type SourceIssue, sourceIssue } from "./source_issue.ts";
import { readLines } from "./text_io.ts";

/**
 * Streams MultiNLI 1.0 JSON lines (`multinli_1.0_train.jsonl`, `..._dev_matched.jsonl`; fields
 * `sentence1`, `sentence2`, `gold_label`, `genre`, `pairID`). Pairs whose `gold_label` is `-`
 * (annotators disagreed, dev sets only) are `skipped` issues; lines that are not valid JSON or
 * lack fields are `rejected` issues. Issues go to `onIssue` (default: dropped into the returned
 * generator's final count only when collected by `loadMultiNli`).
 */
export async function* streamMultiNli(
  path: string,
  onIssue: (issue: SourceIssue) => void = () => {},
): AsyncGenerator<NliExample> {
  const file = basename(path);
  for await (const { line, text } of readLines(path)) {
    if (text.trim() === "") continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(text);
    } catch {
      onIssue(sourceIssue("multinli", file, "malformed line", { line, detail: "not valid JSON" }));
      continue;
    }
    const s1 = r.sentence1, s2 = r.sentence2, gl = r.gold_label;
    if (typeof s1 !== "string" || typeof s2 !== "string" || typeof gl !== "string") {
      onIssue(
        sourceIssue("multinli", file, "malformed line", {
          line,
          detail: "missing sentence1/sentence2/gold_label",
        }),
      );
      continue;
    }
    const label = parseNliLabel(gl);
    if (!label) {
      onIssue(sourceIssue("multinli", file, gl.trim() === "-" ? "no gold label" : "unknown label", {
        line,
        detail: gl,
        action: gl.trim() === "-" ? "skipped" : "rejected",
      }));
      continue;
    }
    const ex: NliExample = {
      premise: s1.trim(),
      hypothesis: s2.trim(),
      label,
      language: "en",
      id: typeof r.pairID === "string" ? r.pairID : String(line),
    };
    if (typeof r.genre === "string") ex.genre = r.genre;
    yield ex;
  }
}

/**
 * Reads a whole MultiNLI jsonl file (see `streamMultiNli`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadMultiNli } from "./multinli.ts";
 * const p = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(p, JSON.stringify({ sentence1: "A", sentence2: "B", gold_label: "neutral", pairID: "1n" }) + "\n");
 * const { examples } = await loadMultiNli(p);
 * assert(examples[0]!.label === "neutral");
 * ```
 */
export async function loadMultiNli(
  path: string,
): Promise<{ examples: NliExample[]; issues: SourceIssue[] }> {
  const issues: SourceIssue[] = [];
  const examples: NliExample[] = [];
  for await (const ex of streamMultiNli(path, (i) => issues.push(i))) examples.push(ex);
  return { examples, issues };
}
