/**
 * Paper K's image–caption fine-tuning of XLM-R ([K] Krasner et al., ACL 2025, arXiv:2505.13628;
 * the authors' `Alignment/text-image/finetune_clip.py` and `Alignment/text-text/align_roberta.py`,
 * nkrasner/cl-clip-align@d75b729): the four trained setups of [K] Table 1 (Eng-Only, Eng-Pivot, Multilingual, Multilingual+Quechua), their
 * caption records and per-record language assignment, the training set and batches, the
 * fine-tuning loop (host or device-resident), the paper profile's plan and setup folders, and
 * notebook 02's tables, loss curves and try-it. The mini and paper profiles train through the
 * same loop (`runKSetupTraining`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTextOnlySetup, K_SETUP_LANGUAGES, K_TRAINED_SETUPS } from "./mod.ts";
 * assert.deepEqual(K_SETUP_LANGUAGES["eng-pivot"].pivot, ["es", "ja", "hi"]);
 * assert.deepEqual(K_TRAINED_SETUPS.filter(isTextOnlySetup), ["eng-pivot"]);
 * ```
 */
export * from "./k_caption_records.ts";
export * from "./k_language_assignment.ts";
export * from "./k_head_specs.ts";
export * from "./k_training_set.ts";
export * from "./k_setup_loop.ts";
export * from "./k_setup_model.ts";
export * from "./k_setup_training.ts";
export * from "./k_report.ts";
export * from "./k_paper_plan.ts";
export * from "./k_paper_setups.ts";
export * from "./k_setup_folder.ts";
export * from "./k_translations_file.ts";
export * from "./k_training_try_it.ts";
