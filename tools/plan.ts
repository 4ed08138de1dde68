/**
 * `./kit task plan [--profile paper|mini] [--backend NAME] [--remeasure] [--json FILE]`: before a
 * paper run, what each notebook reads (present or missing, size, where to get it, the fetch step)
 * and the estimated wall time and peak memory on this machine's backend, from per-unit costs
 * measured here once (about two minutes on 2 cores; cached in .cache/plan/, keyed by machine and
 * backend) times the paper's counts. Says which notebooks need a GPU in practice.
 *
 * `--probe JSON` (internal): runs one probe in this process and prints its result as JSON, so
 * that each probe's peak memory is its own process's.
 */
import { relative } from "node:path";
import { initBackend } from "../lib/backend/mod.ts";
import { type BackendPreference, kitConfig } from "../lib/config/kit_config.ts";
import { DataRegistry } from "../lib/data/registry.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import {
  completeUnitCosts,
  formatPaperPlan,
  measureUnitCosts,
  paperEstimates,
  paperNotebookInputs,
  type PaperPlan,
  type ProbeOutput,
  type ProbeSpec,
  readUnitCosts,
  runProbeInProcess,
  type UnitCosts,
  unitCostsPath,
  writeUnitCosts,
} from "../lib/plan/mod.ts";

const CLI = {
  usage: "./kit task plan [--profile paper|mini] [--backend NAME] [--remeasure] [--json FILE]",
  options: {
    profile: {
      type: "string",
      value: "paper|mini",
      help:
        "paper (default): inputs, time and memory of the paper profile on this machine; mini: the mini profile's inputs and its measured times",
    },
    backend: {
      type: "string",
      value: "NAME",
      help: "auto|webgpu|wasm+openblas|wasm|cpu (default: KIT_BACKEND or auto)",
    },
    remeasure: { type: "boolean", help: "measure the unit costs again (else read .cache/plan/)" },
    "data-mirror": { type: "string", value: "DIR", help: "read-only mirror of the datasets" },
    json: { type: "string", value: "FILE", help: "also write the plan as JSON" },
    probe: { type: "string", value: "JSON", help: "(internal) run one probe, print its JSON" },
  },
} as const satisfies CliSpec;

/** Runs one probe in a child process (its own peak memory). */
function childProbe(backend: string): (spec: ProbeSpec) => Promise<ProbeOutput> {
  return async (spec) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tools/plan.ts", "--probe", JSON.stringify(spec)],
      cwd: PROJECT_ROOT,
      env: { KIT_BACKEND: backend },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
      throw new KitError(`plan: probe ${JSON.stringify(spec)} failed`, [err]);
    }
    try {
      return JSON.parse(text) as ProbeOutput;
    } catch {
      throw new KitError(`plan: probe ${JSON.stringify(spec)} printed no result`, [text]);
    }
  };
}

/** The paper plan: cached or freshly measured unit costs, inputs, estimates. */
export async function paperPlan(opts: {
  backend: BackendPreference;
  remeasure?: boolean;
  registry?: DataRegistry;
  log?: (line: string) => void;
}): Promise<PaperPlan> {
  const log = opts.log ?? (() => {});
  const info = await initBackend(opts.backend);
  const path = unitCostsPath(info.name);
  const stored = opts.remeasure ? null : await readUnitCosts(path);
  const cached = stored !== null;
  let costs: UnitCosts | null = null;
  if (stored) {
    // a cache from before a probe was added: measure only the missing probe(s), keep the rest
    const done = await completeUnitCosts(stored, childProbe(info.name), undefined, (l) => {
      log(l);
    });
    costs = done.costs;
    if (done.measured > 0) {
      log(
        `plan: ${done.measured} probe(s) missing from ${
          relative(PROJECT_ROOT, path)
        } measured and added`,
      );
      await writeUnitCosts(path, costs);
    }
  }
  if (!costs) {
    log(
      `plan: measuring this machine's unit costs on ${info.name} (once; about two minutes on 2 cores)`,
    );
    costs = await measureUnitCosts(childProbe(info.name), info.name, undefined, log);
    await writeUnitCosts(path, costs);
  }
  const { notebooks, k } = paperEstimates(costs);
  return {
    inputs: await paperNotebookInputs(opts.registry ?? new DataRegistry({ quiet: true })),
    estimates: notebooks,
    k,
    costs,
    costsPath: relative(PROJECT_ROOT, path),
    cached,
  };
}

async function miniPlan(registry: DataRegistry): Promise<string[]> {
  const out = ["Mini profile — inputs (the data registry; nothing to download by hand):"];
  for (const d of registry.list().filter((x) => x.profile !== "paper")) {
    let where = "MISSING";
    try {
      where = (await registry.resolve(d.name)).source;
    } catch { /* missing */ }
    out.push(`  [${where.padEnd(7)}] ${d.name.padEnd(22)} ${d.title}`);
  }
  out.push(
    "Time: measured 12 min for a first ./kit task reproduce on 2 CPU cores (wasm+openblas), 1.6 min for a cached rerun; peak memory 2.5 GB (README, Time). No GPU needed.",
  );
  return out;
}

if (import.meta.main) {
  await runCli(CLI, async (values) => {
    const profile = values.profile ?? "paper";
    const env = Deno.env.toObject();
    if (values.backend) env.KIT_BACKEND = values.backend;
    const cfg = kitConfig(env);
    if (values.probe) {
      await initBackend(cfg.backend);
      const r = await runProbeInProcess(JSON.parse(values.probe) as ProbeSpec);
      console.log(JSON.stringify(r));
      return 0;
    }
    const registry = new DataRegistry({
      quiet: true,
      ...(values["data-mirror"] !== undefined ? { mirror: values["data-mirror"] || null } : {}),
    });
    if (profile === "mini") {
      for (const l of await miniPlan(registry)) console.log(l);
      return 0;
    }
    if (profile !== "paper") {
      throw new UsageError(`--profile ${profile}: expected paper or mini`);
    }
    const plan = await paperPlan({
      backend: cfg.backend,
      remeasure: values.remeasure,
      registry,
      log: (l) => console.error(l),
    });
    for (const l of formatPaperPlan(plan)) console.log(l);
    if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(plan, null, 2));
  });
}
