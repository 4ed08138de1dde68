/** The text `./kit task plan` prints: inputs, estimates, and which notebooks need a GPU. */
import type { NotebookName, PlanInput } from "./notebook_inputs.ts";
import type { KPlanSize, NotebookEstimate } from "./paper_estimate.ts";
import type { UnitCosts } from "./unit_costs.ts";

/** Bytes as "20.4 GB" / "346 MB" / "unknown size". */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "unknown size";
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${(n / 1e3).toFixed(0)} kB`;
}

/** Seconds as "42 s" / "13 min" / "5.2 h" / "3.1 days" / "2.4 years". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "unknown";
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  if (s < 2 * 86_400) return `${(s / 3600).toFixed(1)} h`;
  if (s < 365 * 86_400) return `${(s / 86_400).toFixed(1)} days`;
  return `${(s / (365 * 86_400)).toFixed(1)} years`;
}

/** Everything the plan shows. */
export interface PaperPlan {
  inputs: Record<NotebookName, PlanInput[]>;
  estimates: NotebookEstimate[];
  k: KPlanSize;
  costs: UnitCosts;
  costsPath: string;
  /** True when the unit costs were read from the cache rather than measured now. */
  cached: boolean;
}

/** The missing required inputs of all notebooks, each once. */
export function missingInputs(plan: Pick<PaperPlan, "inputs">): PlanInput[] {
  const seen = new Map<string, PlanInput>();
  for (const list of Object.values(plan.inputs)) {
    for (const i of list) {
      if (i.status === "missing" && i.required) seen.set(`${i.name}|${i.where}`, i);
    }
  }
  return [...seen.values()];
}

/** The plan as text lines (what `./kit task plan` prints). */
export function formatPaperPlan(plan: PaperPlan): string[] {
  const u = plan.costs, m = u.machine;
  const out: string[] = [];
  out.push(
    `Paper profile plan — ${m.cpu}, ${m.cores} cores, ${
      formatBytes(m.memoryBytes)
    } memory; backend ${u.backend}`,
  );
  out.push(
    `unit costs ${plan.cached ? "cached" : "measured now"} (${u.measuredAt}, ${
      u.measureSeconds.toFixed(0)
    } s at load average ${
      u.loadAverage.toFixed(1)
    } on ${m.cores} cores; ${plan.costsPath}; --remeasure measures again)`,
  );
  if (u.loadAverage > m.cores) {
    out.push(
      `  (the machine was busy while measuring: on a quiet one the times below are shorter)`,
    );
  }
  out.push(
    `K's plan: ${plan.k.setups} setups × ${plan.k.stepsPerSetup} steps a setup (${plan.k.batchesPerEpoch} batches × 10 epochs); one step here ≈ ${
      plan.k.imageStepSeconds.toFixed(1)
    } s (image setups), ${plan.k.pivotStepSeconds.toFixed(1)} s (Eng-Pivot)`,
  );
  for (const e of plan.estimates) {
    out.push("");
    const gpu = e.needsGpu ? "  — needs a GPU in practice" : "";
    out.push(
      `${e.notebook}: ≈ ${formatSeconds(e.seconds)}, peak memory ≈ ${
        formatBytes(e.peakBytes)
      }${gpu}`,
    );
    for (const i of plan.inputs[e.notebook]) {
      const tag = i.status === "present"
        ? "present "
        : i.status === "produced"
        ? "produced"
        : "MISSING ";
      out.push(
        `  [${tag}] ${i.name} — ${i.title}; ${formatBytes(i.sizeBytes)}${
          i.required ? "" : " (optional)"
        }`,
      );
      if (i.status !== "present") {
        out.push(`             from ${i.source}`);
        out.push(`             get it: ${i.step}; goes to ${i.where}`);
      }
    }
    for (const p of e.parts) {
      out.push(`  time: ${formatSeconds(p.seconds).padStart(10)}  ${p.what}`);
    }
    if (!e.fitsBackend) out.push(`  DOES NOT FIT this backend (see the note).`);
    for (const n of e.notes) out.push(`  note: ${n}`);
  }
  out.push("");
  out.push("notebook                        time        peak memory  missing  GPU");
  for (const e of plan.estimates) {
    const missing = plan.inputs[e.notebook].filter((i) => i.status === "missing" && i.required);
    out.push(
      `${e.notebook.padEnd(31)} ${formatSeconds(e.seconds).padEnd(11)} ${
        formatBytes(e.peakBytes).padEnd(12)
      } ${String(missing.length).padEnd(8)} ${
        e.needsGpu ? (e.fitsBackend ? "yes" : "yes (does not fit here)") : "no"
      }`,
    );
  }
  const miss = missingInputs(plan);
  const total = miss.reduce((a, i) => a + (i.sizeBytes ?? 0), 0);
  const all = plan.estimates.reduce((a, e) => a + e.seconds, 0);
  out.push(
    `total ≈ ${formatSeconds(all)} on this machine; ${miss.length} missing input(s), ≈ ${
      formatBytes(total)
    } to download.`,
  );
  const gpu = plan.estimates.filter((e) => e.needsGpu).map((e) => e.notebook.slice(0, 2));
  out.push(
    gpu.length > 0
      ? `Needs a GPU in practice: notebook(s) ${
        gpu.join(", ")
      } (more than a day here, or does not fit).`
      : "Every notebook runs within a day on this machine.",
  );
  return out;
}
