/**
 * The kit's models: the mini profile's masked-LM XLM-R analog and supervised ViT analog, paper
 * K's four image–caption fine-tuned setups, paper D's frozen CLIP-space pair (mini CLIP +
 * distilled multilingual student) — trained by the kit on first use, cached under
 * `cacheDir()/models/<name>@<hash>`, resumable — and the loaders the evaluation notebooks use.
 *
 * ```ts ignore
 * import { loadClipSpacePair, loadKSetupEncoders } from "./mod.ts";
 * const k = await loadKSetupEncoders(); // Record<KSetupId, SentenceEncoder>
 * const d = await loadClipSpacePair(); // { image, text, trainedOn }
 * ```
 */
export * from "../model_cache/mod.ts";
export * from "../resumable_training/mod.ts";
export * from "../mini_pretraining/mod.ts";
export * from "../k_finetune/k_caption_records.ts";
export * from "../k_finetune/k_language_assignment.ts";
export * from "../k_finetune/k_setup_training.ts";
export * from "./mini_training_plan.ts";
export * from "./mini_encoders.ts";
export * from "./mini_models.ts";
export * from "../k_finetune/k_report.ts";
export * from "../k_finetune/k_paper_plan.ts";
export * from "../k_finetune/k_paper_setups.ts";
export * from "../k_finetune/k_setup_folder.ts";
export * from "../k_finetune/k_translations_file.ts";
export * from "../k_finetune/k_training_try_it.ts";
