/**
 * `./kit task reproduce --profile paper --rehearse`: runs the paper notebooks end to end on the
 * stand-ins of `ensureRehearsalStandins` (real formats and sizes, random weights, synthetic
 * data), each notebook as its own `reproduce --profile paper --only NN` process in a fresh cache
 * folder (so no cache of an earlier run makes it faster), recording its wall time and the peak
 * RSS of its process tree; writes `rehearsal.json` and `rehearsal.md` into the run folder.
 */
import { join, resolve } from "node:path";
import { loadavg } from "node:os";
import { machineInfo } from "../plan/unit_costs.ts";
import { NOTEBOOKS } from "../plan/notebook_inputs.ts";
import { cacheDir, PROJECT_ROOT } from "../util/paths.ts";
import { KitError } from "../util/kit_error.ts";
import { atomicWriteFile, atomicWriteJson } from "../util/atomic_write.ts";
import { formatBytes, formatSeconds } from "../plan/plan_report.ts";
import { processTree, ProcessTreePeakRss } from "./process_tree_rss.ts";
import {
  ensureCocoStandin,
  ensureKRehearsalStandins,
  ensureKTrainingStandins,
  ensureRehearsalStandins,
  type KRehearsalStandins,
  type KTrainingStandins,
  type RehearsalScale,
  type RehearsalStandins,
} from "./rehearsal_standins.ts";
import {
  type EmbedExtrapolation,
  extrapolatedEmbedSeconds,
  readEmbedLimitLog,
} from "./embed_limit.ts";
import {
  extrapolatedKTrainingSeconds,
  type KTrainingExtrapolation,
  readKStepCapLog,
} from "./k_step_cap.ts";
import { rehearsalMarkdown, type RehearsalRecord, type RehearsalRow } from "./rehearsal_table.ts";

/** What each notebook's rehearsal shortens or replaces (stated in the table). */
export const REHEARSAL_SHORTENED: Readonly<Record<string, string>> = {
  "00_dataset_build":
    "COCO 2017 stand-in at the real counts (118,287 + 5,000 JPEGs at 640 px, synthetic: 64 base pictures, every file distinct in its bytes; 591,753 + 25,014 synthetic captions); WIT: gzipped train/val/test TSV shards with D's 2,770 items × 9 languages (the real 20 shards, ~25 GB gzipped, are not scanned; the plan prices that scan) and 2,770 JPEGs at 1,200 px.",
  "01_translation":
    "no NLLB folder (the optional engine): the kit's other engines only; AmericasNLP 2021 from the mirror.",
  "02_training":
    "K's text tower: the untuned XLM-R-large stand-in of 03 (random weights of the real architecture, 2.24 GB F32, synthetic SentencePiece tokenizer); image tower: ViT-B/16-in21k as a random-weight folder of the real architecture (12 layers, hidden 768, 12 heads, MLP 3072, patch 16, 224 px; 86.4M parameters, 346 MB F32); KIT_K_TRANSLATIONS: one caption record per image of the COCO stand-in (118,287 + 5,000, as the plan counts K's records; en its first COCO caption) with synthetic es/ja/hi/qu captions at realistic lengths (94 MB); everything else K's plan: 4 setups, 32 images a batch, 512-d projections, 128 tokens, K's loop and validation over COCO val2017. 03 and 04 do not read 02's output here: they read K's setup stand-ins through KIT_K_SETUPS_DIR.",
  "03_bitext_retrieval":
    "untuned XLM-R-large as a random-weight folder of the real architecture (24 layers, hidden 1024, 16 heads, FFN 4096, 514 positions, vocabulary 250,002 with a synthetic SentencePiece-Unigram tokenizer.json; ~560M parameters, 2.24 GB F32); K's four setups as KIT_K_SETUPS_DIR folders (not 02's output) sharing that one weight file (hard links), each with its own random 512×1024 text projection; FLORES-200 stand-in: devtest 1,012 (+ dev 997) synthetic sentences × 204 languages in their scripts (~21 words, N(21, 8)); the in-domain stamp captions of the mini dataset (built here); everything else at full size: five encoders, cosine and xsim, 1,000 bootstrap resamples.",
  "04_xnli":
    "the same XLM-R-large and K setup stand-ins as 03 (KIT_K_SETUPS_DIR, not 02's output); MultiNLI 1.0 stand-in: train 392,702 synthetic pairs (three hypotheses a premise), dev matched/mismatched 10,000 lines each (185/168 without a gold label); XNLI 1.0 stand-in: test 5,010 pairs × 15 languages (+ dev 2,490 × 15), synthetic words in each language's script; AmericasNLI test: the real files from the data mirror (750 pairs × 10 languages); everything else at full size: the probe trained on all MultiNLI pairs, selection, bootstrap.",
  "05_representation_diagnostics":
    "D's frozen pair as random-weight ONNX of the real architectures (CLIP ViT-B/32 vision, 88M; multilingual DistilBERT, 135M, vocabulary 119,547, + 2_Dense 768→512); synthetic captions of 3–25 words (one WordPiece a word); everything else at full size: 2,770 items, d = 512, five folds, both heads, diagnostics, D5 replicates, D-F1.",
};

