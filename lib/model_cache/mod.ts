/**
 * The trained-model cache: folders `cacheDir()/models/<name>@<hash>` keyed by a model's
 * configuration, its data fingerprint and the code fingerprint of the training modules; each
 * finished folder sealed by a `files.sha256.json` manifest and marked complete by its
 * `training.json` record.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelCacheDir } from "./mod.ts";
 * assert.match(modelCacheDir("m", { steps: 1 }, "data"), /m@[0-9a-f]{12}$/);
 * ```
 */
export * from "./model_cache.ts";
export * from "./model_manifest.ts";
export * from "./training_record.ts";
export * from "./model_file_policy.ts";
