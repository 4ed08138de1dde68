/**
 * What notebook 02 prints before K's paper-profile training: the plan's size (steps a setup,
 * four setups) and the time it is expected to take here, from the K step measured on this
 * machine and backend by `./kit task plan` (its cached unit costs).
 */
import { kStepCapLine, rehearsalKStepCap } from "../rehearsal/k_step_cap.ts";
import { kPaperFineTunePlan } from "../k_finetune/k_paper_setups.ts";
import { fitKStep } from "./cost_model.ts";
import { kPlanSize, PAPER_COUNTS } from "./paper_estimate.ts";
import { formatSeconds } from "./plan_report.ts";
import { readUnitCosts, type StoredUnitCosts, unitCostsPath } from "./unit_costs.ts";

/**
 * Lines describing K's plan for `trainRecords` training records; with `costs` (default: this
 * machine's cached unit costs for `backend`, if measured) the expected time of the four setups.
 */
export async function kPaperPlanLines(opts: {
  trainRecords: number;
  smoke: boolean;
  backend: string;
  costs?: StoredUnitCosts | null;
}): Promise<string[]> {
  const { plan, hp } = kPaperFineTunePlan(opts.trainRecords, opts.smoke);
  const steps = plan.schedule.steps, perEpoch = steps / hp.epochs;
  const lines = [
    `K's plan: 4 setups × ${steps} steps a setup (${perEpoch} batches of ${hp.imagesPerBatch} images × ${hp.epochs} epochs over ${opts.trainRecords} training records), ${
      4 * steps
    } steps in all; validation after every ${hp.validateEvery}th batch of an epoch.`,
  ];
  // the rehearsal's step cap (KIT_REHEARSE_K_STEPS), said before anything is trained
  const cap = rehearsalKStepCap();
  if (cap) lines.push(kStepCapLine(Math.min(cap.steps, steps)));
  if (opts.smoke) {
    lines.push("Smoke sizes (tiny model folders): no time estimate from real-shape steps.");
    return lines;
  }
  const costs = opts.costs !== undefined
    ? opts.costs
    : await readUnitCosts(unitCostsPath(opts.backend));
  if (!costs) {
    lines.push(
      `Expected time: no K step measured on this machine for backend ${opts.backend} yet — run \`./kit task plan\` (reproduce --profile paper runs it first).`,
    );
    return lines;
  }
  const size = kPlanSize(fitKStep(costs.kStep), costs.machine.cores);
  const perStep = (3 * size.imageStepSeconds + size.pivotStepSeconds) / 4;
  lines.push(
    `Expected time here (${costs.backend}, K step measured ${costs.measuredAt} by ./kit task plan at reduced depth, scaled to ${PAPER_COUNTS.kTextLayers} + ${PAPER_COUNTS.kImageLayers} layers): ≈ ${
      size.imageStepSeconds.toFixed(1)
    } s a step (image setups), ${size.pivotStepSeconds.toFixed(1)} s (Eng-Pivot): ≈ ${
      formatSeconds(4 * steps * perStep)
    } of training for the four setups, validation not included.`,
  );
  return lines;
}