/** The notebooks this version rehearses. */
export const REHEARSED_NOTEBOOKS = ["00", "01", "02", "03", "04", "05"] as const;

/** The notebooks whose inputs are K's evaluation stand-ins (`ensureKRehearsalStandins`). */
const K_NOTEBOOKS = ["03", "04"];
/** The notebook whose inputs are K's training stand-ins (`ensureKTrainingStandins`). */
const K_TRAINING_NOTEBOOK = "02";
/** The notebooks whose inputs are D's stand-ins (`ensureRehearsalStandins`). */
const D_NOTEBOOKS = ["00", "01", "05"];

/** What `--rehearse-embed-limit N` shortens, said in the table (rows of 03 and 04). */
export function embedLimitNote(limit: number): string {
  return `EMBED LIMIT ${limit}: each embed call of K's encoders embedded its first ${limit} texts for real and repeated those rows for the rest (every later step ran on full-size matrices); the extrapolated time adds, per call, its measured seconds × (requested / embedded − 1).`;
}

/** What `--rehearse-k-steps N` shortens, said in the table (02's row). */
export function kStepCapNote(steps: number): string {
  return `K SHORTENED TO ${steps} STEP${
    steps === 1 ? "" : "S"
  } A SETUP (--rehearse-k-steps): each of the four setups trained its first ${steps} step${
    steps === 1 ? "" : "s"
  } of K's plan at the real batch, towers and data (${
    steps >= 2 ? "the frozen warm-up shrunk to half of them" : "both towers training"
  }), then validated once at the real validation size; the extrapolated time prices the plan's other steps (at the mean after the first step of each kind when two or more ran), validations and checkpoint writes at the measured means.`;
}

/** How 02's extrapolated time was made (the table's words). */
export function kTrainingExtrapolationNote(x: KTrainingExtrapolation): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return `measured wall + Σ over ${x.setups} setups of the plan's remaining steps (${
    n(x.plannedSteps - x.steps)
  }; ${n(x.steps)} measured, ${
    formatSeconds(x.steps > 0 ? x.stepSeconds / x.steps : 0)
  } a step on average), validations (${n(x.plannedValidations)} planned, ${
    n(x.validations)
  } measured, ${
    formatSeconds(x.validations > 0 ? x.validationSeconds / x.validations : 0)
  } each) and checkpoint writes × their measured means`;
}

/** How a row's extrapolated time was made (the table's words). */
export function embedExtrapolationNote(limit: number, x: EmbedExtrapolation): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return `measured wall + Σ over ${
    n(x.calls)
  } embed calls of seconds × (requested / embedded − 1); ${n(x.embedded)} of ${
    n(x.requested)
  } texts embedded (limit ${n(limit)} a call), ${
    formatSeconds(x.embedSeconds)
  } of measured embedding`;
}

