import { KitError } from "../util/kit_error.ts";
import { dimensionEntropy, shareNearZero } from "./activation_stats.ts";
import {
  neighbourOverlap,
  pearsonOfStandardized,
  standardizedUpperTriangle,
} from "./cross_lingual.ts";
import { gram } from "./gram.ts";
import { hubness } from "./hubness.ts";
import { cosineKnnFromGram, type NeighbourLists } from "./knn.ts";
import { langIdProbe, type LangIdProbeResult } from "./lang_id_probe.ts";
import { assertFinite, type Matrix } from "./matrix.ts";
import { meanCosine } from "./mean_cosine.ts";
import {
  centredSquaredSingularValues,
  centredSquaredSingularValuesFromGram,
  componentsForVarianceShare,
  effectiveRankFromSpectrum,
} from "./spectrum.ts";

/** Per-language diagnostics of one embedding matrix (rows = items). */
export interface LanguageDiagnostics {
  readonly rows: number;
  readonly effectiveRank: number;
  readonly pca90: number;
  readonly meanCosine: number;
  /** Share of entries with |x| < 1e-3. */
  readonly poz: number;
  /** Mean per-dimension histogram entropy (nats). */
  readonly entropy: number;
  readonly hubSkewness: number;
  readonly hubRatio: number;
}

/** Cross-lingual diagnostics of one unordered language pair. */
export interface LanguagePairDiagnostics {
  readonly a: string;
  readonly b: string;
  /** Pearson correlation of the strict upper triangles of the two Gram matrices (RSA). */
  readonly gramCorrelation: number;
  /** Mean Jaccard overlap of the items' kNN sets. */
  readonly neighbourOverlap: number;
}

/** The ten macro-averaged values of paper D's Table 6. */
export interface DiagnosticsSummary {
  readonly effectiveRank: number;
  readonly pca90: number;
  readonly meanCosine: number;
  readonly poz: number;
  readonly entropy: number;
  readonly gramCorrelation: number;
  readonly neighbourOverlap: number;
  readonly hubSkewness: number;
  readonly hubRatio: number;
  /** NaN when the probe was switched off. */
  readonly langIdAccuracy: number;
}

/** Everything `diagnoseLanguages` computed. */
export interface LanguagesDiagnosis {
  /** Language order used for pairs and probe labels. */
  readonly languages: readonly string[];
  readonly perLanguage: Readonly<Record<string, LanguageDiagnostics>>;
  /** The unordered pairs (i < j in `languages` order). */
  readonly pairs: readonly LanguagePairDiagnostics[];
  readonly probe: LangIdProbeResult | null;
  /** Per-language values averaged over languages; pairwise ones over pairs. */
  readonly macro: DiagnosticsSummary;
}

/** Table 6's rows in the paper's order, with its labels. */
export const TABLE6_ROWS: readonly {
  readonly key: keyof DiagnosticsSummary;
  readonly label: string;
}[] = [
  { key: "effectiveRank", label: "Effective rank" },
  { key: "pca90", label: "PCA 90% components" },
  { key: "meanCosine", label: "Mean cosine similarity" },
  { key: "poz", label: "PoZ" },
  { key: "entropy", label: "Entropy" },
  { key: "gramCorrelation", label: "Gram corr. mean" },
  { key: "neighbourOverlap", label: "Neighborhood overlap (k = 10)" },
  { key: "hubSkewness", label: "Hubness skew (k = 10)" },
  { key: "hubRatio", label: "Hub ratio (top 1%)" },
  { key: "langIdAccuracy", label: "Lang-ID probe acc." },
];

/** Options of `diagnoseLanguages`. */
export interface DiagnoseOptions {
  /** Seed of the lang-ID probe's stratified split. */
  readonly seed: number;
  /** Neighbours for overlap and hubness (default 10). */
  readonly k?: number;
  /** Run the lang-ID probe (default true); it dominates the run time (seconds). */
  readonly probe?: boolean;
  /** Probe rows per language (default 2000). */
  readonly probeMaxRowsPerLanguage?: number;
  /** Probe test share (default 0.3). */
  readonly probeTestShare?: number;
  /** Probe inverse L2 strength (default 1). */
  readonly probeC?: number;
  /** Language order (default: the keys of `byLang` in insertion order). */
  readonly languages?: readonly string[];
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, v) => s + v, 0) / xs.length;
}

