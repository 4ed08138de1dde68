import { D_LANGUAGES } from "../sources/wit.ts";
import { KitError } from "../util/kit_error.ts";
import type { PlotlyFigure } from "../artifacts/chromium_renderer.ts";
import type { SourceIssue } from "../sources/source_issue.ts";
import type {
  DatasetManifest,
  IntersectionCount,
  LanguageCoverage,
  RejectCount,
} from "./manifest.ts";

/** K's caption languages ([K], without the optional Quechua). */
export const K_LANGUAGES: readonly string[] = ["en", "es", "ja", "hi"];
/** The ten languages the mini dataset must cover (K's four ∪ D's nine). */
export const MINI_LANGUAGES: readonly string[] = [
  "en",
  "es",
  "ja",
  "hi",
  "ar",
  "zh",
  "de",
  "fr",
  "it",
  "pt",
];

/** A named language set whose intersection is reported. */
export interface LanguageSet {
  name: string;
  languages: readonly string[];
}

/** The intersections every build reports: K's four, D's nine, and all ten. */
export const DEFAULT_LANGUAGE_SETS: readonly LanguageSet[] = [
  { name: "K: en ∩ es ∩ ja ∩ hi", languages: K_LANGUAGES },
  { name: `D: ${D_LANGUAGES.join(" ∩ ")}`, languages: D_LANGUAGES },
  { name: "all ten (K ∪ D)", languages: MINI_LANGUAGES },
];

interface HasCaptions {
  captions: Record<string, readonly string[]>;
}

/** Per language: images with at least one caption, and captions; sorted by images, then code. */
export function languageCoverage(samples: readonly HasCaptions[]): LanguageCoverage[] {
  const m = new Map<string, LanguageCoverage>();
  for (const s of samples) {
    for (const [lang, caps] of Object.entries(s.captions)) {
      if (caps.length === 0) continue;
      const c = m.get(lang) ?? { language: lang, images: 0, captions: 0 };
      c.images++;
      c.captions += caps.length;
      m.set(lang, c);
    }
  }
  return [...m.values()].sort((a, b) => b.images - a.images || (a.language < b.language ? -1 : 1));
}

/** How many samples have captions in every language of each set. */
export function languageIntersections(
  samples: readonly HasCaptions[],
  sets: readonly LanguageSet[] = DEFAULT_LANGUAGE_SETS,
): IntersectionCount[] {
  return sets.map((set) => ({
    name: set.name,
    languages: [...set.languages],
    images:
      samples.filter((s) => set.languages.every((l) => (s.captions[l]?.length ?? 0) > 0)).length,
  }));
}

/** Issue counts by (action, reason), most frequent first. */
export function countIssues(issues: readonly SourceIssue[]): RejectCount[] {
  const m = new Map<string, RejectCount>();
  for (const i of issues) {
    const k = `${i.action}\u0000${i.reason}`;
    const c = m.get(k) ?? { reason: i.reason, action: i.action, count: 0 };
    c.count++;
    m.set(k, c);
  }
  return [...m.values()].sort((a, b) =>
    a.action !== b.action
      ? (a.action === "rejected" ? -1 : 1)
      : b.count - a.count || (a.reason < b.reason ? -1 : 1)
  );
}

/** One row of table DATA-T1. */
export type DataT1Row = {
  /** `dataset`, `source`, `partition`, `language`, `intersection`, `rejected` or `skipped`. */
  section: string;
  item: string;
  /** Images (dataset/source/partition/language/intersection rows) or items (rejected/skipped rows). */
  count: number;
  /** Captions, where the row has them. */
  captions: number | null;
};

/**
 * The rows of table DATA-T1 from a dataset manifest: images and captions in total, per source
 * and per partition; per language images and captions (the ten focus languages first, in K/D
 * order, then every other language unless `allLanguages` is false); the intersection sizes (K's
 * en/es/ja/hi, D's nine, all ten); rejected and skipped items by reason.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataT1Rows } from "./data_report.ts";
 * import { buildDataset } from "./build_dataset.ts";
 * import { tuxPaintSource } from "./dataset_sources.ts";
 * const outRoot = await Deno.makeTempDir();
 * const r = await buildDataset({ sources: [tuxPaintSource()], limit: 8, outRoot, quiet: true });
 * const rows = dataT1Rows(r.manifest); // → writeTableArtifact({ id: "DATA-T1", rows, ... })
 * const images = rows.find((x) => x.section === "dataset" && x.item === "images");
 * assert.equal(images?.count, r.manifest.samples.count);
 * await Deno.remove(outRoot, { recursive: true });
 * ```
 */