async function symlink(target: string, path: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.remove(path).catch(() => {});
  await Deno.symlink(target, path);
}

/**
 * A fresh run folder whose cache and model folders point at the stand-ins: D's (`s`) and K's
 * (`k`: XLM-R-large as K's text-tower folder, the setups as `KIT_K_SETUPS_DIR`, FLORES-200,
 * XNLI 1.0 and MultiNLI 1.0 as the registry's cached datasets), either may be null.
 */
export async function prepareRehearsalRun(
  runDir: string,
  s: RehearsalStandins | null,
  k: KRehearsalStandins | null = null,
  training: { coco: string; k: KTrainingStandins } | null = null,
): Promise<Record<string, string>> {
  const cache = join(runDir, "cache"), models = join(runDir, "models");
  await Deno.mkdir(cache, { recursive: true });
  await Deno.mkdir(models, { recursive: true });
  if (s) {
    await symlink(s.coco, join(cache, "data", "mscoco-2017"));
    await symlink(s.wit.shards, join(cache, "data", "wit-v1"));
    await symlink(s.wit.images, join(cache, "wit-images"));
    await symlink(s.clipVision, join(models, "openai", "clip-vit-base-patch32"));
    await symlink(
      s.mclipText,
      join(models, "sentence-transformers", "clip-ViT-B-32-multilingual-v1"),
    );
  }
  const env: Record<string, string> = {
    KIT_CACHE_DIR: cache,
    KIT_MODELS_DIR: models,
    KIT_ARTIFACT_DIR: join(runDir, "figures"),
  };
  if (k) {
    const text = join(models, "FacebookAI", "xlm-roberta-large");
    await symlink(k.xlmr, text);
    await symlink(k.flores, join(cache, "data", "flores200"));
    await symlink(k.xnli, join(cache, "data", "xnli-1.0"));
    await symlink(k.multinli, join(cache, "data", "multinli-1.0"));
    env.KIT_K_TEXT_MODEL = text;
    env.KIT_K_SETUPS_DIR = k.kSetups;
  }
  if (training) {
    // 02: COCO (D's stand-ins link the same folder when they are made), both towers, the
    // translations file
    if (!s) await symlink(training.coco, join(cache, "data", "mscoco-2017"));
    const text = join(models, "FacebookAI", "xlm-roberta-large");
    const image = join(models, "google", "vit-base-patch16-224-in21k");
    await symlink(training.k.xlmr, text);
    await symlink(training.k.vit, image);
    env.KIT_K_TEXT_MODEL = text;
    env.KIT_K_IMAGE_MODEL = image;
    env.KIT_K_TRANSLATIONS = training.k.translations;
  }
  return env;
}

/** Options of `runRehearsal`. */
export interface RehearsalOptions {
  scale: RehearsalScale;
  /** Two-digit notebook numbers; default all (those this version cannot rehearse are skipped). */
  only?: string[];
  backend?: string;
  /** Where the run folder goes (default `<cache>/rehearsal/run-<scale>-<time>`). */
  runDir?: string;
  /** Where the stand-ins go (default `<cache>/rehearsal`). */
  standinRoot?: string;
  /** COCO's stand-in size (default `scale`; tiny: measure D's path without the COCO build). */
  cocoScale?: RehearsalScale;
  /** What ran beside the rehearsal, in words, for the table. */
  loadNote?: string;
  /**
   * `--rehearse-k-steps N`: each of K's setups (02) trains its first N steps of K's plan at the
   * real sizes and validates once (`KIT_REHEARSE_K_STEPS`); 02's extrapolated time is derived
   * from the measured step and validation times × the plan's counts.
   */
  kSteps?: number;
  /**
   * `--rehearse-embed-limit N`: K's encoders embed the first N texts of each call for real and
   * repeat those rows (`withEmbedLimit`); 03/04's extrapolated time is derived from the log.
   */
  embedLimit?: number;
  /**
   * `--rehearse-time-limit S`: a notebook still running after S seconds is stopped (SIGINT to its
   * `reproduce`, which shuts its kernel down; SIGKILL to what is left of its process tree after
   * 15 s) and recorded as `stopped`, with its time, memory, CPU and log, so that a run too long for
   * the machine still leaves its record.
   */
  timeLimitSeconds?: number;
  cellTimeout?: number;
}

