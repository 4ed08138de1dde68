import { join } from "node:path";
import { kFoldIndices } from "../cv/k_fold.ts";
import { diagnoseLanguages, type DiagnosticsSummary } from "../diagnostics/diagnose_languages.ts";
import type { LangIdTestRows } from "../diagnostics/lang_id_probe.ts";
import { createHead } from "../heads/create_head.ts";
import type { HeadKind, HeadState } from "../heads/head.ts";
import { projectRowsAsync } from "../heads/project_rows.ts";
import { readHeadStateAsync } from "../heads/head_state.ts";
import { textToImageRetrieval } from "../retrieval/cross_modal_retrieval.ts";
import { evaluateFold, type FoldEvaluation } from "../retrieval/fold_evaluation.ts";
import { type RowMatrix, selectRows } from "../retrieval/row_matrix.ts";
import { resolveTrainConfig, type TrainConfig } from "../train/train_config.ts";
import { trainHead } from "../train/train_head.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { cachedResult, type ResultCacheOptions } from "../eval_cache/result_cache.ts";
import { codeFingerprint } from "../eval_cache/code_fingerprint.ts";
import { numericEnvironment } from "../eval_cache/numeric_environment.ts";
import type { AlignmentEmbeddings } from "./embedding_dir.ts";

/** Heads that are trained (the identity "Before" baseline is always evaluated). */
export type TrainedHeadKind = Exclude<HeadKind, "identity">;

/** Options of {@link runImagePivotCv}. */
export interface ImagePivotCvOptions {
  /** Heads to train (default linear and MLP). */
  heads?: readonly TrainedHeadKind[];
  /** Number of folds (D: 5). */
  folds?: number;
  /** KFold shuffle seed, head initialisation and batch sampling seed (D: `--seed 7`). */
  seed?: number;
  /** Seed of the lang-ID probe's split (default 0: D's `--langid_seed` default). */
  langIdSeed?: number;
  /** Identity head only: no training (`deno task align --before-only`). */
  beforeOnly?: boolean;
  /** Overrides of D's training configuration (`PAPER_D_TRAIN_CONFIG`). */
  train?: Partial<TrainConfig>;
  /** Compute Table 6's diagnostics (default true). */
  diagnostics?: boolean;
  /** Run the lang-ID probe inside the diagnostics (default true; the slowest diagnostic). */
  probe?: boolean;
  /** Folder for per-fold `.safetensors` training checkpoints; a rerun resumes from them. */
  checkpointDir?: string;
  /** Progress bars for training (default true). */
  progress?: boolean;
  /**
   * Keep the finished result on disk (lib/eval_cache, `.cache/results/d-cv/`), keyed by the
   * embeddings' bytes, the options above, the code and the numeric backend; a rerun returns it
   * without training or evaluating, replaying `onHoldout` (holdout rows projected by each fold's
   * stored head) and `log`. Default false (notebook 05 turns it on).
   */
  cache?: boolean | ResultCacheOptions;
  /** Called with a one-line message as each fold × head finishes. */
  log?: (line: string) => void;
  /**
   * Called for each fold × head with its holdout item indices, projected holdout rows (in that
   * order) and the lang-ID probe's test rows (null when the probe or the diagnostics are off),
   * e.g. lib/claims' `ImagePivotItemRecorder.record` for per-item outcomes.
   */
  onHoldout?: (
    fold: number,
    head: HeadKind,
    holdout: number[],
    text: Record<string, RowMatrix>,
    images: RowMatrix,
    langId: HoldoutLangIdRows | null,
  ) => void | Promise<void>;
}

/**
 * The lang-ID probe's test rows on one fold × head: `test.row` indexes the holdout rows (row r =
 * item `holdout[r]`), `test.language` indexes `languages`. Every head of a fold gets the same
 * test rows (the split depends only on the row counts and `langIdSeed`).
 */
