/**
 * The rehearsal's K step cap (`reproduce --profile paper --rehearse --rehearse-k-steps N`): one
 * real-shape step of K's training takes seconds on a GPU and ~45 min on a 2-core CPU, and K's
 * plan has ~37,000 a setup, so the rehearsal trains each of K's four setups for only N steps —
 * real batch (32 images), real towers, real data (every record of the translations file loaded,
 * partitioned and assigned languages) — then validates once at the real validation size after
 * step N, so that the validation's cost is measured too. The full-size time is extrapolated from
 * the measured step and validation times × the plan's counts (`extrapolatedKTrainingSeconds`).
 * Active only when `KIT_REHEARSE_K_STEPS` is set (the rehearsal sets it for notebook 02's
 * process); each trained setup appends one JSON line to `KIT_REHEARSE_K_LOG`. Normal runs never
 * set it; the capped models live under their own cache key (the cap is in the fingerprint).
 */
import { readJsonLinesLog } from "./_json_lines_log.ts";
import { KitError } from "../util/kit_error.ts";

/** The cap of this process (`KIT_REHEARSE_K_STEPS`). */
export interface RehearsalKStepCap {
  /** Steps a setup. */
  steps: number;
  /** Where each setup's timings go (JSON lines). */
  log: string;
  /** The notebook (`KIT_REHEARSE_NOTEBOOK`), or "". */
  notebook: string;
}

/** The cap set for this process, or null when `KIT_REHEARSE_K_STEPS` is unset or empty. */
export function rehearsalKStepCap(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): RehearsalKStepCap | null {
  const raw = env.KIT_REHEARSE_K_STEPS;
  if (raw === undefined || raw === "") return null;
  const steps = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(steps) || steps < 1) {
    throw new KitError(
      `KIT_REHEARSE_K_STEPS=${raw}: expected a positive integer (steps a K setup trains)`,
      ["set by `./kit task reproduce --profile paper --rehearse --rehearse-k-steps N` only"],
    );
  }
  const log = env.KIT_REHEARSE_K_LOG;
  if (!log) {
    throw new KitError("KIT_REHEARSE_K_STEPS is set but KIT_REHEARSE_K_LOG is not", [
      "the rehearsal sets both: the log (JSON lines) is what the extrapolation is computed from",
    ]);
  }
  return { steps, log, notebook: env.KIT_REHEARSE_NOTEBOOK ?? "" };
}

/** The line the plan and notebook 02 print under a cap. */
export function kStepCapLine(steps: number): string {
  return `K shortened to ${steps} step${
    steps === 1 ? "" : "s"
  } a setup (rehearsal, --rehearse-k-steps): real batch, towers and data; one validation at the real validation size after the last step; the full-size time is extrapolated from the measured step and validation times.`;
}

/**
 * The K plan's steps under a cap of `cap` steps: `steps` = min(cap, planned) and the frozen
 * warm-up shrunk to ⌊steps / 2⌋ (at most the plan's), so a cap of 2 or more measures both kinds
 * of step (head only, and both towers); a cap of 1 measures one step with both towers (the
 * dearer kind, used for the frozen steps too).
 */
export function cappedKSteps(
  planned: { steps: number; freezeSteps: number },
  cap: number,
): { steps: number; freezeSteps: number } {
  const steps = Math.min(cap, planned.steps);
  return { steps, freezeSteps: Math.min(planned.freezeSteps, Math.floor(steps / 2)) };
}

/** One K setup's training under the cap: what ran, what the plan has, and the times. */
export interface KStepCapLogEntry {
  notebook: string;
  setup: string;
  /** Steps trained with the towers frozen (head only) and with them training. */
  frozenSteps: number;
  thawedSteps: number;
  /** Wall seconds of those steps (batch loading, forward, backward, Adam). */
  frozenSeconds: number;
  thawedSeconds: number;
  /** Each step's seconds, in order (the first of a kind pays for compiling and allocating). */
  frozenStepSeconds?: number[];
  thawedStepSeconds?: number[];
  /** Validations run and their wall seconds (each at the real validation size). */
  validations: number;
  validationSeconds: number;
  /** Checkpoint writes in the capped run and their seconds (with the best-state restore). */
  checkpoints: number;
  checkpointSeconds: number;
  /** The full plan's counts. */
  plannedSteps: number;
  plannedFrozenSteps: number;
  plannedValidations: number;
  plannedCheckpoints: number;
}