/** Stops a notebook's process tree: SIGINT to its root, then SIGKILL to every survivor. */
async function stopProcessTree(pid: number, exited: Promise<unknown>): Promise<void> {
  const tree = await processTree(pid);
  try {
    Deno.kill(pid, "SIGINT");
  } catch { /* already gone */ }
  const gone = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
  ]);
  for (const p of gone ? tree.filter((p) => p !== pid) : tree) {
    try {
      Deno.kill(p, "SIGKILL");
    } catch { /* already gone */ }
  }
}

/** Runs the rehearsal; returns the record (also written as JSON and Markdown in the run folder). */
export async function runRehearsal(opts: RehearsalOptions): Promise<RehearsalRecord> {
  const startedAt = new Date().toISOString();
  if (
    opts.embedLimit !== undefined && (!Number.isInteger(opts.embedLimit) || opts.embedLimit < 1)
  ) {
    throw new KitError(`--rehearse-embed-limit ${opts.embedLimit}: expected a positive integer`);
  }
  if (
    opts.timeLimitSeconds !== undefined &&
    !(Number.isFinite(opts.timeLimitSeconds) && opts.timeLimitSeconds > 0)
  ) {
    throw new KitError(
      `--rehearse-time-limit ${opts.timeLimitSeconds}: expected a positive number of seconds`,
    );
  }
  if (opts.kSteps !== undefined && (!Number.isInteger(opts.kSteps) || opts.kSteps < 1)) {
    throw new KitError(`--rehearse-k-steps ${opts.kSteps}: expected a positive integer`);
  }
  const wanted = opts.only && opts.only.length > 0
    ? opts.only
    : NOTEBOOKS.map((n) => n.slice(0, 2));
  // only the stand-ins of the notebooks that run are made (K's and D's are independent)
  const standins = wanted.some((n) => D_NOTEBOOKS.includes(n))
    ? await ensureRehearsalStandins({
      scale: opts.scale,
      root: opts.standinRoot,
      cocoScale: opts.cocoScale,
    })
    : null;
  const kStandins = wanted.some((n) => K_NOTEBOOKS.includes(n))
    ? await ensureKRehearsalStandins({ scale: opts.scale, root: opts.standinRoot })
    : null;
  const cocoScale = opts.cocoScale ?? opts.scale;
  // 02: the COCO stand-in (D's when made), XLM-R-large, ViT-B/16 and the translations over COCO
  const training = wanted.includes(K_TRAINING_NOTEBOOK)
    ? await (async () => {
      const coco = standins?.coco ??
        await ensureCocoStandin({ scale: cocoScale, root: opts.standinRoot });
      const k = await ensureKTrainingStandins({
        scale: opts.scale,
        coco,
        root: opts.standinRoot,
      });
      return { coco, k };
    })()
    : null;
  const runDir = opts.runDir
    ? resolve(opts.runDir)
    : join(cacheDir(), "rehearsal", `run-${opts.scale}-${startedAt.replace(/[:.]/g, "-")}`);
  await Deno.mkdir(join(runDir, "logs"), { recursive: true });
  const env = await prepareRehearsalRun(runDir, standins, kStandins, training);
  const m = machineInfo();
  const load = { start: loadavg()[0] ?? 0, end: 0, max: loadavg()[0] ?? 0 };
  const rows: RehearsalRow[] = [];
  for (const nb of NOTEBOOKS) {
    const nn = nb.slice(0, 2);
    if (!wanted.includes(nn)) continue;
    let shortened = REHEARSAL_SHORTENED[nb] ?? "";
    if (opts.embedLimit !== undefined && K_NOTEBOOKS.includes(nn)) {
      shortened = `${embedLimitNote(opts.embedLimit)} ${shortened}`;
    }
    const capped = opts.kSteps !== undefined && nn === K_TRAINING_NOTEBOOK;
    if (capped) shortened = `${kStepCapNote(opts.kSteps!)} ${shortened}`;
    if (opts.scale === "tiny") {
      shortened = `TINY stand-ins (wiring check), not the sizes below: ${shortened}`;
    } else if (nb === "00_dataset_build" && cocoScale === "tiny") {
      shortened =
        `COCO stand-in TINY (40 + 10 images; this row is not a full-size 00): ${shortened}`;
    } else if (nn === K_TRAINING_NOTEBOOK && cocoScale === "tiny") {
      shortened =
        `COCO stand-in TINY (40 + 10 images, so K's plan and validation are those of 40 + 10 records: the steps are real-shape, the plan's counts and the validation are not; no full-size extrapolation): ${shortened}`;
    }
    if (!(REHEARSED_NOTEBOOKS as readonly string[]).includes(nn)) {
      rows.push({
        notebook: nb,
        status: "skipped",
        seconds: null,
        peakRssBytes: null,
        shortened,
        extrapolatedSeconds: null,
      });
      console.error(`rehearsal: ${nb}: skipped (${shortened})`);
      continue;
    }
    const log = join(runDir, "logs", `${nb}.log`);
    const embedLog = join(runDir, "logs", `${nb}.embed.jsonl`);
    const kLog = join(runDir, "logs", `${nb}.ksteps.jsonl`);
    await Deno.remove(embedLog).catch(() => {});
    await Deno.remove(kLog).catch(() => {});
    const nbEnv: Record<string, string> = { ...env };
    if (opts.embedLimit !== undefined) {
      Object.assign(nbEnv, {
        KIT_REHEARSE_EMBED_LIMIT: String(opts.embedLimit),
        KIT_REHEARSE_EMBED_LOG: embedLog,
        KIT_REHEARSE_NOTEBOOK: nb,
      });
    }
    if (capped) {
      Object.assign(nbEnv, {
        KIT_REHEARSE_K_STEPS: String(opts.kSteps),
        KIT_REHEARSE_K_LOG: kLog,
        KIT_REHEARSE_NOTEBOOK: nb,
      });
    }
    const file = await Deno.open(log, { write: true, create: true, truncate: true });
    const args = [
      "run",
      "-A",
      join(PROJECT_ROOT, "tools", "reproduce.ts"),
      "--profile",
      "paper",
      "--only",
      nn,
      "--no-report",
      "--no-plan",
      ...(opts.backend ? ["--backend", opts.backend] : []),
      ...(opts.cellTimeout ? ["--cell-timeout", String(opts.cellTimeout)] : []),
    ];
    console.error(`rehearsal: ${nb} ... (log: ${log})`);
    const t0 = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: PROJECT_ROOT,
      env: nbEnv,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const sampler = new ProcessTreePeakRss(child.pid, 500);
    let stopped = false;
    const limit = opts.timeLimitSeconds === undefined ? undefined : setTimeout(() => {
      stopped = true;
      console.error(`rehearsal: ${nb}: stopping at the time limit (${opts.timeLimitSeconds} s)`);
      void stopProcessTree(child.pid, child.status);
    }, opts.timeLimitSeconds * 1000);
    await Promise.all([
      child.stdout.pipeTo(file.writable, { preventClose: true }),
      child.stderr.pipeTo(
        new WritableStream({ write: (c) => void file.writeSync(c) }),
      ),
    ]);
    const status = await child.status;
    clearTimeout(limit);
    const seconds = (performance.now() - t0) / 1000;
    const { peakBytes, cpuSeconds } = await sampler.stop();
    file.close();
    load.max = Math.max(load.max, loadavg()[0] ?? 0);
    const row: RehearsalRow = {
      notebook: nb,
      status: stopped ? "stopped" : status.success ? "measured" : "failed",
      seconds,
      peakRssBytes: peakBytes,
      cpuSeconds,
      shortened,
      extrapolatedSeconds: null,
      log,
    };
    if (opts.embedLimit !== undefined && status.success) {
      const entries = await readEmbedLimitLog(embedLog);
      if (entries.length > 0) {
        const x = extrapolatedEmbedSeconds(entries);
        row.extrapolatedSeconds = seconds + x.extraSeconds;
        row.extrapolation = embedExtrapolationNote(opts.embedLimit, x);
        row.embedLog = embedLog;
      }
    }
    if (capped && status.success) {
      const entries = await readKStepCapLog(kLog);
      if (entries.length > 0) {
        const x = extrapolatedKTrainingSeconds(entries);
        row.kStepLog = kLog;
        if (cocoScale === "tiny" && opts.scale === "full") {
          // the plan's counts are the tiny COCO's: the measured step times are the result
          row.note = `COCO tiny: no full-size extrapolation; ${
            kTrainingExtrapolationNote(x).replace(/^measured wall \+ /, "measured: ")
          } (${kLog})`;
        } else {
          row.extrapolatedSeconds = seconds + x.extraSeconds;
          row.extrapolation = kTrainingExtrapolationNote(x);
        }
      } else {
        row.note = `no K step log (${kLog}): the setups were loaded from a cache, nothing trained`;
      }
    }
    if (stopped) {
      row.note = `stopped at the time limit of ${
        formatSeconds(opts.timeLimitSeconds ?? 0)
      } (--rehearse-time-limit); its log: ${log}.`;
    } else if (!status.success) {
      const tail = (await Deno.readTextFile(log)).split("\n").filter((l) => l.trim()).slice(-3);
      row.note = `exit ${status.code}: ${tail.join(" / ").slice(0, 300)}`;
    }
    rows.push(row);
    console.error(
      `rehearsal: ${nb}: ${row.status} in ${formatSeconds(seconds)}, peak RSS ${
        formatBytes(peakBytes)
      }`,
    );
  }
  load.end = loadavg()[0] ?? 0;
  load.max = Math.max(load.max, load.end);
  const record: RehearsalRecord = {
    scale: opts.scale,
    cocoScale,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cpu: m.cpu, cores: m.cores, memoryBytes: m.memoryBytes, host: m.host },
    backend: opts.backend ?? "auto",
    load,
    loadNote: opts.loadNote ?? "whatever else ran on the machine",
    standins: {
      ...(standins
        ? {
          clipVision: standins.clipVision,
          mclipText: standins.mclipText,
          coco: standins.coco,
          wit: join(standins.wit.shards, ".."),
        }
        : {}),
      ...(kStandins ?? {}),
      ...(training
        ? {
          coco: training.coco,
          xlmr: training.k.xlmr,
          vit: training.k.vit,
          kTranslations: training.k.translations,
        }
        : {}),
      runDir,
    },
    ...(opts.embedLimit !== undefined ? { embedLimit: opts.embedLimit } : {}),
    ...(opts.kSteps !== undefined ? { kSteps: opts.kSteps } : {}),
    rows,
  };
  await atomicWriteJson(join(runDir, "rehearsal.json"), record);
  await atomicWriteFile(join(runDir, "rehearsal.md"), rehearsalMarkdown(record));
  if (rows.some((r) => r.status === "failed")) {
    throw new KitError(
      `rehearsal: ${
        rows.filter((r) => r.status === "failed").map((r) => r.notebook).join(", ")
      } failed; the table is in ${join(runDir, "rehearsal.md")}`,
      rows.filter((r) => r.note).map((r) => `${r.notebook}: ${r.note} (log ${r.log})`),
    );
  }
  return record;
}
