/**
 * The kit's models, one import for the notebooks: the mini profile's loaders (`miniKSetups`,
 * `loadKSetupEncoders`, `loadClipSpacePair`; trained by the kit on first use, cached under
 * `cacheDir()/models/<name>@<hash>`, resumable), the mini training plan, and the barrels of the
 * folders that train them, re-exported:
 * - `lib/k_finetune/` — paper K's four image–caption fine-tuned setups (mini and paper profiles);
 * - `lib/mini_pretraining/` — the mini analogs of the pretrained models (masked-LM XLM-R analog,
 *   supervised ViT analog, paper D's frozen CLIP-space pair);
 * - `lib/resumable_training/` — the shared resumable trainer (host and device) and checkpoints;
 * - `lib/model_cache/` — the trained-model cache: keys, manifests, training records.
 *
 * The model cache key covers the code of this module's import graph (`MODEL_CODE_ENTRIES`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { K_TRAINED_SETUPS, loadClipSpacePair, loadKSetupEncoders, MODEL_CODE_ENTRIES } from "./mod.ts";
 * // const k = await loadKSetupEncoders(); // Record<KSetupId, SentenceEncoder> (trains on first use)
 * // const d = await loadClipSpacePair(); // { image, text, trainedOn }
 * assert.equal(typeof loadKSetupEncoders, "function");
 * assert.equal(typeof loadClipSpacePair, "function");
 * assert.deepEqual(MODEL_CODE_ENTRIES, ["lib/models/mod.ts"]);
 * assert.equal(K_TRAINED_SETUPS.length, 4);
 * ```
 */
export * from "../model_cache/mod.ts";
export * from "../resumable_training/mod.ts";
export * from "../mini_pretraining/mod.ts";
export * from "../k_finetune/mod.ts";
export * from "./mini_training_plan.ts";
export * from "./mini_encoders.ts";
export * from "./mini_models.ts";
export * from "./k_paper_encoder_pool.ts";
