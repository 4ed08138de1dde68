import { KitError } from "../util/kit_error.ts";
import { fitMultinomialLogistic, predictMultinomialLogistic } from "./logistic_regression.ts";
import type { Matrix } from "./matrix.ts";
import { stratifiedSplit } from "./stratified_split.ts";

/** Options of `langIdProbe`. */
export interface LangIdProbeOptions {
  /** Seed of the stratified split (see `stratifiedSplit`). */
  readonly seed: number;
  /** Rows taken per language, the first ones (default 2000). */
  readonly maxRowsPerLanguage?: number;
  /** Test share of the stratified split (default 0.3). */
  readonly testShare?: number;
  /** Inverse L2 strength of the probe (default 1). */
  readonly C?: number;
}

/**
 * The probe's test rows, one entry each in stacked order (language by language, rows ascending):
 * which language, which row of that language's matrix, and whether the probe named the language
 * right. The probe's `accuracy` is exactly the number of ones in `correct` over its length.
 */
export interface LangIdTestRows {
  /** Position of the row's language in the probe's `languages`. */
  readonly language: Int32Array;
  /** Row index inside that language's matrix. */
  readonly row: Int32Array;
  /** 1 when the predicted language is the row's language, else 0. */
  readonly correct: Uint8Array;
}

/** Outcome of `langIdProbe`. */
export interface LangIdProbeResult {
  /** Share of test rows whose language is predicted correctly (chance = 1/languages). */
  readonly accuracy: number;
  readonly trainRows: number;
  readonly testRows: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Per test row: language, row and correctness (what per-item bootstrap intervals resample). */
  readonly test: LangIdTestRows;
}

/** Rows of several matrices stacked, with the matrix position as label. */
export interface LabelledRows {
  readonly x: Matrix;
  readonly labels: Int32Array;
}

/** Stacks the first `maxRowsPerLanguage` rows of each matrix; label = position in `parts`. */
export function stackLanguages(parts: readonly Matrix[], maxRowsPerLanguage = 2000): LabelledRows {
  if (parts.length === 0) throw new KitError("langIdProbe: no languages given");
  const d = parts[0]!.cols;
  const take = parts.map((p) => Math.min(p.rows, maxRowsPerLanguage));
  const n = take.reduce((s, v) => s + v, 0);
  const data = new Float64Array(n * d);
  const labels = new Int32Array(n);
  let r = 0;
  parts.forEach((p, li) => {
    if (p.cols !== d) {
      throw new KitError(`langIdProbe: language ${li} has ${p.cols} columns, language 0 has ${d}`);
    }
    const t = take[li]!;
    for (let i = 0; i < t * d; i++) data[r * d + i] = p.data[i]!;
    labels.fill(li, r, r + t);
    r += t;
  });
  return { x: { data, rows: n, cols: d }, labels };
}

/** The rows `idx` of `x` (a copy) and their labels. */
export function selectRows(rows: LabelledRows, idx: ArrayLike<number>): LabelledRows {
  const d = rows.x.cols;
  const data = new Float64Array(idx.length * d);
  const labels = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    data.set(rows.x.data.subarray(r * d, (r + 1) * d), i * d);
    labels[i] = rows.labels[r]!;
  }
  return { x: { data, rows: idx.length, cols: d }, labels };
}

/**
 * Language-ID probe: the first `maxRowsPerLanguage` rows of every language, a stratified 70/30
 * split (`stratifiedSplit`, seeded), multinomial logistic regression (L2, `C`) fitted to
 * convergence on the train part, accuracy on the test part, and which test rows it got right
 * (`test`; the split depends only on the row counts and the seed, so embeddings of the same items
 * through different heads get the same test rows).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { langIdProbe } from "./lang_id_probe.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * const en = matrixFromRows([[1, 0], [0.9, 0.1], [1, 0.2], [0.8, 0]]);
 * const de = matrixFromRows([[0, 1], [0.1, 0.9], [0.2, 1], [0, 0.8]]);
 * assert(langIdProbe([en, de], { seed: 1 }).accuracy === 1);
 * ```
 */
export function langIdProbe(
  languages: readonly Matrix[],
  options: LangIdProbeOptions,
): LangIdProbeResult {
  const all = stackLanguages(languages, options.maxRowsPerLanguage ?? 2000);
  const split = stratifiedSplit(all.labels, options.testShare ?? 0.3, options.seed);
  const train = selectRows(all, split.train), test = selectRows(all, split.test);
  const model = fitMultinomialLogistic(train.x, train.labels, {
    C: options.C ?? 1,
    classes: languages.length,
  });
  const pred = predictMultinomialLogistic(model, test.x);
  // Stacked rows are grouped by language: a row's index in its own matrix is its offset there.
  const first = new Int32Array(languages.length).fill(-1);
  all.labels.forEach((l, i) => {
    if (first[l] === -1) first[l] = i;
  });
  const right = new Uint8Array(pred.length);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] === test.labels[i]) {
      correct++;
      right[i] = 1;
    }
  }
  return {
    accuracy: correct / pred.length,
    trainRows: train.x.rows,
    testRows: test.x.rows,
    iterations: model.iterations,
    converged: model.converged,
    test: {
      language: test.labels,
      row: Int32Array.from(split.test, (i) => i - first[all.labels[i]!]!),
      correct: right,
    },
  };
}
