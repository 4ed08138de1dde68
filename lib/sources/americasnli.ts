import { basename, join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { type NliExample, parseNliLabel } from "./nli_example.ts";
import { clipText, type SourceIssue, sourceIssue } from "./source_issue.ts";
import { headerIndex, pathExists, readTsv } from "./text_io.ts";

/** The ten AmericasNLI languages (`quy` = Quechua). */
export const AMERICASNLI_LANGUAGES = [
  "aym",
  "bzd",
  "cni",
  "gn",
  "hch",
  "nah",
  "oto",
  "quy",
  "shp",
  "tar",
] as const;

/**
 * Reads an AmericasNLI TSV (header `id language premise hypothesis label`), either one
 * language's file (`test/quy.tsv`) or the combined `anli.test.tsv`. Returns pairs by language.
 */
export async function loadAmericasNliFile(
  path: string,
): Promise<{ byLanguage: Record<string, NliExample[]>; issues: SourceIssue[] }> {
  const byLanguage: Record<string, NliExample[]> = {};
  const issues: SourceIssue[] = [];
  const file = basename(path);
  let idx: Map<string, number> | null = null;
  for await (const rec of readTsv(path)) {
    if (idx === null) {
      idx = headerIndex(path, rec.fields, ["language", "premise", "hypothesis", "label"]);
      continue;
    }
    if (rec.fields.length === 1 && rec.fields[0]!.trim() === "") continue;
    if (rec.fields.length < idx.size) {
      issues.push(
        sourceIssue("americasnli", file, "malformed line", {
          line: rec.line,
          detail: `${rec.fields.length} fields, header has ${idx.size}`,
        }),
      );
      continue;
    }
    const f = (c: string) => rec.fields[idx!.get(c)!]!.trim();
    const label = parseNliLabel(f("label"));
    if (!label) {
      issues.push(
        sourceIssue("americasnli", file, "unknown label", {
          line: rec.line,
          detail: clipText(f("label")),
        }),
      );
      continue;
    }
    const language = f("language");
    const idCol = idx.get("id");
    (byLanguage[language] ??= []).push({
      premise: f("premise"),
      hypothesis: f("hypothesis"),
      label,
      language,
      id: idCol === undefined ? String(rec.line) : rec.fields[idCol]!.trim(),
    });
  }
  if (idx === null) throw new KitError(`${path}: empty file`);
  return { byLanguage, issues };
}

/**
 * Loads AmericasNLI from the upstream layout `<root>/<split>/<lang>.tsv` (split `dev` or `test`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadAmericasNli } from "./americasnli.ts";
 * import { dataRegistry } from "../data/registry.ts";
 * const root = (await dataRegistry().resolve("americasnli")).root; // cache or mirror
 * const { byLanguage, issues } = await loadAmericasNli(root, "test", ["quy"]);
 * assert.equal(byLanguage.quy?.length, 750); // AmericasNLI's test set: 750 pairs a language
 * assert.deepEqual(issues, []);
 * assert.equal(byLanguage.quy![0]!.language, "quy");
 * await assert.rejects(() => loadAmericasNli(root, "test", ["xx"]), /AmericasNLI: no file/);
 * ```
 */
export async function loadAmericasNli(
  root: string,
  split: "dev" | "test",
  languages: readonly string[] = AMERICASNLI_LANGUAGES,
): Promise<{ byLanguage: Record<string, NliExample[]>; issues: SourceIssue[] }> {
  const byLanguage: Record<string, NliExample[]> = {};
  const issues: SourceIssue[] = [];
  for (const lang of languages) {
    const path = join(root, split, `${lang}.tsv`);
    if (!(await pathExists(path))) throw new KitError(`AmericasNLI: no file ${path}`);
    const r = await loadAmericasNliFile(path);
    issues.push(...r.issues);
    byLanguage[lang] = r.byLanguage[lang] ?? [];
    for (const other of Object.keys(r.byLanguage)) {
      if (other !== lang) {
        issues.push(
          sourceIssue("americasnli", `${split}/${lang}.tsv`, "unexpected language", {
            detail: `${r.byLanguage[other]!.length} rows labelled ${other}`,
          }),
        );
      }
    }
  }
  return { byLanguage, issues };
}