/** Appends `e` to the cap's log. */
export async function appendKStepCapLog(path: string, e: KStepCapLogEntry): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(e) + "\n", { append: true, create: true });
}

const NUMBER_FIELDS = [
  "frozenSteps",
  "thawedSteps",
  "frozenSeconds",
  "thawedSeconds",
  "validations",
  "validationSeconds",
  "checkpoints",
  "checkpointSeconds",
  "plannedSteps",
  "plannedFrozenSteps",
  "plannedValidations",
  "plannedCheckpoints",
] as const;

/** Reads a K step-cap log; a bad line is an error naming the file and line. */
export function readKStepCapLog(path: string): Promise<KStepCapLogEntry[]> {
  return readJsonLinesLog(path, (e, line) => {
    const bad = NUMBER_FIELDS.find((k) => typeof e[k] !== "number" || !((e[k] as number) >= 0));
    if (bad || typeof e.setup !== "string") {
      throw new KitError(
        `${path}:${line}: expected {notebook, setup, ${NUMBER_FIELDS.join(", ")}} (${
          bad ?? "setup"
        } missing or negative)`,
      );
    }
    return e as unknown as KStepCapLogEntry;
  });
}

/** The extrapolation of K's training from the capped runs' times. */
export interface KTrainingExtrapolation {
  /** Σ over setups of what the plan's remaining steps, validations and checkpoints would take. */
  extraSeconds: number;
  /** Σ measured training-step seconds, and the steps. */
  stepSeconds: number;
  steps: number;
  plannedSteps: number;
  validationSeconds: number;
  validations: number;
  plannedValidations: number;
  setups: number;
}

/**
 * Seconds a step of one kind: the mean of its measured steps after the first when two or more
 * ran (the first pays for compiling kernels and allocating), else the mean of all; null if none.
 */
export function kStepRate(total: number, count: number, each?: readonly number[]): number | null {
  if (count === 0) return null;
  if (each && each.length === count && count >= 2) {
    return each.slice(1).reduce((a, b) => a + b, 0) / (count - 1);
  }
  return total / count;
}

/**
 * Per setup: frozen steps priced at the measured frozen rate (the thawed rate when none ran),
 * thawed steps at the thawed rate (the frozen rate when none ran) — each rate the mean after the
 * first step of its kind when two or more ran (`kStepRate`) — validations and checkpoint
 * writes at their measured means; the plan's counts minus what ran. A setup with no step or no
 * validation measured cannot be scaled and is an error.
 */
export function extrapolatedKTrainingSeconds(
  entries: readonly KStepCapLogEntry[],
): KTrainingExtrapolation {
  const x: KTrainingExtrapolation = {
    extraSeconds: 0,
    stepSeconds: 0,
    steps: 0,
    plannedSteps: 0,
    validationSeconds: 0,
    validations: 0,
    plannedValidations: 0,
    setups: entries.length,
  };
  for (const e of entries) {
    if (e.frozenSteps + e.thawedSteps === 0 || e.validations === 0) {
      throw new KitError(
        `K step cap log: ${e.setup} ran ${
          e.frozenSteps + e.thawedSteps
        } steps and ${e.validations} validations; both must be measured to extrapolate`,
      );
    }
    const thawed = kStepRate(e.thawedSeconds, e.thawedSteps, e.thawedStepSeconds);
    const frozen = kStepRate(e.frozenSeconds, e.frozenSteps, e.frozenStepSeconds);
    const thawedRate = thawed ?? frozen!, frozenRate = frozen ?? thawed!;
    const plannedThawed = e.plannedSteps - e.plannedFrozenSteps;
    x.extraSeconds += frozenRate * Math.max(0, e.plannedFrozenSteps - e.frozenSteps) +
      thawedRate * Math.max(0, plannedThawed - e.thawedSteps) +
      (e.validationSeconds / e.validations) * Math.max(0, e.plannedValidations - e.validations) +
      (e.checkpoints > 0 ? e.checkpointSeconds / e.checkpoints : 0) *
        Math.max(0, e.plannedCheckpoints - e.checkpoints);
    x.stepSeconds += e.frozenSeconds + e.thawedSeconds;
    x.steps += e.frozenSteps + e.thawedSteps;
    x.plannedSteps += e.plannedSteps;
    x.validationSeconds += e.validationSeconds;
    x.validations += e.validations;
    x.plannedValidations += e.plannedValidations;
  }
  return x;
}
