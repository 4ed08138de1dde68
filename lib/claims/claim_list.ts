import type { ClaimSpec, Locator } from "./claim_spec.ts";
import type { ItemSelector } from "./item_outcomes.ts";
import { K_SETUP_LABELS, type KSetupId } from "../encoders/encoder.ts";
import { QUECHUA_LANG } from "../bitext_eval/in_domain_bitext.ts";
import { publishedScore } from "../bitext_eval/bitext_table.ts";
import { D_TEX, K_ARXIV } from "../paper/paper_citation.ts";

/** Where [K] says it: its table, with the paper's arXiv id, and what the table shows. */
const kTable = (table: 1 | 2, what: string) => `[K] Table ${table}, ${K_ARXIV} (${what})`;
/**
 * Where [D] says it: its table and section, with the sentence quoted from the paper's LaTeX
 * source at the authors' pinned commit (file and line).
 */
const dText = (where: string, file: string, line: number, quote: string) =>
  `[D] ${where} (${D_TEX}/${file} line ${line}: '${quote}')`;

/** Thresholds of the qualitative words, in the artifacts' units (fractions). */
export const CLAIM_THRESHOLDS = {
  /** "Without hurting other languages much": the other languages' mean bitext accuracy drops ≤ 2 points. */
  notMuchDrop: 0.02,
  /** Pivot retrieval "flat" (linear head): macro R@1 rises by at most 0.005. */
  flat: 0.005,
  /** Hubness "about the same": skewness / hub ratio change by at most 10 % of the before value. */
  hubnessRelative: 0.10,
  /** Lang-ID accuracy "about the same": changes by at most 0.02 (chance is 1/9 ≈ 0.111). */
  langIdAbsolute: 0.02,
} as const;

/**
 * Per-item outcome series behind the artifacts (lib/claims/item_outcomes.ts): `K-T1` (per FLORES
 * sentence, mean of both directions, keyed setup/benchmark/lang/score), `K-T2` (per test pair,
 * keyed setup/dataset/lang) and `D` (per holdout item of every fold, keyed head/metric/lang).
 */
const bitextItems = (setup: KSetupId, group: string, benchmark: string): ItemSelector => ({
  items: "K-T1",
  where: { setup, score: publishedScore(setup), benchmark },
  group,
});
/** D's per-item metric behind each macro table's R@1 and each Table 6 row that has one. */
export const D_ITEM_METRICS: Readonly<Record<string, string>> = {
  "D-T1": "t2i_r1",
  "D-T2": "t2i_r1",
  "D-T3": "i2t_r1",
  "D-T5": "pivot_r1",
  meanCosine: "mean_cosine",
};

/**
 * The bitext benchmark on which K's bitext claims (K1a, K1b, K2a, K2b) are decided, per profile.
 * Paper: FLORES, as in K's Table 1. Mini: the in-domain benchmark (held-out concept names, 145
 * locales × 1,017 concepts), because the mini models never saw news-style text and the mini
 * FLORES rows are 204 SIB-200 sentences in 13 languages, too few for their intervals to decide
 * anything (deviation `k-mini-claims-in-domain`); K-T1 reports both.
 */
export const K_CLAIM_BITEXT: Readonly<
  Record<"mini" | "paper", { benchmark: string; groupPrefix: string; words: string }>
> = {
  paper: { benchmark: "flores", groupPrefix: "", words: "" },
  mini: {
    benchmark: "in-domain",
    groupPrefix: "in-domain:",
    words: "; mini: in-domain held-out concept names",
  },
};
type KClaimBitext = (typeof K_CLAIM_BITEXT)[keyof typeof K_CLAIM_BITEXT];

/**
 * A setup's bitext accuracy on the score K-T1 compares with the published value for that setup
 * (`publishedScore`: xsim for XLM-R and Eng-Pivot, cosine for the image-tuned setups) — one rule
 * for the claims, K-T1's `compared` rows and data/paper/k_published.json.
 */
