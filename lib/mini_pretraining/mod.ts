/**
 * The mini profile's stand-ins for the pretrained models the papers start from, trained by the
 * kit on the mini dataset (cached, resumable): the XLM-R analog (masked-LM pretraining on the
 * pretraining corpus, with its token masking and length-window batches), the supervised ViT
 * analog (stamp classification), and paper D's frozen CLIP-space pair (a mini CLIP and its
 * distilled multilingual student); the stamp samples they train on.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { D_SIB_CODES } from "./mod.ts";
 * assert.equal(D_SIB_CODES.en, "eng_Latn");
 * ```
 */
export * from "./stamp_samples.ts";
export * from "./pretraining_corpus.ts";
export * from "./token_masking.ts";
export * from "./length_window_batches.ts";
export * from "./masked_lm_pretraining.ts";
export * from "./image_pretraining.ts";
export * from "./clip_space_training.ts";