/**
 * Paper D's representation diagnostics for one set of embeddings per language, rows aligned
 * (row i = the same item in every language): per language effective rank, PCA-90, mean cosine,
 * PoZ, entropy and hubness; per language pair Gram correlation (RSA) and kNN overlap; the
 * lang-ID probe over all languages; and their macro averages (`macro`, Table 6's column).
 * Everything is Float64; one `X·Xᵀ` per language serves RSA, kNN and (double-centred) the
 * spectrum when that is cheaper than `Xcᵀ·Xc`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { diagnoseLanguages } from "./diagnose_languages.ts";
 * import { matrix } from "./matrix.ts";
 * import { SeededRandom } from "../util/seeded_random.ts";
 * const rng = new SeededRandom(1);
 * const emb = () => matrix(Float64Array.from({ length: 30 * 4 }, () => rng.normal()), 30, 4);
 * const r = diagnoseLanguages({ en: emb(), de: emb() }, { seed: 7, k: 3 });
 * assert(r.pairs.length === 1 && r.macro.pca90 >= 1);
 * ```
 */
export function diagnoseLanguages(
  byLang: Readonly<Record<string, Matrix>>,
  options: DiagnoseOptions,
): LanguagesDiagnosis {
  const languages = options.languages ?? Object.keys(byLang);
  const k = options.k ?? 10;
  if (languages.length === 0) throw new KitError("diagnoseLanguages: no languages given");
  const mats = languages.map((l) => {
    const m = byLang[l];
    if (!m) throw new KitError(`diagnoseLanguages: no embeddings for language "${l}"`);
    assertFinite(m, `embeddings of "${l}"`);
    return m;
  });
  const n = mats[0]!.rows, d = mats[0]!.cols;
  mats.forEach((m, i) => {
    if (m.rows !== n || m.cols !== d) {
      throw new KitError(
        `diagnoseLanguages: "${languages[i]}" is ${m.rows}×${m.cols}, "${
          languages[0]
        }" is ${n}×${d}; ` +
          "rows must be the same items in every language",
      );
    }
  });
  const perLanguage: Record<string, LanguageDiagnostics> = {};
  const triangles: Float64Array[] = [];
  const knn: NeighbourLists[] = [];
  // Spectrum from the n×n double-centred Gram (≈ ⅔n³) or from the d×d scatter (≈ nd²/2 + ⅔d³).
  const spectrumFromGram = (2 / 3) * n ** 3 <= (n * d * d) / 2 + (2 / 3) * d ** 3;
  mats.forEach((x, li) => {
    const g = gram(x);
    const s2 = spectrumFromGram
      ? centredSquaredSingularValuesFromGram(g)
      : centredSquaredSingularValues(x);
    const nn = cosineKnnFromGram(g, k);
    const hub = hubness(nn);
    triangles.push(standardizedUpperTriangle(g));
    knn.push(nn);
    perLanguage[languages[li]!] = {
      rows: n,
      effectiveRank: effectiveRankFromSpectrum(s2),
      pca90: componentsForVarianceShare(s2, 0.9),
      meanCosine: meanCosine(x),
      poz: shareNearZero(x),
      entropy: dimensionEntropy(x),
      hubSkewness: hub.skewness,
      hubRatio: hub.hubRatio,
    };
  });
  const pairs: LanguagePairDiagnostics[] = [];
  for (let i = 0; i < languages.length; i++) {
    for (let j = i + 1; j < languages.length; j++) {
      pairs.push({
        a: languages[i]!,
        b: languages[j]!,
        gramCorrelation: pearsonOfStandardized(triangles[i]!, triangles[j]!),
        neighbourOverlap: neighbourOverlap(knn[i]!, knn[j]!),
      });
    }
  }
  const probe = options.probe === false ? null : langIdProbe(mats, {
    seed: options.seed,
    maxRowsPerLanguage: options.probeMaxRowsPerLanguage,
    testShare: options.probeTestShare,
    C: options.probeC,
  });
  const per = languages.map((l) => perLanguage[l]!);
  const macro: DiagnosticsSummary = {
    effectiveRank: mean(per.map((p) => p.effectiveRank)),
    pca90: mean(per.map((p) => p.pca90)),
    meanCosine: mean(per.map((p) => p.meanCosine)),
    poz: mean(per.map((p) => p.poz)),
    entropy: mean(per.map((p) => p.entropy)),
    gramCorrelation: mean(pairs.map((p) => p.gramCorrelation)),
    neighbourOverlap: mean(pairs.map((p) => p.neighbourOverlap)),
    hubSkewness: mean(per.map((p) => p.hubSkewness)),
    hubRatio: mean(per.map((p) => p.hubRatio)),
    langIdAccuracy: probe ? probe.accuracy : NaN,
  };
  return { languages, perLanguage, pairs, probe, macro };
}