export interface HoldoutLangIdRows {
  readonly languages: readonly string[];
  readonly test: LangIdTestRows;
}

/** One head on one fold. */
export interface HeadFoldResult {
  fold: number;
  head: HeadKind;
  evaluation: FoldEvaluation;
  diagnostics: DiagnosticsSummary | null;
  /** Null for the identity head. */
  training: {
    bestEpoch: number;
    bestScore: number;
    epochScores: number[];
    msPerStep: number;
    steps: number;
  } | null;
}

/** Everything {@link runImagePivotCv} measured. */
export interface ImagePivotCvResult {
  langs: string[];
  n: number;
  d: number;
  seed: number;
  /** Seed of the lang-ID probe (D: 0). */
  langIdSeed: number;
  /** Holdout row indices of every fold (what `--dump-folds` writes). */
  folds: number[][];
  /** Heads in table order: identity first. */
  heads: HeadKind[];
  results: HeadFoldResult[];
  /** Training configuration used (null with `beforeOnly`). */
  trainConfig: TrainConfig | null;
  /** Fold 0's trained head parameters, for paper D's UMAP figure (D-F1). */
  fold0States: Partial<Record<TrainedHeadKind, HeadState>>;
}

async function projectAll(
  state: { kind: HeadKind; apply: (data: Float32Array) => Promise<Float32Array> },
  emb: AlignmentEmbeddings,
  rows?: ArrayLike<number>,
): Promise<Record<string, RowMatrix>> {
  const out: Record<string, RowMatrix> = {};
  for (const l of emb.langs) {
    const m = rows === undefined ? emb.textByLang[l]! : selectRows(emb.textByLang[l]!, rows, l);
    out[l] = state.kind === "identity"
      ? m
      : { data: await state.apply(m.data), rows: m.rows, cols: m.cols };
  }
  return out;
}

/**
 * Paper D's protocol ([D] §4.5; mattiadri/crosslingual-contrastive@e2a8979 `align_text_to_image.py`) on fixed embeddings: scikit-learn-identical K folds (shuffle,
 * `random_state = seed`); on each fold the identity ("Before") head and each trained head
 * (residual linear, residual MLP; D's best configuration, best epoch by holdout macro t2i R@1 —
 * selected on the reported fold, as D's code does) are evaluated on the holdout rows: t2i, i2t and
 * pivot retrieval and, unless switched off, Table 6's diagnostics. The identity results do not
 * depend on any training, so `beforeOnly` gives exactly the "Before" columns.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignmentEmbeddings } from "./embedding_dir.ts";
 * import { runImagePivotCv } from "./image_pivot_cv.ts";
 * const m = { data: Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7)), rows: 10, cols: 4 };
 * const r = await runImagePivotCv(alignmentEmbeddings(m, { en: m, de: m }), { beforeOnly: true, diagnostics: false });
 * assert(r.results.length === 5 && r.results[0]!.evaluation.t2iMacro.r1 === 1);
 * ```
 */