const bitext = (setup: KSetupId, group: string, on: KClaimBitext): Locator => ({
  artifact: "K-T1",
  where: { setup, group: `${on.groupPrefix}${group}`, score: publishedScore(setup) },
  field: "mean",
  label: `${K_SETUP_LABELS[setup]} bitext (${on.groupPrefix}${group}, ${
    publishedScore(setup)
  }, mean of both directions)`,
  items: bitextItems(setup, `${on.groupPrefix}${group}`, on.benchmark),
});
const xnli = (setup: KSetupId): Locator => ({
  artifact: "K-T2",
  where: { setup, dataset: "xnli", lang: "avg" },
  field: "accuracy",
  label: `${K_SETUP_LABELS[setup]} XNLI average accuracy`,
  items: { items: "K-T2", where: { setup, dataset: "xnli" } },
});
const macro = (artifact: string, metric: string, head: string, what: string): Locator => ({
  artifact,
  where: { metric },
  field: `${head}_mean`,
  label: `${what} macro ${metric} (${head})`,
  ...(metric === "R@1" && D_ITEM_METRICS[artifact]
    ? { items: { items: "D", where: { head, metric: D_ITEM_METRICS[artifact]! } } }
    : {}),
});
/**
 * Table 6's rows that are statistics of per-item outcomes within each fold, averaged over folds:
 * hubness from the k-occurrences, lang-ID accuracy from the probe's test rows (all languages of
 * a fold pooled, as the probe scores them); effective rank and Gram correlation from the
 * notebook's bootstrap replicates (`replicates` in `items/D.json`).
 */
const D_PER_FOLD: Readonly<
  Record<
    string,
    { metric: string; reduce: "skewness" | "hubRatio" | "pooledPerStratum" | "replicates" }
  >
> = {
  // set statistics: no per-item outcome; the notebook recomputes them on the claims' resamples
  effectiveRank: { metric: "effective_rank", reduce: "replicates" },
  gramCorrelation: { metric: "gram_correlation", reduce: "replicates" },
  hubSkewness: { metric: "k_occurrence_share", reduce: "skewness" },
  hubRatio: { metric: "k_occurrence_share", reduce: "hubRatio" },
  langIdAccuracy: { metric: "lang_id", reduce: "pooledPerStratum" },
};
const diag = (key: string, head: string, what: string): Locator => ({
  artifact: "D-T6",
  where: { diagnostic: key },
  field: `${head}_mean`,
  label: `${what} (${head})`,
  ...(D_ITEM_METRICS[key]
    ? { items: { items: "D", where: { head, metric: D_ITEM_METRICS[key]! } } }
    : D_PER_FOLD[key]
    ? {
      items: {
        items: "D",
        where: { head, metric: D_PER_FOLD[key].metric },
        reduce: D_PER_FOLD[key].reduce,
      },
    }
    : {}),
});

/** K's bitext claims (K1a, K1b, K2a, K2b), decided on benchmark `on`. */
const kBitextClaims = (on: KClaimBitext): ClaimSpec[] => [
  {
    id: "K1a",
    paper: "K",
    claim: `Bitext retrieval: Eng-Only < Multilingual (all languages${on.words})`,
    source: kTable(1, "all languages: Eng-Only 18.3 vs Multilingual 55.7"),
    test: {
      kind: "greater",
      a: bitext("multilingual", "all", on),
      b: bitext("eng-only", "all", on),
      margin: 0,
    },
  },
  {
    id: "K1b",
    paper: "K",
    claim: `Bitext retrieval: Multilingual < Eng-Pivot (all languages${on.words})`,
    source: kTable(1, "all languages: Multilingual 55.7 vs Eng-Pivot 62.2"),
    test: {
      kind: "greater",
      a: bitext("eng-pivot", "all", on),
      b: bitext("multilingual", "all", on),
      margin: 0,
    },
  },
  {
    id: "K2a",
    paper: "K",
    claim:
      `Adding Quechua captions raises Quechua bitext accuracy (Multilingual → Multilingual + Quechua${on.words})`,
    source: kTable(1, "Quechua: Multilingual 18.0 → Multilingual + Quechua 29.2"),
    test: {
      kind: "greater",
      a: bitext("multilingual-qu", "quechua", on),
      b: bitext("multilingual", "quechua", on),
      margin: 0,
    },
  },
  {
    id: "K2b",
    paper: "K",
    claim: `Adding Quechua captions does not hurt bitext accuracy on the other languages much${
      on.words ? ` (${on.words.slice(2)})` : ""
    }`,
    source: kTable(1, "Multilingual vs Multilingual + Quechua on the other language groups"),
    test: {
      kind: "otherLanguagesNotHurt",
      artifact: "K-T1-LANGS",
      setupField: "setup",
      with: "multilingual-qu",
      without: "multilingual",
      where: { score: publishedScore("multilingual-qu"), benchmark: on.benchmark },
      langField: "lang",
      // Quechua only (qu, qu_*, quy_Latn): K'iche' (quc) is one of the other languages
      exclude: QUECHUA_LANG.source,
      field: "mean",
      maxDrop: CLAIM_THRESHOLDS.notMuchDrop,
      items: {
        items: "K-T1",
        where: { score: publishedScore("multilingual-qu"), benchmark: on.benchmark },
      },
    },
  },
];