export function dataT1Rows(
  manifest: DatasetManifest,
  opts: { allLanguages?: boolean } = {},
): DataT1Row[] {
  const rows: DataT1Row[] = [];
  const totalCaptions = manifest.languages.reduce((s, l) => s + l.captions, 0);
  rows.push({
    section: "dataset",
    item: "images",
    count: manifest.samples.count,
    captions: totalCaptions,
  });
  for (const i of manifest.inputs) {
    rows.push({ section: "source", item: i.source, count: i.kept, captions: null });
  }
  for (const [p, n] of Object.entries(manifest.partitions)) {
    rows.push({ section: "partition", item: p, count: n, captions: null });
  }
  const byLang = new Map(manifest.languages.map((l) => [l.language, l]));
  for (const l of MINI_LANGUAGES) {
    const c = byLang.get(l);
    rows.push({ section: "language", item: l, count: c?.images ?? 0, captions: c?.captions ?? 0 });
  }
  if (opts.allLanguages ?? true) {
    for (const c of manifest.languages) {
      if (!MINI_LANGUAGES.includes(c.language)) {
        rows.push({ section: "language", item: c.language, count: c.images, captions: c.captions });
      }
    }
  }
  for (const x of manifest.intersections) {
    rows.push({ section: "intersection", item: x.name, count: x.images, captions: null });
  }
  for (const r of manifest.rejects.byReason) {
    rows.push({ section: r.action, item: r.reason, count: r.count, captions: null });
  }
  return rows;
}

/** A sample as `sourceBreakdownRows` reads it. */
interface SourcedSample extends HasCaptions {
  key: string;
  source: string;
  group?: string;
}

/**
 * DATA-T1's per-source rows, from the samples (`samples.jsonl`): for each source (section
 * `source: <name>`) its images, concepts (groups: an emoji drawn by several sets is one concept;
 * a stamp is its own), locales with a caption on at least `richLocale` images (default 500), and
 * per language (the ten focus languages and `qu`) images with a caption, with captions.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sourceBreakdownRows } from "./data_report.ts";
 * const rows = sourceBreakdownRows([{ key: "a", source: "s", group: "g", captions: { en: ["x"] } },
 *   { key: "b", source: "s", group: "g", captions: { en: ["x"], qu: ["y"] } }]);
 * assert(rows.find((r) => r.item === "concepts")!.count === 1);
 * ```
 */
export function sourceBreakdownRows(
  samples: readonly SourcedSample[],
  opts: { languages?: readonly string[]; richLocale?: number } = {},
): DataT1Row[] {
  const languages = opts.languages ?? [...MINI_LANGUAGES, "qu"];
  const rich = opts.richLocale ?? 500;
  const rows: DataT1Row[] = [];
  const sources = [...new Set(samples.map((s) => s.source))].sort();
  for (const src of sources) {
    const mine = samples.filter((s) => s.source === src);
    const section = `source: ${src}`;
    const cov = languageCoverage(mine);
    const captions = cov.reduce((n, c) => n + c.captions, 0);
    rows.push({ section, item: "images", count: mine.length, captions });
    rows.push({
      section,
      item: "concepts",
      count: new Set(mine.map((s) => s.group ?? s.key)).size,
      captions: null,
    });
    rows.push({ section, item: "locales", count: cov.length, captions: null });
    rows.push({
      section,
      item: `locales with ≥ ${rich} images`,
      count: cov.filter((c) => c.images >= rich).length,
      captions: null,
    });
    const byLang = new Map(cov.map((c) => [c.language, c]));
    for (const l of languages) {
      const c = byLang.get(l);
      rows.push({ section, item: l, count: c?.images ?? 0, captions: c?.captions ?? 0 });
    }
  }
  return rows;
}