export async function runImagePivotCv(
  emb: AlignmentEmbeddings,
  options: ImagePivotCvOptions = {},
): Promise<ImagePivotCvResult> {
  if (!options.cache) return (await computeCv(emb, options)).result;
  const hash = (m: RowMatrix) =>
    sha256Hex(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  const key = {
    what: "runImagePivotCv",
    embeddings: {
      n: emb.n,
      d: emb.d,
      langs: [...emb.langs],
      images: hash(emb.images),
      text: emb.langs.map((l) => hash(emb.textByLang[l]!)),
    },
    options: {
      heads: options.heads ?? null,
      folds: options.folds ?? null,
      seed: options.seed ?? null,
      langIdSeed: options.langIdSeed ?? null,
      beforeOnly: options.beforeOnly ?? false,
      train: options.train ?? null,
      diagnostics: options.diagnostics ?? null,
      probe: options.probe ?? null,
    },
    code: await codeFingerprint(["lib/image_pivot/image_pivot_cv.ts"]),
    numeric: numericEnvironment(),
  };
  let computed = false;
  const out = await cachedResult(
    "d-cv",
    key,
    () => {
      computed = true;
      return computeCv(emb, options);
    },
    typeof options.cache === "object" ? options.cache : {},
  );
  if (!computed) await replayCv(emb, out, options);
  return out.result;
}

/** A cached run's `log` lines and `onHoldout` calls, in the order the run made them. */
async function replayCv(
  emb: AlignmentEmbeddings,
  out: ComputedCv,
  options: ImagePivotCvOptions,
): Promise<void> {
  const { result, states } = out;
  if (out.langIds.length !== result.results.length) {
    throw new KitError("d-cv cache: lang-ID rows do not match the results");
  }
  const k = result.folds.length;
  for (const [i, r] of result.results.entries()) {
    const holdout = result.folds[r.fold]!;
    if (options.onHoldout) {
      let text: Record<string, RowMatrix>;
      if (r.head === "identity") {
        text = await projectAll(
          { kind: "identity", apply: (x) => Promise.resolve(x) },
          emb,
          holdout,
        );
      } else {
        const state = states[r.fold]?.[r.head as TrainedHeadKind];
        if (!state) throw new KitError(`d-cv cache: fold ${r.fold} ${r.head} head state missing`);
        const head = createHead(r.head, emb.d, { seed: result.seed });
        try {
          head.setState(state);
          const apply = (data: Float32Array) => projectRowsAsync(head, data);
          text = await projectAll({ kind: r.head, apply }, emb, holdout);
        } finally {
          head.dispose();
        }
      }
      await options.onHoldout(
        r.fold,
        r.head,
        holdout,
        text,
        selectRows(emb.images, holdout, "images"),
        out.langIds[i] ?? null,
      );
    }
    options.log?.(
      `fold ${r.fold + 1}/${k} ${r.head}: t2i R@1 ${r.evaluation.t2iMacro.r1.toFixed(4)}, i2t R@1 ${
        r.evaluation.i2tMacro.r1.toFixed(4)
      } (cached)`,
    );
  }
}

/** The result and every fold's trained head states (what a cache hit replays `onHoldout` from). */
interface ComputedCv {
  result: ImagePivotCvResult;
  states: Partial<Record<TrainedHeadKind, HeadState>>[];
  /** The `langId` argument of each `onHoldout` call, in `result.results` order. */
  langIds: (HoldoutLangIdRows | null)[];
}

async function computeCv(
  emb: AlignmentEmbeddings,
  options: ImagePivotCvOptions,
): Promise<ComputedCv> {
  const k = options.folds ?? 5;
  const seed = options.seed ?? 7;
  const langIdSeed = options.langIdSeed ?? 0;
  if (!Number.isInteger(k) || k < 2) throw new KitError(`folds must be an integer ≥ 2, got ${k}`);
  if (emb.n < k) throw new KitError(`${emb.n} items cannot be split into ${k} folds`);
  const trained: TrainedHeadKind[] = options.beforeOnly
    ? []
    : [...(options.heads ?? ["linear", "mlp"])];
  for (const h of trained) {
    if (h !== "linear" && h !== "mlp") {
      throw new KitError(`unknown head "${h}": expected linear or mlp`);
    }
  }
  const trainConfig = trained.length > 0 ? resolveTrainConfig({ seed, ...options.train }) : null;
  const diagnostics = options.diagnostics ?? true;
  const folds = kFoldIndices(emb.n, k, seed, { shuffle: true });
  const results: HeadFoldResult[] = [];
  const states: Partial<Record<TrainedHeadKind, HeadState>>[] = folds.map(() => ({}));
  const langIds: (HoldoutLangIdRows | null)[] = [];
  const log = options.log ?? (() => {});

  const assess = async (
    fold: number,
    head: HeadKind,
    holdout: number[],
    project: { kind: HeadKind; apply: (data: Float32Array) => Promise<Float32Array> },
    training: HeadFoldResult["training"],
  ) => {
    const t0 = performance.now();
    const textHold = await projectAll(project, emb, holdout);
    const imagesHold = selectRows(emb.images, holdout, "images");
    const evaluation = await evaluateFold(textHold, imagesHold, {
      langs: emb.langs,
      pivot: emb.langs.length > 1,
    });
    const diagnosis = diagnostics
      ? diagnoseLanguages(textHold, {
        seed: langIdSeed,
        k: Math.min(10, holdout.length - 1),
        probe: options.probe ?? true,
        languages: emb.langs,
      })
      : null;
    const langId = diagnosis?.probe
      ? { languages: diagnosis.languages, test: diagnosis.probe.test }
      : null;
    await options.onHoldout?.(fold, head, holdout, textHold, imagesHold, langId);
    langIds.push(langId);
    const diag = diagnosis?.macro ?? null;
    results.push({ fold, head, evaluation, diagnostics: diag, training });
    log(
      `fold ${fold + 1}/${k} ${head}: t2i R@1 ${evaluation.t2iMacro.r1.toFixed(4)}, i2t R@1 ${
        evaluation.i2tMacro.r1.toFixed(4)
      } (${((performance.now() - t0) / 1000).toFixed(1)} s eval)`,
    );
  };

  for (let f = 0; f < folds.length; f++) {
    const { train, test } = folds[f]!;
    await assess(f, "identity", test, { kind: "identity", apply: (x) => Promise.resolve(x) }, null);
    for (const kind of trained) {
      const head = createHead(kind, emb.d, { seed });
      try {
        const apply = (data: Float32Array) => projectRowsAsync(head, data);
        const imagesHold = selectRows(emb.images, test, "images");
        const res = await trainHead({
          head,
          textByLang: emb.textByLang,
          images: emb.images,
          trainIdx: train,
          holdoutIdx: test,
          config: trainConfig!,
          evaluate: async () => {
            const text = await projectAll({ kind, apply }, emb, test);
            let s = 0;
            for (const l of emb.langs) s += (await textToImageRetrieval(text[l]!, imagesHold)).r1;
            return s / emb.langs.length;
          },
          checkpointPath: options.checkpointDir
            ? join(options.checkpointDir, `fold${f}_${kind}.safetensors`)
            : undefined,
          resume: options.checkpointDir !== undefined,
          progress: options.progress === false ? false : {},
          label: `fold ${f + 1}/${k} ${kind} head`,
        });
        states[f]![kind] = await readHeadStateAsync(head.parameters);
        await assess(f, kind, test, { kind, apply }, {
          bestEpoch: res.bestEpoch,
          bestScore: res.bestScore,
          epochScores: res.epochScores,
          msPerStep: res.msPerStep,
          steps: res.stepsDone,
        });
      } finally {
        head.dispose();
      }
    }
  }
  return {
    result: {
      langs: [...emb.langs],
      n: emb.n,
      d: emb.d,
      seed,
      langIdSeed,
      folds: folds.map((f) => f.test),
      heads: ["identity", ...trained],
      results,
      trainConfig,
      fold0States: states[0]!,
    },
    states,
    langIds,
  };
}

/**
 * Applies a trained head state (e.g. `result.fold0States.mlp`) to caption rows: the projected,
 * re-normalised rows.
 */
export async function applyHeadState(
  kind: TrainedHeadKind,
  state: HeadState,
  rows: RowMatrix,
  seed = 7,
): Promise<RowMatrix> {
  const head = createHead(kind, rows.cols, { seed });
  try {
    head.setState(state);
    return { data: await projectRowsAsync(head, rows.data), rows: rows.rows, cols: rows.cols };
  } finally {
    head.dispose();
  }
}
