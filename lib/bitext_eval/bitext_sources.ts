import type { KitConfig } from "../config/kit_config.ts";
import type { DataRegistry } from "../data/registry.ts";
import type { SampleRecord } from "../dataset_build/sample.ts";
import { loadFlores } from "../sources/flores.ts";
import { loadSib200 } from "../sources/sib200.ts";
import type { ParallelSentences } from "../sources/parallel_sentences.ts";
import { KitError } from "../util/kit_error.ts";
import type { BitextBenchmark, BitextLanguageSet } from "./bitext_benchmark.ts";
import { xlmrGroupOf } from "./xlmr_languages.ts";

/** FLORES-200's English and Quechua codes. */
export const FLORES_PIVOT = "eng_Latn";
export const FLORES_QUECHUA = "quy_Latn";

/** Languages of a smoke run's FLORES subset (in and not in XLM-R, Quechua included). */
export const SMOKE_FLORES_LANGUAGES: readonly string[] = [
  "eng_Latn",
  "spa_Latn",
  "hin_Deva",
  "quy_Latn",
  "ayr_Latn",
];

/** The K-T1 groups of a FLORES language: `all`, its XLM-R group, and `quechua` for quy_Latn. */
export function floresGroupsOf(lang: string): string[] {
  const g = ["all", xlmrGroupOf(lang)];
  if (lang === FLORES_QUECHUA) g.push("quechua");
  return g;
}

/**
 * A FLORES-style bitext benchmark from parallel sentences: English (`eng_Latn`) is the pivot,
 * every other language a set whose row i translates English sentence i. `maxSentences` keeps the
 * first rows only (smoke runs).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { floresBenchmarkFrom } from "./bitext_sources.ts";
 * const b = floresBenchmarkFrom({ languages: ["eng_Latn", "quy_Latn"], ids: ["1"],
 *   sentences: { eng_Latn: ["Hello."], quy_Latn: ["Napaykullayki."] } }, "demo");
 * assert(b.sets[0]!.groups.includes("quechua"));
 * ```
 */
export function floresBenchmarkFrom(
  parallel: ParallelSentences,
  description: string,
  opts: { maxSentences?: number; languages?: readonly string[] } = {},
): BitextBenchmark {
  const eng = parallel.sentences[FLORES_PIVOT];
  if (!eng) {
    throw new KitError(
      `${description}: no ${FLORES_PIVOT} sentences; the bitext benchmark pivots on English`,
      [`languages loaded: ${parallel.languages.join(", ")}`],
    );
  }
  const n = Math.min(eng.length, opts.maxSentences ?? Infinity);
  const units = Int32Array.from({ length: n }, (_, i) => i);
  const wanted = opts.languages ? new Set(opts.languages) : null;
  const sets: BitextLanguageSet[] = parallel.languages
    .filter((l) => l !== FLORES_PIVOT && (!wanted || wanted.has(l)))
    .map((lang) => ({
      lang,
      texts: parallel.sentences[lang]!.slice(0, n),
      units,
      groups: floresGroupsOf(lang),
    }));
  return {
    name: "flores",
    description,
    pivotLang: FLORES_PIVOT,
    pivot: eng.slice(0, n),
    sets,
    inputs: { "flores.sentences": String(n), "flores.languages": String(sets.length) },
  };
}

/**
 * Loads K's bitext benchmark for the run's profile. Paper: FLORES-200 devtest, every language
 * (registry dataset `flores200`; a KitError saying how to fetch it when absent). Mini: the SIB-200
 * copy of FLORES-200, **test split only** (204 sentences, 14 languages incl. quy, ayr, grn).
 * Smoke: the first 24 SIB-200 test sentences of five languages.
 */
export async function loadFloresBitextBenchmark(
  cfg: Pick<KitConfig, "profile" | "smoke">,
  registry: DataRegistry,
): Promise<BitextBenchmark> {
  if (cfg.profile === "paper") {
    const r = await registry.resolve("flores200");
    const parallel = await loadFlores(r.root, { split: "devtest" });
    const b = floresBenchmarkFrom(parallel, `FLORES-200 devtest (${r.source} ${r.root})`);
    b.inputs["flores200.manifest"] = r.manifestSha256;
    return b;
  }
  const r = await registry.resolve("sib200");
  const languages = cfg.smoke ? SMOKE_FLORES_LANGUAGES : undefined;
  const parallel = await loadSib200(r.root, {
    splits: ["test"],
    ...(languages ? { languages } : {}),
  });
  if (parallel.issues.length > 0) {
    throw new KitError(
      `SIB-200 test split: ${parallel.issues.length} sentences not aligned across languages`,
      parallel.issues.slice(0, 3).map((i) => JSON.stringify(i)),
    );
  }
  const b = floresBenchmarkFrom(
    parallel,
    `SIB-200 copy of FLORES-200, test split (${parallel.ids.length} sentences${
      cfg.smoke ? ", smoke: first 24" : ""
    }) standing in for FLORES-200 devtest`,
    cfg.smoke ? { maxSentences: 24 } : {},
  );
  b.inputs["sib200.manifest"] = r.manifestSha256;
  return b;
}

