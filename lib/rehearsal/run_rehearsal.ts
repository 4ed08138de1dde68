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
import { ProcessTreePeakRss } from "./process_tree_rss.ts";
import {
  ensureRehearsalStandins,
  type RehearsalScale,
  type RehearsalStandins,
} from "./rehearsal_standins.ts";
import { rehearsalMarkdown, type RehearsalRecord, type RehearsalRow } from "./rehearsal_table.ts";

/** What each notebook's rehearsal shortens or replaces (stated in the table). */
export const REHEARSAL_SHORTENED: Readonly<Record<string, string>> = {
  "00_dataset_build":
    "COCO 2017 stand-in at the real counts (118,287 + 5,000 JPEGs at 640 px, synthetic: 64 base pictures, every file distinct in its bytes; 591,753 + 25,014 synthetic captions); WIT: gzipped train/val/test TSV shards with D's 2,770 items × 9 languages (the real 20 shards, ~25 GB gzipped, are not scanned; the plan prices that scan) and 2,770 JPEGs at 1,200 px.",
  "01_translation":
    "no NLLB folder (the optional engine): the kit's other engines only; AmericasNLP 2021 from the mirror.",
  "02_training":
    "not rehearsed by this version: K's training needs XLM-R-large + ViT-B/16 stand-ins (2.6 GB) and does not fit this backend (the plan: ~2,700 s a real-shape step on 2 cores).",
  "03_bitext_retrieval":
    "not rehearsed by this version: needs K's setup folders (XLM-R-large) and a FLORES stand-in; the plan's estimate stands.",
  "04_xnli":
    "not rehearsed by this version: needs K's setup folders (XLM-R-large) and NLI stand-ins; the plan's estimate stands.",
  "05_representation_diagnostics":
    "D's frozen pair as random-weight ONNX of the real architectures (CLIP ViT-B/32 vision, 88M; multilingual DistilBERT, 135M, vocabulary 119,547, + 2_Dense 768→512); synthetic captions of 3–25 words (one WordPiece a word); everything else at full size: 2,770 items, d = 512, five folds, both heads, diagnostics, D5 replicates, D-F1.",
};

/** The notebooks this version rehearses. */
export const REHEARSED_NOTEBOOKS = ["00", "01", "05"] as const;

async function symlink(target: string, path: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.remove(path).catch(() => {});
  await Deno.symlink(target, path);
}

/** A fresh run folder whose cache and model folders point at the stand-ins. */
export async function prepareRehearsalRun(
  runDir: string,
  s: RehearsalStandins,
): Promise<Record<string, string>> {
  const cache = join(runDir, "cache"), models = join(runDir, "models");
  await symlink(s.coco, join(cache, "data", "mscoco-2017"));
  await symlink(s.wit.shards, join(cache, "data", "wit-v1"));
  await symlink(s.wit.images, join(cache, "wit-images"));
  await symlink(s.clipVision, join(models, "openai", "clip-vit-base-patch32"));
  await symlink(
    s.mclipText,
    join(models, "sentence-transformers", "clip-ViT-B-32-multilingual-v1"),
  );
  return {
    KIT_CACHE_DIR: cache,
    KIT_MODELS_DIR: models,
    KIT_ARTIFACT_DIR: join(runDir, "figures"),
  };
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
  cellTimeout?: number;
}

/** Runs the rehearsal; returns the record (also written as JSON and Markdown in the run folder). */
export async function runRehearsal(opts: RehearsalOptions): Promise<RehearsalRecord> {
  const startedAt = new Date().toISOString();
  const standins = await ensureRehearsalStandins({
    scale: opts.scale,
    root: opts.standinRoot,
    cocoScale: opts.cocoScale,
  });
  const cocoScale = opts.cocoScale ?? opts.scale;
  const runDir = opts.runDir
    ? resolve(opts.runDir)
    : join(cacheDir(), "rehearsal", `run-${opts.scale}-${startedAt.replace(/[:.]/g, "-")}`);
  await Deno.mkdir(join(runDir, "logs"), { recursive: true });
  const env = await prepareRehearsalRun(runDir, standins);
  const m = machineInfo();
  const load = { start: loadavg()[0] ?? 0, end: 0, max: loadavg()[0] ?? 0 };
  const rows: RehearsalRow[] = [];
  const wanted = opts.only && opts.only.length > 0
    ? opts.only
    : NOTEBOOKS.map((n) => n.slice(0, 2));
  for (const nb of NOTEBOOKS) {
    const nn = nb.slice(0, 2);
    if (!wanted.includes(nn)) continue;
    let shortened = REHEARSAL_SHORTENED[nb] ?? "";
    if (opts.scale === "tiny") {
      shortened = `TINY stand-ins (wiring check), not the sizes below: ${shortened}`;
    } else if (nb === "00_dataset_build" && cocoScale === "tiny") {
      shortened =
        `COCO stand-in TINY (40 + 10 images; this row is not a full-size 00): ${shortened}`;
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
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const sampler = new ProcessTreePeakRss(child.pid, 500);
    await Promise.all([
      child.stdout.pipeTo(file.writable, { preventClose: true }),
      child.stderr.pipeTo(
        new WritableStream({ write: (c) => void file.writeSync(c) }),
      ),
    ]);
    const status = await child.status;
    const seconds = (performance.now() - t0) / 1000;
    const { peakBytes, cpuSeconds } = await sampler.stop();
    file.close();
    load.max = Math.max(load.max, loadavg()[0] ?? 0);
    const row: RehearsalRow = {
      notebook: nb,
      status: status.success ? "measured" : "failed",
      seconds,
      peakRssBytes: peakBytes,
      cpuSeconds,
      shortened,
      extrapolatedSeconds: null,
      log,
    };
    if (!status.success) {
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
      clipVision: standins.clipVision,
      mclipText: standins.mclipText,
      coco: standins.coco,
      wit: join(standins.wit.shards, ".."),
      runDir,
    },
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
