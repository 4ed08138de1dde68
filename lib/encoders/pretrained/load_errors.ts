import { KitError } from "../../util/kit_error.ts";
import { modelFolderHints, type PretrainedModelSpec } from "./model_folder.ts";

/**
 * Runs a transformers.js loading step and turns whatever it throws (for instance the unclear
 * `TypeError: Cannot read properties of undefined (reading 'tokenizer_class')` of a folder
 * without `tokenizer_config.json`) into a `KitError` naming the model, the folder and the step.
 */
export async function wrapModelLoad<T>(
  spec: PretrainedModelSpec,
  folder: string,
  what: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof KitError) throw err;
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new KitError(
      `${spec.title}: transformers.js could not load the ${what} from ${folder} (${detail})`,
      modelFolderHints(spec, folder),
    );
  }
}

/** Turns an error thrown while running a loaded model into a `KitError` naming the model. */
export function inferenceError(modelId: string, what: string, err: unknown): KitError {
  if (err instanceof KitError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new KitError(`${modelId}: ${what} failed (${detail})`);
}
