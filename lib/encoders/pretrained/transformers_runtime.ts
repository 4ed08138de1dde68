import { join } from "node:path";
import { cacheDir } from "../../util/paths.ts";

/** The `@huggingface/transformers` module, as loaded by `loadTransformers`. */
export type TransformersModule = typeof import("@huggingface/transformers");

/**
 * Where users put pretrained model folders for the paper profile: `KIT_MODELS_DIR`, or
 * `.cache/models/` inside the kit cache. A model with Hugging Face id `org/name` lives in
 * `<dir>/org/name/` (transformers.js's `localModelPath` convention).
 */
export function pretrainedModelsDir(): string {
  return Deno.env.get("KIT_MODELS_DIR") || join(cacheDir(), "models");
}

let loaded: Promise<TransformersModule> | null = null;

/**
 * Imports transformers.js once (lazily: notebooks that never touch a pretrained model do not
 * load onnxruntime) and configures it strictly offline: `allowRemoteModels = false`, local
 * models from `pretrainedModelsDir()`, its file cache in `.cache/transformers/`, no browser
 * Cache API (Deno has one, and it would store files outside the project), no WASM-binary cache.
 * The kit passes absolute folder paths to `from_pretrained`, which transformers.js reads as
 * they are; nothing is ever fetched.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadTransformers } from "./transformers_runtime.ts";
 * const { env } = await loadTransformers();
 * assert(env.allowRemoteModels === false);
 * ```
 */
export function loadTransformers(): Promise<TransformersModule> {
  loaded ??= import("@huggingface/transformers").then((tjs) => {
    configureOffline(tjs);
    return tjs;
  });
  return loaded;
}

/** Applies the kit's offline settings to transformers.js's global `env` (idempotent). */
export function configureOffline(tjs: TransformersModule): void {
  const env = tjs.env;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = pretrainedModelsDir();
  env.cacheDir = join(cacheDir(), "transformers");
  env.useBrowserCache = false;
  env.useWasmCache = false;
  // Belt and braces: even a code path that ignores allowRemoteModels cannot reach a host.
  env.remoteHost = "http://offline.invalid/";
  env.fetch = (input: string | URL) =>
    Promise.reject(new Error(`the kit runs transformers.js offline; refused to fetch ${input}`));
  env.logLevel = tjs.LogLevel.ERROR;
}