/** One box of a box plot, as plotly draws it from precomputed statistics. */
export interface BoxStatistics {
  q1: number;
  median: number;
  q3: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * Box statistics of `values`: quartiles by linear interpolation between order statistics
 * (numpy's default `percentile`, Hyndman–Fan type 7), minimum, maximum and mean.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { boxStatistics } from "./data_report.ts";
 * const b = boxStatistics([1, 2, 3, 4, 100]);
 * assert(b.q1 === 2 && b.median === 3 && b.q3 === 4 && b.max === 100 && b.min === 1);
 * ```
 */
export function boxStatistics(values: readonly number[]): BoxStatistics {
  if (values.length === 0) throw new KitError("box statistics: no values");
  const v = Float64Array.from(values).sort();
  const q = (p: number) => {
    const h = (v.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, v.length - 1);
    return v[lo]! + (h - lo) * (v[hi]! - v[lo]!);
  };
  let sum = 0;
  for (const x of v) sum += x;
  return {
    q1: q(0.25),
    median: q(0.5),
    q3: q(0.75),
    min: v[0]!,
    max: v[v.length - 1]!,
    mean: sum / v.length,
  };
}

/**
 * Caption lengths by language as a plotly box plot: one `{type: "box", name: lang, y}` trace per
 * language, y = caption lengths in Unicode characters (code points; characters rather than words
 * so that ja/zh, written without spaces, are comparable). With `bySource`, one trace per source
 * (`x` = language, grouped boxes, precomputed by {@link boxStatistics}) instead.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { captionLengthFigure } from "./data_report.ts";
 * const f = captionLengthFigure([{ captions: { en: ["A cat."], ja: ["猫。"] } }], { languages: ["en", "ja"] });
 * assert(f.data.length === 2 && (f.data[1]!.y as number[])[0] === 2);
 * ```
 */
export function captionLengthFigure(
  samples: readonly (HasCaptions & { source?: string })[],
  opts: { languages?: readonly string[]; title?: string; bySource?: boolean } = {},
): PlotlyFigure {
  const languages = opts.languages ?? MINI_LANGUAGES;
  if (opts.bySource) {
    // One trace per source, x = language: plotly groups the boxes of a language side by side.
    // The boxes are precomputed (quartiles; whiskers at min and max, as plotly draws a box
    // without sample points) so that the artifact stores 6 numbers per box rather than every
    // caption length (~60k numbers).
    const sources = [...new Set(samples.map((s) => s.source ?? "(none)"))].sort();
    const data = sources.map((src) => {
      const x: string[] = [];
      const stats: BoxStatistics[] = [];
      for (const lang of languages) {
        const y: number[] = [];
        for (const s of samples) {
          if ((s.source ?? "(none)") !== src) continue;
          for (const c of s.captions[lang] ?? []) y.push([...c].length);
        }
        if (y.length === 0) continue;
        x.push(lang);
        stats.push(boxStatistics(y));
      }
      return {
        type: "box",
        name: src,
        x,
        q1: stats.map((b) => b.q1),
        median: stats.map((b) => b.median),
        q3: stats.map((b) => b.q3),
        lowerfence: stats.map((b) => b.min),
        upperfence: stats.map((b) => b.max),
        mean: stats.map((b) => b.mean),
        boxpoints: false,
      };
    });
    return {
      data,
      layout: {
        title: { text: opts.title ?? "Caption length by language and source" },
        boxmode: "group",
        xaxis: {
          title: { text: "language" },
          categoryorder: "array",
          categoryarray: [...languages],
        },
        yaxis: { title: { text: "caption length (characters)" }, rangemode: "tozero" },
        showlegend: true,
      },
    };
  }
  const data = languages.map((lang) => {
    const y: number[] = [];
    for (const s of samples) for (const c of s.captions[lang] ?? []) y.push([...c].length);
    return { type: "box", name: lang, y, boxpoints: "outliers" };
  });
  return {
    data,
    layout: {
      title: { text: opts.title ?? "Caption length by language" },
      xaxis: { title: { text: "language" } },
      yaxis: { title: { text: "caption length (characters)" }, rangemode: "tozero" },
      showlegend: false,
    },
  };
}
