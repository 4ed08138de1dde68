import { join } from "node:path";

/** The `training.json` every trained mini model writes last (its completion marker). */
export interface TrainingRecord {
  name: string;
  plan: unknown;
  data: Record<string, unknown>;
  lossHistory: number[];
  valHistory: [number, number][];
  bestStep: number;
  bestValLoss: number | null;
  seconds: number;
  parameters: number;
}

/** Reads the `training.json` of a finished model folder. */
export async function readTrainingRecord(dir: string): Promise<TrainingRecord> {
  return JSON.parse(await Deno.readTextFile(join(dir, "training.json"))) as TrainingRecord;
}
