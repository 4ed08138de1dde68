import type { Partition, SampleRecord } from "../dataset_build/sample.ts";
import { KitError } from "../util/kit_error.ts";
import type { BitextBenchmark } from "./bitext_benchmark.ts";
import { captionLanguageSets } from "./bitext_sources.ts";
import { XLMR_LANGUAGES, type XlmrGroup } from "./xlmr_languages.ts";

const XLMR_CODES: ReadonlySet<string> = new Set(XLMR_LANGUAGES.map((l) => l.code));

/** Language subtags whose XLM-R (CC-100) code is written differently. */
const LOCALE_TO_XLMR: Readonly<Record<string, string>> = {
  fil: "tl", // Filipino ≈ CC-100's Tagalog
  nb: "no",
  nn: "no", // data/xlmr_languages.json maps CC-100 "no" to both Bokmål and Nynorsk
};

/**
 * Whether a dataset locale (CLDR or Tux Paint code, normalised: `es`, `pt_PT`, `zh_Hant`,
 * `hi_Latn`, `ca@valencia`) is one of XLM-R's pretraining languages. The rule: its language
 * subtag (before `_`/`@`) is an XLM-R code, with `fil` → `tl`, `nb`/`nn` → `no`; Chinese is
 * `zh-Hant` for `Hant`/`TW`/`HK` and `zh-Hans` otherwise (both in XLM-R); a Latin-script
 * Hindi/Bengali/Tamil/Telugu/Urdu locale counts as XLM-R's romanised variant (`hi_rom`, …).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { localeXlmrGroup } from "./in_domain_bitext.ts";
 * assert(localeXlmrGroup("pt_PT") === "in-xlmr");
 * assert(localeXlmrGroup("qu") === "not-in-xlmr");
 * assert(localeXlmrGroup("yue") === "not-in-xlmr");
 * ```
 */
export function localeXlmrGroup(locale: string): XlmrGroup {
  const m = /^([A-Za-z]{2,3})(?:[_-]([A-Za-z0-9]+))?/.exec(locale);
  if (!m) throw new KitError(`localeXlmrGroup: "${locale}" is not a locale code (e.g. es, pt_PT)`);
  const lang = m[1]!.toLowerCase();
  const sub = m[2] ?? "";
  if (lang === "zh") return "in-xlmr";
  if (sub === "Latn" && XLMR_CODES.has(`${lang}_rom`)) return "in-xlmr";
  return XLMR_CODES.has(LOCALE_TO_XLMR[lang] ?? lang) ? "in-xlmr" : "not-in-xlmr";
}

/**
 * Language codes of Quechua as the kit's benchmarks write them: CLDR `qu` (with `_PE`, `@…`
 * variants) and FLORES `quy_Latn` (Ayacucho Quechua) — and not K'iche' (`quc`), a Mayan language
 * whose code also starts with "qu".
 */
export const QUECHUA_LANG = /^(qu|quy)([_@-]|$)/;

/** The K-T1 groups of a dataset locale: `all`, its XLM-R group, and `quechua` for `qu`/`qu_*`. */
export function localeGroupsOf(locale: string): string[] {
  const g = ["all", localeXlmrGroup(locale)];
  if (QUECHUA_LANG.test(locale)) g.push("quechua");
  return g;
}

/** Options of `inDomainBitextBenchmark`. */
export interface InDomainBitextOptions {
  /** A locale is kept when it names at least this many held-out concepts (default 50). */
  minNames?: number;
  /** The held-out partitions whose concepts form the benchmark (default only `test`). */
  partitions?: readonly Partition[];
}

/**
 * K-T1's in-domain bitext benchmark: the names of held-out concepts (test partition by default:
 * never trained on, never used for validation) across every locale with at least `minNames` of
 * them. One unit per concept (`group`, or the key where a sample has none): the emoji's CLDR
 * name, the stamp's description; several drawings of one emoji share one unit (the first by
 * key). Pivot = the concept's English name (`en`); every other non-English locale is one
 * parallel set, grouped as in paper K: `all`, `in-xlmr` / `not-in-xlmr` (`localeXlmrGroup`),
 * and `quechua`. Units are sorted by concept id, sets by locale.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { inDomainBitextBenchmark } from "./in_domain_bitext.ts";
 * const s = (key: string, group: string, partition: "train" | "test", qu: string) =>
 *   ({ key, group, partition, captions: { en: [`${group} en`], qu: [qu] } });
 * const b = inDomainBitextBenchmark([s("a", "emoji:1", "test", "x"), s("b", "emoji:1", "test", "x"),
 *   s("c", "emoji:2", "test", "y"), s("d", "emoji:3", "train", "z")], { minNames: 2 });
 * assert(b.pivot.length === 2 && b.sets[0]!.groups.includes("quechua"));
 * ```
 */
