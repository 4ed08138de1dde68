import type { KitConfig } from "../config/kit_config.ts";
import type { DataRegistry } from "../data/registry.ts";
import { AMERICASNLI_LANGUAGES, loadAmericasNli } from "../sources/americasnli.ts";
import { loadMultiNli } from "../sources/multinli.ts";
import { type NliExample, nliLabelId } from "../sources/nli_example.ts";
import { loadXnliOfficial, loadXnliXtreme, XNLI_LANGUAGES } from "../sources/xnli.ts";
import { KitError } from "../util/kit_error.ts";
import { splitXnliIndices, type XnliSplit } from "./xnli_split.ts";

/** Premise–hypothesis pairs in one language, as text. */
export interface NliTextPairs {
  lang: string;
  premise: string[];
  hypothesis: string[];
  /** 0 entailment, 1 neutral, 2 contradiction. */
  labels: Int32Array;
  /** The source's ids (or line numbers). */
  ids: string[];
}

/** One test language of a dataset. */
export interface NliTestSet {
  dataset: "xnli" | "americasnli";
  lang: string;
  pairs: NliTextPairs;
  /** The bootstrap unit of each row; XNLI's are shared across languages (parallel pairs). */
  units: Int32Array;
}

/** Everything K's XNLI protocol needs: English training and selection pairs, test sets. */
export interface NliBenchmark {
  description: string;
  train: NliTextPairs;
  select: NliTextPairs;
  tests: NliTestSet[];
  /** Number of bootstrap units per dataset. */
  units: Record<"xnli" | "americasnli", number>;
  /** The mini split of XNLI dev (null in the paper profile). */
  split: XnliSplit | null;
  notes: string[];
  inputs: Record<string, string>;
}

/** Text pairs from loaded examples (optionally only the rows `idx`). */
export function textPairs(
  lang: string,
  examples: readonly NliExample[],
  idx?: ArrayLike<number>,
): NliTextPairs {
  const rows = idx ? Array.from(idx, (i) => examples[i]!) : examples;
  return {
    lang,
    premise: rows.map((e) => e.premise),
    hypothesis: rows.map((e) => e.hypothesis),
    labels: Int32Array.from(rows, (e) => nliLabelId(e.label)),
    ids: rows.map((e) => e.id),
  };
}

const seq = (n: number, from = 0) => Int32Array.from({ length: n }, (_, i) => from + i);

/** Sizes of a smoke run. */
export const NLI_SMOKE = {
  xnliLanguages: ["en", "es", "sw"],
  americasLanguages: ["quy", "aym"],
  maxTrain: 150,
  maxSelect: 60,
  maxTest: 90,
} as const;

function americasTests(
  byLanguage: Record<string, NliExample[]>,
  languages: readonly string[],
  maxRows: number,
): { tests: NliTestSet[]; units: number } {
  const tests: NliTestSet[] = [];
  let offset = 0;
  for (const lang of languages) {
    const ex = (byLanguage[lang] ?? []).slice(0, maxRows);
    if (ex.length === 0) throw new KitError(`AmericasNLI test: no pairs for ${lang}`);
    // Not parallel across languages: each language's pairs are their own units (pooled).
    tests.push({
      dataset: "americasnli",
      lang,
      pairs: textPairs(lang, ex),
      units: seq(ex.length, offset),
    });
    offset += ex.length;
  }
  return { tests, units: offset };
}

/**
 * Loads K's XNLI benchmark for the run's profile.
 *
 * - **mini** (offline): XNLI dev (XTREME TSV, 15 languages × 2490 parallel pairs) split once by
 *   {@link splitXnliIndices} (seeded, by English premise): English-train, English-select, and
 *   test indices evaluated in all 15 languages (English included); AmericasNLI **test** (10
 *   languages incl. quy). Checks that the 15 files are parallel (same size, same labels).
 * - **paper**: MultiNLI train (English training), MultiNLI dev matched + mismatched (selection,
 *   as K's `NLI/nli.py` at nkrasner/cl-clip-align@d75b729 "dev" vectors), XNLI test (15 languages, aligned by pairID),
 *   AmericasNLI test. A KitError says what to fetch if absent.
 * - **smoke**: 3 XNLI languages, 2 AmericasNLI languages, a few dozen pairs each.
 */
