/**
 * `./kit task reproduce [--profile mini|paper] [--only NN[,NN]] [--smoke] [--data-mirror DIR]
 *  [--backend auto|webgpu|wasm+openblas|wasm|cpu]`: runs notebooks/NN_*.ipynb in order with the Deno kernel,
 * headless; stops at the first failing cell (non-zero exit, notebook and cell named); saves the
 * executed notebooks under figures/<profile>/notebooks/, builds the offline HTML report
 * (figures/<profile>/report/index.html, also after a failing cell, to show its error) and prints
 * a summary. `--profile paper --rehearse` runs the paper notebooks on generated stand-ins of the
 * real sizes instead, timing each and recording its peak memory (lib/rehearsal).
 */
import { dirname, relative } from "node:path";
import { ensureSetup } from "../lib/setup/ensure_setup.ts";
import { NotebookFailure, RunInterrupted, runNotebooks } from "../lib/runner/run_notebooks.ts";
import { buildReport } from "../lib/report/build_report.ts";
import { type BackendPreference, kitConfig, type Profile } from "../lib/config/kit_config.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { formatDuration } from "../lib/util/progress.ts";
import { holdCacheLock, LOCKED_CACHES } from "../lib/util/cache_lock.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { preflightMiniData } from "../lib/data/preflight.ts";
import { recordCompleteRun } from "../lib/eval_cache/cache_usage.ts";

const CLI = {
  usage: "./kit task reproduce [options]",
  options: {
    profile: { type: "string", value: "mini|paper", help: "which models and data (default mini)" },
    only: { type: "string", value: "NN[,NN]", help: "run only these notebooks (by number)" },
    smoke: { type: "boolean", help: "tiny sizes (tests); artifacts under figures/smoke/" },
    "data-mirror": {
      type: "string",
      value: "DIR",
      help: "read-only mirror of the datasets (default ../shared/data if present)",
    },
    backend: {
      type: "string",
      value: "NAME",
      help: `auto|webgpu|tfjs-node-gpu|wasm+openblas|wasm|cpu (default auto;
        wasm = WebAssembly without native OpenBLAS)`,
    },
    notebooks: { type: "string", value: "DIR", help: "folder of NN_*.ipynb (default notebooks/)" },
    "cell-timeout": {
      type: "number",
      value: "S",
      min: 1,
      help: "seconds per cell (default 3600)",
    },
    "no-plan": {
      type: "boolean",
      help: "paper profile: do not print the plan (./kit task plan) before starting",
    },
    rehearse: {
      type: "boolean",
      help: `paper profile: run the notebooks on generated stand-ins of the real sizes and formats
        (random weights, synthetic data; .cache/rehearsal/), recording each one's time and peak
        memory (rehearsal.json, rehearsal.md)`,
    },
    "rehearse-scale": {
      type: "string",
      value: "full|tiny",
      help: "with --rehearse: the stand-ins' sizes (default full; tiny for tests)",
    },
    "rehearse-coco": {
      type: "string",
      value: "full|tiny",
      help:
        "with --rehearse: COCO's stand-in size (default: the scale's); tiny measures D's path alone",
    },
    "rehearse-embed-limit": {
      type: "number",
      value: "N",
      min: 1,
      help: `with --rehearse: K's encoders (03, 04) embed the first N texts of each call for real
        and repeat those rows; the table extrapolates the full-size time from the measured rate`,
    },
    "rehearse-k-steps": {
      type: "number",
      value: "N",
      min: 1,
      help: `with --rehearse: K's four setups (02) train only their first N steps of K's plan
        (real batch, towers and data) and validate once at the real size; the table extrapolates
        the full-size time from the measured step and validation times`,
    },
    "rehearse-time-limit": {
      type: "number",
      value: "SECONDS",
      min: 1,
      help: `with --rehearse: stop a notebook still running after SECONDS and record it as
        stopped, with its time and memory until then (for runs too long for the machine)`,
    },
    "rehearse-load": {
      type: "string",
      value: "TEXT",
      help: "with --rehearse: what else ran on the machine, for the table",
    },
    "no-report": {
      type: "boolean",
      help: "do not build the HTML report (<artifact dir>/report/index.html)",
    },
  },
} as const satisfies CliSpec;

// Ctrl-C / SIGTERM: the runner shuts its kernel down (it gets the signal too when it is in this
// process group, and the abort below otherwise); one line is printed, no traceback.
const abort = new AbortController();
let interrupted = false;
let running = false;
const onSignal = () => {
  if (!running) {
    console.error("\ninterrupted");
    Deno.exit(130);
  }
  if (interrupted) return;
  interrupted = true;
  console.error("\ninterrupted; rerun to resume");
  abort.abort();
  // the runner exits within a moment; exit anyway if it does not
  setTimeout(() => Deno.exit(130), 5000);
};
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) Deno.addSignalListener(sig, onSignal);