/** English and its regional variants as Tux Paint writes them (`en`, `en_GB`, `en_AU`, …). */
export function isEnglishLocale(lang: string): boolean {
  return /^en([_@-]|$)/.test(lang);
}

/**
 * The held-out stamp-caption benchmark: test-partition stamps only (never train/val, which the
 * mini models are trained and validated on), one unit per concept (`group`, else key). Pivot = each stamp's first English caption; for
 * every other locale with a caption on at least `minPairs` test stamps (English variants left
 * out), one set of those stamps' first captions in that locale.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { stampBitextBenchmark } from "./bitext_sources.ts";
 * const s = (key: string, partition: "train" | "test", es: string) => ({ key, partition,
 *   captions: { en: [`a ${key}`], es: [es] } });
 * const b = stampBitextBenchmark([s("a", "test", "x"), s("b", "train", "y"), s("c", "test", "z")], { minPairs: 2 });
 * assert(b.pivot.length === 2 && b.sets[0]!.lang === "es");
 * ```
 */
export function stampBitextBenchmark(
  samples: readonly (Pick<SampleRecord, "key" | "partition" | "captions"> & { group?: string })[],
  opts: { minPairs?: number } = {},
): BitextBenchmark {
  const minPairs = opts.minPairs ?? 20;
  // One unit per concept: several drawings of one emoji (same `group`) share their names, and
  // repeated pivots would make the ground truth ambiguous; the first by key is kept.
  const seenGroups = new Set<string>();
  const held = samples
    .filter((s) => s.partition === "test" && (s.captions.en?.[0] ?? "").trim() !== "")
    .slice()
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .filter((s) => {
      const g = s.group ?? s.key;
      return seenGroups.has(g) ? false : (seenGroups.add(g), true);
    });
  if (held.length === 0) {
    throw new KitError("stamp bitext: no test-partition stamp has an English caption");
  }
  const { sets, skipped } = captionLanguageSets(held, minPairs, () => ["stamps"]);
  if (sets.length === 0) {
    throw new KitError(
      `stamp bitext: no language has captions on ${minPairs} or more of the ${held.length} test stamps`,
    );
  }
  return {
    name: "stamps",
    description:
      `held-out (test-partition) stamp captions: ${held.length} stamps, ${sets.length} languages with ≥ ${minPairs} captions (${skipped.length} sparser locales left out)`,
    pivotLang: "en",
    pivot: held.map((s) => s.captions.en![0]!.trim()),
    sets,
    inputs: { "stamps.test": String(held.length), "stamps.languages": String(sets.length) },
  };
}

/**
 * One parallel set per non-English caption language of `held` (unit u = `held[u]`, its first
 * caption in that language, trimmed), languages in sorted order; a language with fewer than
 * `minCount` captions is `skipped`.
 */
export function captionLanguageSets(
  held: readonly { captions: Readonly<Record<string, readonly string[] | undefined>> }[],
  minCount: number,
  groupsOf: (lang: string) => string[],
): { sets: BitextLanguageSet[]; skipped: string[] } {
  const langs = new Set<string>();
  for (const s of held) {
    for (const l of Object.keys(s.captions)) if (!isEnglishLocale(l)) langs.add(l);
  }
  const sets: BitextLanguageSet[] = [];
  const skipped: string[] = [];
  for (const lang of [...langs].sort()) {
    const texts: string[] = [], units: number[] = [];
    held.forEach((s, u) => {
      const t = s.captions[lang]?.[0]?.trim();
      if (t) {
        texts.push(t);
        units.push(u);
      }
    });
    if (texts.length >= minCount) {
      sets.push({ lang, texts, units: Int32Array.from(units), groups: groupsOf(lang) });
    } else skipped.push(lang);
  }
  return { sets, skipped };
}