/**
 * Every qualitative claim of the two papers ([K] arXiv:2505.13628; [D] Di Iorio 2026, cited by
 * its LaTeX source at the authors' pinned commit), compound claims split into one row each, with
 * the rule (and thresholds) that decides it. K's bitext claims here are the paper profile's
 * (FLORES); {@link claimsForProfile} gives a profile's list.
 */
export const CLAIMS: readonly ClaimSpec[] = [
  ...kBitextClaims(K_CLAIM_BITEXT.paper),
  ...(["eng-only", "multilingual", "multilingual-qu"] as const).map((setup, i): ClaimSpec => ({
    id: `K3${"abc"[i]}`,
    paper: "K",
    claim: `XNLI: the image-tuned ${
      K_SETUP_LABELS[setup]
    } model beats untuned XLM-R (average accuracy)${
      setup === "eng-only"
        ? " — the kit's extension: the source documents state it for Multilingual and Multilingual + Quechua only"
        : ""
    }`,
    source: setup === "eng-only"
      ? `the kit's extension of ${
        kTable(2, "Multilingual 51.3 and Multilingual + Quechua 51.6 vs XLM-R 43.8")
      }; no published Eng-Only XNLI value`
      : kTable(
        2,
        `${K_SETUP_LABELS[setup]} ${setup === "multilingual" ? "51.3" : "51.6"} vs XLM-R 43.8`,
      ),
    test: { kind: "greater", a: xnli(setup), b: xnli("xlmr"), margin: 0 },
  })),
  {
    id: "K4",
    paper: "K",
    claim: "XNLI: Eng-Pivot is the best setup (average accuracy)",
    source: kTable(2, "Eng-Pivot, the text–text baseline, has the highest XNLI scores"),
    test: {
      kind: "greatest",
      artifact: "K-T2",
      where: { dataset: "xnli", lang: "avg" },
      vary: "setup",
      best: "eng-pivot",
      field: "accuracy",
      label: "XNLI average accuracy",
      items: { items: "K-T2", where: { dataset: "xnli" } },
    },
  },
  ...(["linear", "mlp"] as const).map((head, i): ClaimSpec => ({
    id: `D1${"ab"[i]}`,
    paper: "D",
    claim: `The ${
      head === "mlp" ? "MLP" : "linear"
    } head raises text-to-image R@1 on every language`,
    source: dText(
      "Table 2, §5.1.2",
      "result.tex",
      20,
      "Performance improvements are observed across all languages",
    ),
    test: {
      kind: "allPositive",
      artifact: "D-T2",
      key: "lang",
      field: `r1_delta_${head}`,
      minRows: 2,
      label: `t2i R@1 gain (r1_delta_${head})`,
      items: {
        a: { items: "D", where: { head, metric: "t2i_r1" } },
        b: { items: "D", where: { head: "identity", metric: "t2i_r1" } },
      },
    },
  })),
  {
    id: "D2",
    paper: "D",
    claim: "Text-to-image retrieval: MLP head > linear head (macro R@1)",
    source: dText("Table 1, §5.1.1", "result.tex", 12, "MLP yields larger gains"),
    test: {
      kind: "greater",
      a: macro("D-T1", "R@1", "mlp", "t2i"),
      b: macro("D-T1", "R@1", "linear", "t2i"),
      margin: 0,
    },
  },
  ...(["linear", "mlp"] as const).map((head, i): ClaimSpec => ({
    id: `D3${"ab"[i]}`,
    paper: "D",
    claim: `Image-to-text retrieval drops after text-only alignment (${
      head === "mlp" ? "MLP" : "linear"
    } head, macro R@1)`,
    source: dText(
      "Table 3, §5.1.3",
      "result.tex",
      30,
      "image-to-text retrieval performance decreases after image-pivot alignment",
    ),
    test: {
      kind: "greater",
      a: macro("D-T3", "R@1", "identity", "i2t"),
      b: macro("D-T3", "R@1", head, "i2t"),
      margin: 0,
    },
  })),
  {
    id: "D4a",
    paper: "D",
    claim: "Pivot caption retrieval goes up with the MLP head (macro R@1)",
    source: dText(
      "Table 5, §5.1.4",
      "result.tex",
      51,
      "the MLP head significantly improves pivot retrieval performance",
    ),
    test: {
      kind: "greater",
      a: macro("D-T5", "R@1", "mlp", "pivot"),
      b: macro("D-T5", "R@1", "identity", "pivot"),
      margin: 0,
    },
  },
  {
    id: "D4b",
    paper: "D",
    claim: "Pivot caption retrieval stays flat or goes down with the linear head (macro R@1)",
    source: dText(
      "Table 5, §5.1.4",
      "result.tex",
      49,
      "marginal or slightly negative effects on pivot-based retrieval",
    ),
    test: {
      kind: "flatOrDown",
      a: macro("D-T5", "R@1", "linear", "pivot"),
      b: macro("D-T5", "R@1", "identity", "pivot"),
      flat: CLAIM_THRESHOLDS.flat,
    },
  },
  {
    id: "D5a",
    paper: "D",
    claim: "The linear head lowers the effective rank",
    source: dText(
      "Table 6, §6.2",
      "representation_analysis.tex",
      23,
      "from 112.24 ± 1.71 to 107.15 ± 1.96 under the linear head",
    ),
    test: {
      kind: "greater",
      a: diag("effectiveRank", "identity", "effective rank"),
      b: diag("effectiveRank", "linear", "effective rank"),
      margin: 0,
    },
  },
  {
    id: "D5b",
    paper: "D",
    claim: "The linear head raises the cross-lingual Gram correlation (RSA)",
    source: dText(
      "Table 6, §6.1",
      "representation_analysis.tex",
      12,
      "increases from 0.345 ± 0.021 to 0.351 ± 0.021 under the linear head",
    ),
    test: {
      kind: "greater",
      a: diag("gramCorrelation", "linear", "Gram correlation"),
      b: diag("gramCorrelation", "identity", "Gram correlation"),
      margin: 0,
    },
  },
  ...(["linear", "mlp"] as const).map((head, i): ClaimSpec => ({
    id: `D6${"ab"[i]}`,
    paper: "D",
    claim: `Mean pairwise cosine drops, i.e. isotropy rises (${
      head === "mlp" ? "MLP" : "linear"
    } head)`,
    source: dText(
      "Table 6, §6.3",
      "representation_analysis.tex",
      33,
      "mean pairwise cosine similarity decreases substantially on the holdout folds under both heads",
    ),
    test: {
      kind: "greater",
      a: diag("meanCosine", "identity", "mean cosine"),
      b: diag("meanCosine", head, "mean cosine"),
      margin: 0,
    },
  })),
  ...([["hubSkewness", "hubness skewness (k=10)"], ["hubRatio", "hub ratio (top 1%)"]] as const)
    .flatMap(
      ([key, what], j) =>
        (["linear", "mlp"] as const).map((head, i): ClaimSpec => ({
          id: `D7${"abcd"[2 * j + i]}`,
          paper: "D",
          claim: `Hubness stays about the same: ${what} (${
            head === "mlp" ? "MLP" : "linear"
          } head)`,
          source: dText(
            "Table 6, §8",
            "conclusion.tex",
            9,
            "Direct hubness measurements remain stable after alignment",
          ),
          test: {
            kind: "aboutSame",
            a: diag(key, head, what),
            b: diag(key, "identity", what),
            relative: CLAIM_THRESHOLDS.hubnessRelative,
          },
        })),
    ),
  ...(["linear", "mlp"] as const).map((head, i): ClaimSpec => ({
    id: `D8${"ab"[i]}`,
    paper: "D",
    claim: `Language-ID probe accuracy stays about the same (${
      head === "mlp" ? "MLP" : "linear"
    } head)`,
    source: dText(
      "Table 6, §6.6",
      "representation_analysis.tex",
      65,
      "Probe accuracy remains stable after image-pivot alignment",
    ),
    test: {
      kind: "aboutSame",
      a: diag("langIdAccuracy", head, "lang-ID accuracy"),
      b: diag("langIdAccuracy", "identity", "lang-ID accuracy"),
      absolute: CLAIM_THRESHOLDS.langIdAbsolute,
    },
  })),
];

/**
 * The claims as a run of `profile` decides them: {@link CLAIMS}, with K's bitext claims on the
 * profile's benchmark ({@link K_CLAIM_BITEXT}: FLORES in the paper profile, the in-domain
 * held-out concept names in the mini profile).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimsForProfile } from "./claim_list.ts";
 * const k1a = claimsForProfile("mini").find((c) => c.id === "K1a")!;
 * assert(k1a.test.kind === "greater" && k1a.test.a.where.group === "in-domain:all");
 * ```
 */
export function claimsForProfile(profile: "mini" | "paper"): readonly ClaimSpec[] {
  if (profile === "paper") return CLAIMS;
  const k = new Map(kBitextClaims(K_CLAIM_BITEXT[profile]).map((c) => [c.id, c]));
  return CLAIMS.map((c) => k.get(c.id) ?? c);
}
