import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import type { ParallelSentences } from "./parallel_sentences.ts";
import { pathExists, readAllLines } from "./text_io.ts";

/** The FLORES-200 splits: `dev` (997 sentences) and `devtest` (1012). */
export type FloresSplit = "dev" | "devtest";

/** The languages (e.g. `eng_Latn`) with a file in `<root>/<split>/`, sorted. */
export async function listFloresLanguages(
  root: string,
  split: FloresSplit = "devtest",
): Promise<string[]> {
  const dir = join(root, split);
  if (!(await pathExists(dir))) {
    throw new KitError(
      `FLORES-200: no folder ${dir} (expected the official layout ${split}/<lang>.${split})`,
    );
  }
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = new RegExp(`^(.+)\\.${split}$`).exec(e.name);
    if (e.isFile && m) out.push(m[1]!);
  }
  return out.sort();
}

/**
 * Loads FLORES-200 in the official layout (`flores200_dataset/devtest/<lang>.devtest`, one
 * sentence a line, line i of every file a translation of line i of the others). `languages`
 * default to every file in the split. Files of different lengths are an error.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadFlores } from "./flores.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/devtest`);
 * await Deno.writeTextFile(`${root}/devtest/eng_Latn.devtest`, "A dog.\nA cat.\n");
 * await Deno.writeTextFile(`${root}/devtest/quy_Latn.devtest`, "Allqu.\nMisi.\n");
 * const f = await loadFlores(root, { languages: ["eng_Latn", "quy_Latn"] });
 * assert.equal(f.sentences.quy_Latn![1], "Misi."); // translates f.sentences.eng_Latn[1]
 * await Deno.writeTextFile(`${root}/devtest/quy_Latn.devtest`, "Allqu.\n");
 * await assert.rejects(loadFlores(root), /must be line-aligned/);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function loadFlores(
  root: string,
  opts: { split?: FloresSplit; languages?: readonly string[] } = {},
): Promise<ParallelSentences> {
  const split = opts.split ?? "devtest";
  const languages = opts.languages ? [...opts.languages] : await listFloresLanguages(root, split);
  if (languages.length === 0) {
    throw new KitError(`FLORES-200: no languages in ${join(root, split)}`);
  }
  const sentences: Record<string, string[]> = {};
  let n = -1;
  let first = "";
  for (const lang of languages) {
    const path = join(root, split, `${lang}.${split}`);
    if (!(await pathExists(path))) {
      throw new KitError(`FLORES-200: no file ${path}`, [`available: see ${join(root, split)}`]);
    }
    const lines = await readAllLines(path);
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
    if (n < 0) {
      n = lines.length;
      first = path;
    } else if (lines.length !== n) {
      throw new KitError(
        `FLORES-200: ${path} has ${lines.length} sentences, ${first} has ${n} (files must be line-aligned)`,
      );
    }
    sentences[lang] = lines.map((l) => l.trim());
  }
  return { languages, ids: Array.from({ length: n }, (_, i) => String(i + 1)), sentences };
}
