/** The rehearsal's record: one row per notebook, as JSON and as a Markdown table. */
import { formatBytes, formatSeconds } from "../plan/plan_report.ts";

/** One notebook of the rehearsal. */
export interface RehearsalRow {
  notebook: string;
  /**
   * `measured`: it ran to the end; `failed`: it exited with an error (see `note`); `stopped`: the
   * rehearsal stopped it at its time limit (its time and memory are those until then); `skipped`:
   * not run.
   */
  status: "measured" | "failed" | "stopped" | "skipped";
  /** Measured wall time of the notebook's `reproduce --only NN` process, seconds; null if not run. */
  seconds: number | null;
  /** Measured peak RSS of that process tree (sampled), bytes; null if not run. */
  peakRssBytes: number | null;
  /** What was shortened or replaced by a stand-in, and why. */
  shortened: string;
  /** CPU seconds of that process tree (sampled; a lower bound); null if not run or unknown. */
  cpuSeconds?: number | null;
  /** A full-size time derived from a measured rate (never measured); null when none. */
  extrapolatedSeconds: number | null;
  /** How the extrapolation was made. */
  extrapolation?: string;
  /** The notebook's log file. */
  log?: string;
  /** The embed-limit log (JSON lines, `withEmbedLimit`) the extrapolation was computed from. */
  embedLog?: string;
  /** The K step-cap log (JSON lines, one a trained setup) 02's extrapolation was computed from. */
  kStepLog?: string;
  note?: string;
}

/** The whole rehearsal. */
export interface RehearsalRecord {
  scale: "full" | "tiny";
  cocoScale: "full" | "tiny";
  startedAt: string;
  finishedAt: string;
  machine: { cpu: string; cores: number; memoryBytes: number; host: string };
  backend: string;
  /** Load averages (1 min) at the start and at the end, and the largest seen between notebooks. */
  load: { start: number; end: number; max: number };
  /** What ran beside it, in words (e.g. "3 other sessions' tests"). */
  loadNote: string;
  standins: Record<string, string>;
  /** `--rehearse-embed-limit N`: texts embedded for real per embed call of K's encoders. */
  embedLimit?: number;
  /** `--rehearse-k-steps N`: steps each of K's setups trained in 02. */
  kSteps?: number;
  rows: RehearsalRow[];
}

/** The record as a Markdown table (what README's "What a paper run costs" shows). */
export function rehearsalMarkdown(r: RehearsalRecord): string {
  const m = r.machine;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${
      formatBytes(m.memoryBytes)
    } memory, no GPU; backend ${r.backend}; ` +
    `load average ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end, ` +
    `up to ${r.load.max.toFixed(1)} (${r.loadNote}). Rehearsal ${r.scale}${
      r.cocoScale !== r.scale ? ` (COCO ${r.cocoScale})` : ""
    }, ${r.startedAt} – ${r.finishedAt}.${
      r.embedLimit !== undefined
        ? ` Embed limit ${r.embedLimit}: K's encoders embedded the first ${r.embedLimit} texts of each call and repeated them; "extrapolated full size" = measured wall + Σ over calls of seconds × (requested / embedded − 1), never measured.`
        : ""
    }${
      r.kSteps !== undefined
        ? ` K shortened to ${r.kSteps} step${
          r.kSteps === 1 ? "" : "s"
        } a setup (--rehearse-k-steps): 02's "extrapolated full size" = measured wall + the plan's other steps, validations and checkpoint writes × their measured means, never measured.`
        : ""
    }`,
    "",
    "| notebook | measured time | CPU time | peak memory (RSS, process tree) | shortened / stand-ins | extrapolated full size |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of r.rows) {
    const time = row.seconds === null
      ? (row.status === "skipped" ? "not run" : "—")
      : `${formatSeconds(row.seconds)}${
        row.status === "failed" ? " (failed)" : row.status === "stopped" ? " (stopped)" : ""
      }`;
    const mem = row.peakRssBytes === null ? "—" : formatBytes(row.peakRssBytes);
    const ex = row.extrapolatedSeconds === null
      ? "—"
      : `≈ ${formatSeconds(row.extrapolatedSeconds)} (extrapolated${
        row.extrapolation ? `: ${row.extrapolation}` : ""
      })`;
    const what = [row.shortened, row.note].filter((s) => s).join(" ");
    const cpu = row.cpuSeconds === null || row.cpuSeconds === undefined
      ? "—"
      : formatSeconds(row.cpuSeconds);
    lines.push(
      `| ${row.notebook} | ${time} | ${cpu} | ${mem} | ${what.replaceAll("|", "/")} | ${ex} |`,
    );
  }
  return lines.join("\n") + "\n";
}
