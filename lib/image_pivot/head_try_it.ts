import { type DisplayTable, displayTable } from "../artifacts/display_table.ts";
import type { Row } from "../artifacts/table_render.ts";
import { kFoldIndices } from "../cv/k_fold.ts";
import { createHead } from "../heads/create_head.ts";
import { projectRowsAsync } from "../heads/project_rows.ts";
import { textToImageRetrieval } from "../retrieval/cross_modal_retrieval.ts";
import { evaluateFold } from "../retrieval/fold_evaluation.ts";
import { type RowMatrix, selectRows } from "../retrieval/row_matrix.ts";
import { resolveTrainConfig, type TrainConfig } from "../train/train_config.ts";
import { trainHead } from "../train/train_head.ts";
import { KitError } from "../util/kit_error.ts";
import { bootstrapInterval } from "../stats/bootstrap_interval.ts";
import { weightedMeanStatistic } from "../stats/weighted_mean.ts";
import type { AlignmentEmbeddings } from "./embedding_dir.ts";
import type { TrainedHeadKind } from "./image_pivot_cv.ts";

/** One training recipe of a {@link headTrainingTryIt} experiment. */
export interface HeadVariant {
  /**
   * Row label; default: made from the recipe's values ({@link headVariantLabel}), so it always
   * says what the row ran.
   */
  label?: string;
  /** Overrides of D's training configuration (e.g. `{ temperature: 0.2 }`, `{ lambdaProx: 0 }`). */
  train?: Partial<TrainConfig>;
  /** Caption languages the head trains on (default: all); evaluation always uses all. */
  trainLangs?: readonly string[];
}

/** Options of {@link headTrainingTryIt}. */
export interface HeadTryItOptions {
  /** The student's recipes; D's own recipe is always the first row, "default (D)". */
  variants: readonly HeadVariant[];
  /** Which head to train (default linear). */
  head?: TrainedHeadKind;
  /** Folds of the K-fold split (D: 5) and the ones trained and evaluated (default [0]: one). */
  folds?: number;
  evalFolds?: readonly number[];
  /** KFold, head initialisation and batch sampler seed (D: 7). */
  seed?: number;
  /** Overrides applied to every row, the default included (e.g. fewer epochs in smoke runs). */
  base?: Partial<TrainConfig>;
  /** Languages that get their own t2i R@1 column (e.g. a language left out of training). */
  focusLangs?: readonly string[];
}

/** The experiment's table (one row per recipe) and what it took. */
export interface HeadTryItResult extends DisplayTable {
  seconds: number;
  /** The default recipe's 95 % bootstrap interval of t2i R@1 (macro), over holdout items. */
  defaultInterval: { low: number; high: number };
  /** t2i R@1 of guessing: 1 / the number of candidate images of a holdout fold. */
  chance: number;
  /** One sentence per variant reading its result against the default's interval and chance. */
  readings: string[];
}

const TRAIN_LABELS: Partial<Record<keyof TrainConfig, string>> = {
  temperature: "τ",
  lambdaProx: "prox λ",
  epochs: "epochs",
  stepsPerEpoch: "steps/epoch",
  lr: "learning rate",
};

/**
 * A recipe's label from its values: `τ = 1`, `prox λ = 0`, `epochs = 2`, `without ja`, joined by
 * commas (`D's recipe` when it changes nothing).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { headVariantLabel } from "./head_try_it.ts";
 * assert.equal(headVariantLabel({ train: { temperature: 1 } }, ["en", "ja"]), "τ = 1");
 * assert.equal(headVariantLabel({ trainLangs: ["en"] }, ["en", "ja"]), "without ja");
 * ```
 */
export function headVariantLabel(v: HeadVariant, langs: readonly string[]): string {
  const parts = Object.entries(v.train ?? {}).map(([k, val]) =>
    `${TRAIN_LABELS[k as keyof TrainConfig] ?? k} = ${val}`
  );
  const left = v.trainLangs ? langs.filter((l) => !v.trainLangs!.includes(l)) : [];
  if (left.length > 0) parts.push(`without ${left.join(" ")}`);
  return parts.length > 0 ? parts.join(", ") : "D's recipe";
}

/** One sentence reading `value` against the default's interval (and chance). */
function readAgainstDefault(
  label: string,
  what: string,
  value: number,
  ci: { low: number; high: number },
): string {
  const f = (x: number) => x.toFixed(3);
  const where = value < ci.low ? "below" : value > ci.high ? "above" : "inside";
  return `${label}: ${what} ${f(value)} is ${where} the default's 95% interval ${f(ci.low)}–${
    f(ci.high)
  }${
    where === "inside"
      ? ": no difference beyond noise"
      : `: ${where === "above" ? "better" : "worse"} beyond noise`
  }.`;
}