export async function loadNliBenchmark(
  cfg: Pick<KitConfig, "profile" | "smoke">,
  registry: DataRegistry,
  opts: { seed: number },
): Promise<NliBenchmark> {
  const smoke = cfg.smoke;
  const anli = await registry.resolve("americasnli");
  const americasLangs = smoke ? NLI_SMOKE.americasLanguages : AMERICASNLI_LANGUAGES;
  const am = await loadAmericasNli(anli.root, "test", americasLangs);
  const americas = americasTests(
    am.byLanguage,
    americasLangs,
    smoke ? NLI_SMOKE.maxTest : Infinity,
  );
  const inputs: Record<string, string> = { "americasnli.manifest": anli.manifestSha256 };

  if (cfg.profile === "paper") {
    const mnli = await registry.resolve("multinli-1.0");
    const xnli = await registry.resolve("xnli-1.0");
    const train = await loadMultiNli(
      await registry.resolveFile("multinli-1.0", "multinli_1.0_train.jsonl"),
    );
    const matched = await loadMultiNli(
      await registry.resolveFile("multinli-1.0", "multinli_1.0_dev_matched.jsonl"),
    );
    const mismatched = await loadMultiNli(
      await registry.resolveFile("multinli-1.0", "multinli_1.0_dev_mismatched.jsonl"),
    );
    const test = await loadXnliOfficial(await registry.resolveFile("xnli-1.0", "xnli.test.tsv"));
    const en = test.byLanguage.en ?? [];
    const unitOf = new Map(en.map((e, i) => [e.id, i]));
    const tests: NliTestSet[] = [];
    for (const lang of XNLI_LANGUAGES) {
      const ex = (test.byLanguage[lang] ?? []).filter((e) => unitOf.has(e.id));
      if (ex.length === 0) throw new KitError(`XNLI test: no pairs for ${lang} in xnli.test.tsv`);
      tests.push({
        dataset: "xnli",
        lang,
        pairs: textPairs(lang, ex),
        units: Int32Array.from(ex, (e) => unitOf.get(e.id)!),
      });
    }
    return {
      description:
        "MultiNLI train (English) → select on MultiNLI dev matched + mismatched → test on XNLI test (15 languages) and AmericasNLI test",
      train: textPairs("en", train.examples),
      select: textPairs("en", [...matched.examples, ...mismatched.examples]),
      tests: [...tests, ...americas.tests],
      units: { xnli: en.length, americasnli: americas.units },
      split: null,
      notes: [
        `MultiNLI: ${train.examples.length} training pairs (${train.issues.length} without a gold label or malformed, left out).`,
        `Model selection: MultiNLI dev matched (${matched.examples.length}) + mismatched (${mismatched.examples.length}) pairs.`,
      ],
      inputs: {
        ...inputs,
        "multinli.manifest": mnli.manifestSha256,
        "xnli.manifest": xnli.manifestSha256,
      },
    };
  }

  const xr = await registry.resolve("xnli-dev");
  inputs["xnli-dev.manifest"] = xr.manifestSha256;
  const langs = smoke ? NLI_SMOKE.xnliLanguages : XNLI_LANGUAGES;
  const byLang: Record<string, NliExample[]> = {};
  for (const lang of langs) {
    const r = await loadXnliXtreme(await registry.resolveFile("xnli-dev", `dev-${lang}.tsv`), lang);
    if (r.issues.length > 0) {
      throw new KitError(
        `XNLI dev-${lang}.tsv: ${r.issues.length} malformed lines`,
        r.issues.slice(0, 3).map((i) => JSON.stringify(i)),
      );
    }
    byLang[lang] = r.examples;
  }
  const en = byLang.en;
  if (!en) {
    throw new KitError("XNLI dev: the English file dev-en.tsv is required (training language)");
  }
  for (const lang of langs) {
    const ex = byLang[lang]!;
    if (ex.length !== en.length || ex.some((e, i) => e.label !== en[i]!.label)) {
      throw new KitError(
        `XNLI dev-${lang}.tsv is not parallel to dev-en.tsv (size or labels differ)`,
      );
    }
  }
  const split = splitXnliIndices(en.map((e) => e.premise), { seed: opts.seed });
  const cut = (idx: Int32Array, max: number) => (smoke ? idx.slice(0, max) : idx);
  const trainIdx = cut(split.train, NLI_SMOKE.maxTrain);
  const selectIdx = cut(split.select, NLI_SMOKE.maxSelect);
  const testIdx = cut(split.test, NLI_SMOKE.maxTest);
  const tests: NliTestSet[] = langs.map((lang) => ({
    dataset: "xnli",
    lang,
    pairs: textPairs(lang, byLang[lang]!, testIdx),
    units: seq(testIdx.length),
  }));
  return {
    description:
      `XNLI dev split once (seed ${opts.seed}, by English premise): ${trainIdx.length} English training pairs, ${selectIdx.length} English selection pairs, ${testIdx.length} test pairs in each of ${langs.length} languages; AmericasNLI test (${americasLangs.length} languages)`,
    train: textPairs("en", en, trainIdx),
    select: textPairs("en", en, selectIdx),
    tests: [...tests, ...americas.tests],
    units: { xnli: testIdx.length, americasnli: americas.units },
    split,
    notes: [
      "Offline stand-in: MultiNLI (K's training data) and XNLI test labels are not in the mirror, so the English classifier is trained and selected on disjoint parts of XNLI dev English and tested on the remaining XNLI dev pairs in every language.",
      ...(smoke ? ["Smoke run: a few dozen pairs per part; numbers are not results."] : []),
    ],
    inputs,
  };
}
