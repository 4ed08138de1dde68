/**
 * The shared trainer every kit-trained model runs through: a resumable loop
 * (`runResumableTraining`: host Adam, warm-up + linear decay, gradient clipping, validation with
 * best-state selection, atomic checkpoints and exact resume), its device-resident twin on WebGPU
 * (`runDeviceResumableTraining`), the streamed checkpoint format, per-module gradients of a loss
 * (`moduleGrads`) and parameter sets as safetensors files.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { bestStatePath } from "./mod.ts";
 * assert.equal(bestStatePath("/m/checkpoint.safetensors"), "/m/checkpoint.safetensors.best.safetensors");
 * ```
 */
export * from "./resumable_trainer.ts";
export * from "./device_resumable_trainer.ts";
export * from "./checkpoint_io.ts";
export * from "./module_grads.ts";
export * from "./parameter_set_file.ts";