/**
 * A small experiment on paper D's text-side head for students: trains the head with D's recipe
 * and with each variant (another temperature, no prox regulariser, a language left out, …) on
 * the same fold(s) of the same seeded split, and reports holdout retrieval beside the default —
 * t2i and i2t R@1 (macro over all languages), the focus languages' t2i R@1, the best epoch.
 * Every row uses the same folds, initialisation seed and batch sampler seed, so differences
 * come from the recipe alone. One fold by default (fast; a holdout of N/5 items, so differences of
 * a few points are within noise).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignmentEmbeddings } from "./embedding_dir.ts";
 * import { headTrainingTryIt } from "./head_try_it.ts";
 * const m = (s: number) => ({ data: Float32Array.from({ length: 80 }, (_, i) => Math.sin(i * s)), rows: 20, cols: 4 });
 * const t = await headTrainingTryIt(alignmentEmbeddings(m(1), { en: m(2), de: m(3) }), {
 *   variants: [{ label: "no prox", train: { lambdaProx: 0 } }],
 *   base: { epochs: 1, stepsPerEpoch: 2, batchPerLang: 4, warmupSteps: 1 },
 * });
 * assert(t.rows.length === 2 && t.rows[0]!.variant === "default (D)");
 * ```
 */
export async function headTrainingTryIt(
  emb: AlignmentEmbeddings,
  opts: HeadTryItOptions,
): Promise<HeadTryItResult> {
  const t0 = performance.now();
  const kind = opts.head ?? "linear";
  const seed = opts.seed ?? 7;
  const k = opts.folds ?? 5;
  const evalFolds = opts.evalFolds ?? [0];
  const folds = kFoldIndices(emb.n, k, seed, { shuffle: true });
  for (const f of evalFolds) {
    if (!folds[f]) throw new KitError(`try it: fold ${f} does not exist (folds 0…${k - 1})`);
  }
  const focus = opts.focusLangs ?? [];
  for (const l of focus) {
    if (!emb.langs.includes(l)) {
      throw new KitError(`try it: focus language "${l}": expected one of ${emb.langs.join(" ")}`);
    }
  }
  const defaults = resolveTrainConfig({ seed, ...opts.base });
  const recipes: HeadVariant[] = [{ label: "default (D)" }, ...opts.variants];
  const rows: Row[] = [];
  // Per holdout item (all evaluated folds, in order): its t2i hit averaged over languages, and
  // per focus language; the default recipe's give the bootstrap interval.
  const itemHits: { macro: number[]; focus: number[][] }[] = [];
  for (const v of recipes) {
    const label = v.label ?? headVariantLabel(v, emb.langs);
    const hits = { macro: [] as number[], focus: focus.map(() => [] as number[]) };
    itemHits.push(hits);
    const trainLangs = [...(v.trainLangs ?? emb.langs)];
    const unknown = trainLangs.filter((l) => !emb.langs.includes(l));
    if (unknown.length > 0 || trainLangs.length === 0) {
      throw new KitError(
        `try it "${label}": trainLangs ${
          trainLangs.join(" ") || "(none)"
        }: expected a non-empty subset of ${emb.langs.join(" ")}`,
      );
    }
    const config = resolveTrainConfig({ seed, ...opts.base, ...v.train });
    const sums = { t2i: 0, i2t: 0, best: 0, focus: focus.map(() => 0) };
    for (const f of evalFolds) {
      const { train, test } = folds[f]!;
      const head = createHead(kind, emb.d, { seed });
      try {
        const project = async (langs: readonly string[]) => {
          const out: Record<string, RowMatrix> = {};
          for (const l of langs) {
            const m = selectRows(emb.textByLang[l]!, test, l);
            out[l] = { data: await projectRowsAsync(head, m.data), rows: m.rows, cols: m.cols };
          }
          return out;
        };
        const imagesHold = selectRows(emb.images, test, "images");
        const textByLang = Object.fromEntries(trainLangs.map((l) => [l, emb.textByLang[l]!]));
        const res = await trainHead({
          head,
          textByLang,
          images: emb.images,
          trainIdx: train,
          holdoutIdx: test,
          config,
          // D selects the epoch on the holdout's macro t2i R@1 — over the trained languages here.
          evaluate: async () => {
            const text = await project(trainLangs);
            let s = 0;
            for (const l of trainLangs) s += (await textToImageRetrieval(text[l]!, imagesHold)).r1;
            return s / trainLangs.length;
          },
          progress: false,
        });
        const foldMacro = new Float64Array(test.length);
        const ev = await evaluateFold(await project(emb.langs), imagesHold, {
          langs: emb.langs,
          pivot: false,
          onT2iRanks: (l, ranks) => {
            const fi = focus.indexOf(l);
            for (let i = 0; i < ranks.length; i++) {
              const hit = ranks[i] === 0 ? 1 : 0;
              foldMacro[i]! += hit / emb.langs.length;
              if (fi >= 0) hits.focus[fi]!.push(hit);
            }
          },
        });
        hits.macro.push(...foldMacro);
        sums.t2i += ev.t2iMacro.r1;
        sums.i2t += ev.i2tMacro.r1;
        sums.best += res.bestEpoch + 1;
        focus.forEach((l, i) => (sums.focus[i]! += ev.t2i[l]!.r1));
      } finally {
        head.dispose();
      }
    }
    const m = evalFolds.length;
    const left = emb.langs.filter((l) => !trainLangs.includes(l));
    rows.push({
      variant: label,
      temperature: config.temperature,
      lambda_prox: config.lambdaProx,
      train_langs: left.length === 0 ? "all" : `all but ${left.join(" ")}`,
      t2i_r1: sums.t2i / m,
      i2t_r1: sums.i2t / m,
      ...Object.fromEntries(focus.map((l, i) => [`t2i_r1_${l}`, sums.focus[i]! / m])),
      best_epoch: sums.best / m,
    });
  }
  const boot = { seed: 2025, resamples: 1000 };
  const interval = (values: number[]) => {
    const ci = bootstrapInterval(weightedMeanStatistic(values), values.length, boot);
    return { low: ci.low, high: ci.high };
  };
  const defaultInterval = interval(itemHits[0]!.macro);
  const focusIntervals = focus.map((_, i) => interval(itemHits[0]!.focus[i]!));
  const fmt = (ci: { low: number; high: number }) => `${ci.low.toFixed(3)}–${ci.high.toFixed(3)}`;
  const chance = evalFolds.reduce((a, f) => a + 1 / folds[f]!.test.length, 0) / evalFolds.length;
  for (const r of rows) {
    r.chance = chance;
    r.default_95ci = fmt(defaultInterval);
    focus.forEach((l, i) => (r[`default_95ci_${l}`] = fmt(focusIntervals[i]!)));
  }
  const d = rows[0]!;
  const readings = [
    `${d.variant}: t2i R@1 ${(d.t2i_r1 as number).toFixed(3)} (95% interval ${
      fmt(defaultInterval)
    }), ${((d.t2i_r1 as number) / chance).toFixed(1)}× chance (${chance.toFixed(3)}).`,
    ...rows.slice(1).flatMap((r) => [
      readAgainstDefault(String(r.variant), "t2i R@1", r.t2i_r1 as number, defaultInterval),
      ...focus.map((l, i) =>
        readAgainstDefault(
          String(r.variant),
          `${l} t2i R@1`,
          r[`t2i_r1_${l}`] as number,
          focusIntervals[i]!,
        )
      ),
    ]),
  ];
  const columns = [
    "variant",
    "temperature",
    "lambda_prox",
    "train_langs",
    "t2i_r1",
    "default_95ci",
    "chance",
    "i2t_r1",
    ...focus.flatMap((l) => [`t2i_r1_${l}`, `default_95ci_${l}`]),
    "best_epoch",
  ];
  const formats = Object.fromEntries(
    columns.filter((c) => c.includes("r1") || c === "chance").map((c) => [c, 3]),
  );
  const seconds = (performance.now() - t0) / 1000;
  const nHold = evalFolds.reduce((a, f) => a + folds[f]!.test.length, 0);
  const table = displayTable(
    `Try it: D's ${kind} head, ${recipes.length} recipes`,
    columns,
    rows,
    { ...formats, temperature: 3, lambda_prox: 4, best_epoch: 1 },
    [
      ...readings,
      `holdout R@1 (fractions) on fold${evalFolds.length > 1 ? "s" : ""} ${
        evalFolds.map((f) => f + 1).join(", ")
      } of ${k} (${nHold} items; seed ${seed}); R@1 macro over ${
        emb.langs.join(" ")
      }; chance = 1 / candidate images; default_95ci = the default recipe's 95% bootstrap interval over holdout items (seed ${boot.seed}, ${boot.resamples} resamples)`,
      `${defaults.epochs} epochs × ${defaults.stepsPerEpoch} steps per recipe (unless a recipe changes them); ${
        seconds.toFixed(1)
      } s in all`,
    ],
  );
  return Object.assign(table, { seconds, defaultInterval, chance, readings });
}
