import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import type { ParallelSentences } from "./parallel_sentences.ts";
import { type SourceIssue, sourceIssue } from "./source_issue.ts";
import { headerIndex, pathExists, readTsv } from "./text_io.ts";

export type Sib200Split = "train" | "dev" | "test";

/** The languages (folders such as `eng_Latn`) of a SIB-200 copy, sorted. */
export async function listSib200Languages(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isDirectory && (await pathExists(join(root, e.name, "dev.tsv")))) out.push(e.name);
  }
  return out.sort();
}

/**
 * Loads SIB-200 (`<root>/<lang>/{train,dev,test}.tsv` with columns `index_id`, `category`,
 * `text`) as parallel FLORES-200 sentences aligned by `index_id`: rows follow the first
 * language's file order, split by split. An `index_id` missing from some language is dropped
 * from all, with an issue. In offline runs this stands in for FLORES-200 devtest (1004
 * sentences over the three splits instead of 1012).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSib200 } from "./sib200.ts";
 * import { dataRegistry } from "../data/registry.ts";
 * const root = (await dataRegistry().resolve("sib200")).root; // cache or mirror
 * const s = await loadSib200(root, { languages: ["eng_Latn", "quy_Latn"] });
 * // s.sentences.quy_Latn[i] translates s.sentences.eng_Latn[i]; s.labels.category[i] is its topic
 * assert.equal(s.sentences.eng_Latn?.length, 1004); // SIB-200: 701 train + 99 dev + 204 test
 * assert.equal(s.sentences.quy_Latn?.length, 1004);
 * assert.equal(s.labels.category.length, 1004);
 * assert.equal(new Set(s.labels.category).size, 7); // seven topics
 * ```
 */
export async function loadSib200(
  root: string,
  opts: { languages?: readonly string[]; splits?: readonly Sib200Split[] } = {},
): Promise<
  ParallelSentences & { labels: { category: string[]; split: string[] }; issues: SourceIssue[] }
> {
  const languages = opts.languages ? [...opts.languages] : await listSib200Languages(root);
  const splits = opts.splits ?? ["train", "dev", "test"];
  if (languages.length === 0) throw new KitError(`SIB-200: no language folders in ${root}`);
  const issues: SourceIssue[] = [];
  const ids: string[] = [];
  const category: string[] = [];
  const splitOf: string[] = [];
  const sentences: Record<string, string[]> = Object.fromEntries(languages.map((l) => [l, []]));
  for (const split of splits) {
    const perLang = new Map<string, Map<string, { text: string; category: string }>>();
    const order: string[] = [];
    for (const [li, lang] of languages.entries()) {
      const path = join(root, lang, `${split}.tsv`);
      if (!(await pathExists(path))) throw new KitError(`SIB-200: no file ${path}`);
      const rows = new Map<string, { text: string; category: string }>();
      let idx: Map<string, number> | null = null;
      for await (const rec of readTsv(path)) {
        if (idx === null) {
          idx = headerIndex(path, rec.fields, ["index_id", "category", "text"]);
          continue;
        }
        if (rec.fields.length === 1 && rec.fields[0]!.trim() === "") continue;
        const id = rec.fields[idx.get("index_id")!]?.trim() ?? "";
        const text = rec.fields[idx.get("text")!]?.trim() ?? "";
        if (id === "" || text === "") {
          issues.push(
            sourceIssue("sib200", `${lang}/${split}.tsv`, "malformed line", {
              line: rec.line,
              detail: "missing index_id or text",
            }),
          );
          continue;
        }
        rows.set(id, { text, category: rec.fields[idx.get("category")!]?.trim() ?? "" });
        if (li === 0) order.push(id);
      }
      perLang.set(lang, rows);
    }
    for (const id of order) {
      const missing = languages.filter((l) => !perLang.get(l)!.has(id));
      if (missing.length > 0) {
        issues.push(sourceIssue("sib200", `${split}.tsv`, "sentence missing in some languages", {
          detail: `index_id ${id} absent from ${missing.join(", ")}`,
        }));
        continue;
      }
      ids.push(id);
      splitOf.push(split);
      category.push(perLang.get(languages[0]!)!.get(id)!.category);
      for (const l of languages) sentences[l]!.push(perLang.get(l)!.get(id)!.text);
    }
  }
  return { languages, ids, sentences, labels: { category, split: splitOf }, issues };
}