export function inDomainBitextBenchmark(
  samples: readonly Pick<SampleRecord, "key" | "partition" | "captions" | "group">[],
  opts: InDomainBitextOptions = {},
): BitextBenchmark {
  const minNames = opts.minNames ?? 50;
  const partitions = opts.partitions ?? ["test"];
  const byConcept = new Map<string, Pick<SampleRecord, "key" | "captions">>();
  for (const s of [...samples].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (!partitions.includes(s.partition)) continue;
    if ((s.captions.en?.[0] ?? "").trim() === "") continue;
    const concept = s.group ?? s.key;
    if (!byConcept.has(concept)) byConcept.set(concept, s);
  }
  const concepts = [...byConcept.keys()].sort();
  if (concepts.length === 0) {
    throw new KitError(
      `in-domain bitext: no ${partitions.join("/")}-partition concept has an English name`,
    );
  }
  const held = concepts.map((c) => byConcept.get(c)!);
  const { sets, skipped } = captionLanguageSets(held, minNames, localeGroupsOf);
  if (sets.length === 0) {
    throw new KitError(
      `in-domain bitext: no locale names ${minNames} or more of the ${held.length} held-out concepts`,
    );
  }
  const count = (g: string) => sets.filter((s) => s.groups.includes(g)).length;
  return {
    name: "in-domain",
    description: `held-out (${
      partitions.join("+")
    }-partition) concept names (emoji CLDR names, stamp descriptions): ${held.length} concepts, ${sets.length} locales with ≥ ${minNames} names (${
      count("in-xlmr")
    } in XLM-R's list, ${count("not-in-xlmr")} not, Quechua ${
      count("quechua") > 0 ? "included" : "absent"
    }; ${skipped.length} sparser locales left out)`,
    pivotLang: "en",
    pivot: held.map((s) => s.captions.en![0]!.trim()),
    sets,
    inputs: {
      "in-domain.concepts": String(held.length),
      "in-domain.locales": String(sets.length),
      "in-domain.partitions": partitions.join("+"),
    },
  };
}

/** Prefix of the in-domain benchmark's K-T1 groups (`in-domain:all`, `in-domain:quechua`, …). */
export const IN_DOMAIN_GROUP_PREFIX = "in-domain:";

/**
 * `inDomainBitextBenchmark` with its groups prefixed (`in-domain:all`, `in-domain:in-xlmr`,
 * `in-domain:not-in-xlmr`, `in-domain:quechua`), so that K-T1 reports them as their own rows
 * beside the FLORES groups (`all`, `in-xlmr`, …) instead of averaging the two benchmarks.
 * Smoke runs keep every locale with at least 5 names (xsim needs k + 1) and use val + test (the 60-image smoke set
 * has few held-out concepts).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { kT1InDomainBenchmark } from "./in_domain_bitext.ts";
 * const s = (key: string, group: string) =>
 *   ({ key, group, partition: "test" as const, captions: { en: [`${group} en`], qu: [`${group} qu`] } });
 * // smoke mode keeps a locale with 5 or more held-out names (xsim needs k + 1 = 5)
 * const samples = [1, 2, 3, 4, 5].map((i) => s(`k${i}`, `emoji:${i}`));
 * const b = kT1InDomainBenchmark(samples, { smoke: true });
 * assert.equal(b.pivot.length, 5);
 * assert.deepEqual(b.sets.map((set) => set.lang), ["qu"]);
 * assert(b.sets[0]!.groups.includes("in-domain:quechua"));
 * ```
 */
export function kT1InDomainBenchmark(
  samples: readonly Pick<SampleRecord, "key" | "partition" | "captions" | "group">[],
  opts: { smoke?: boolean } = {},
): BitextBenchmark {
  const b = inDomainBitextBenchmark(
    samples,
    opts.smoke ? { minNames: 5, partitions: ["val", "test"] } : {},
  );
  return {
    ...b,
    sets: b.sets.map((set) => ({
      ...set,
      groups: set.groups.map((g) => `${IN_DOMAIN_GROUP_PREFIX}${g}`),
    })),
  };
}