await runCli(CLI, async (values) => {
  const env = Deno.env.toObject();
  if (values.profile) env.KIT_PROFILE = values.profile;
  if (values.backend) env.KIT_BACKEND = values.backend;
  if (values["data-mirror"] !== undefined) env.KIT_DATA_MIRROR = values["data-mirror"];
  const cfg = kitConfig(env); // validates profile and backend
  const only = values.only ? values.only.split(",").map((s) => s.trim()).filter((s) => s) : [];
  for (const n of only) {
    if (!/^\d\d$/.test(n)) {
      throw new KitError(`--only ${values.only}: expected two-digit numbers like 00,03`);
    }
  }
  const timeout = values["cell-timeout"];
  if (values["rehearse-k-steps"] !== undefined && !values.rehearse) {
    // a shortened K is never trained outside the rehearsal
    throw new KitError("--rehearse-k-steps: only with --profile paper --rehearse");
  }
  if (values.rehearse) {
    if (cfg.profile !== "paper") throw new KitError("--rehearse: needs --profile paper");
    const scale = values["rehearse-scale"] ?? "full";
    if (scale !== "full" && scale !== "tiny") {
      throw new KitError(`--rehearse-scale ${scale}: expected full or tiny`);
    }
    const coco = values["rehearse-coco"] ?? scale;
    if (coco !== "full" && coco !== "tiny") {
      throw new KitError(`--rehearse-coco ${coco}: expected full or tiny`);
    }
    const { runRehearsal, rehearsalMarkdown } = await import("../lib/rehearsal/mod.ts");
    const record = await runRehearsal({
      scale,
      cocoScale: coco,
      only,
      backend: values.backend,
      loadNote: values["rehearse-load"],
      cellTimeout: timeout,
      embedLimit: values["rehearse-embed-limit"],
      kSteps: values["rehearse-k-steps"],
      timeLimitSeconds: values["rehearse-time-limit"],
    });
    console.log(rehearsalMarkdown(record));
    console.log(`record: ${record.standins.runDir}/rehearsal.json`);
    return;
  }

  await ensureSetup({});
  // one run at a time writes the caches; a second run waits here, saying which run holds them
  // the project's notebooks need the mini data: fetch what is missing, or one message and exit
  if (!values.notebooks) await preflightMiniData({ mirror: cfg.dataMirror });
  for (const c of LOCKED_CACHES) await holdCacheLock(c);
  const smoke = values.smoke || cfg.smoke;
  if (cfg.profile === "paper" && !smoke && !values["no-plan"]) {
    // what the run reads and costs on this machine, before it starts (./kit task plan)
    const plan = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tools/plan.ts", "--profile", "paper"],
      cwd: PROJECT_ROOT,
      env: {
        KIT_BACKEND: cfg.backend,
        ...(cfg.dataMirror ? { KIT_DATA_MIRROR: cfg.dataMirror } : {}),
      },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!plan.success) console.error("reproduce: warning: the plan could not be made (above)");
  }
  console.error(
    `reproduce: profile ${cfg.profile}${smoke ? " (smoke)" : ""}, data mirror ${
      cfg.dataMirror ?? "none"
    }, backend ${cfg.backend}`,
  );
  const t0 = performance.now();
  const startedAt = Date.now();
  // The report covers every executed notebook in the artifact folder (also after a failure).
  const report = async (executedPath: string) => {
    if (values["no-report"]) return;
    const artifactDir = dirname(dirname(executedPath));
    const r = await buildReport({ artifactDir });
    console.error(`report: ${relative(Deno.cwd(), r.indexPath)}`);
  };
  running = true;
  const results = await runNotebooks(
    {
      profile: cfg.profile as Profile,
      smoke,
      only,
      dataMirror: cfg.dataMirror,
      backend: cfg.backend as BackendPreference,
      notebooksDir: values.notebooks,
      cellTimeout: timeout,
      artifactDir: env.KIT_ARTIFACT_DIR,
      signal: abort.signal,
    },
    (name, i, n) => console.error(`[${i + 1}/${n}] ${name}`),
  ).catch(async (err) => {
    if (err instanceof RunInterrupted || interrupted) Deno.exit(130);
    if (err instanceof NotebookFailure) {
      await report(err.executedPath).catch((e) =>
        console.error(`warning: no report: ${e instanceof Error ? e.message : e}`)
      );
    }
    throw err;
  });
  if (results[0]) await report(results[0].executedPath);
  // every notebook of the kit ran: the cache entries it did not use are stale (`task cache`)
  if (only.length === 0 && !values.notebooks) {
    await recordCompleteRun(`${cfg.profile}${smoke ? "-smoke" : ""}`, startedAt).catch(() => {});
  }
  console.log("\nnotebook                               seconds  artifacts");
  for (const r of results) {
    console.log(
      `${r.notebook.padEnd(38)} ${r.seconds.toFixed(1).padStart(7)}  ${
        r.artifacts.join(" ") || "-"
      }`,
    );
  }
  const total = (performance.now() - t0) / 1000;
  const executed = results[0]
    ? relative(Deno.cwd(), results[0].executedPath).replace(/[^/]+$/, "")
    : "-";
  console.log(
    `\n${results.length} notebook(s) in ${formatDuration(total)}; executed copies in ${executed}`,
  );
});
