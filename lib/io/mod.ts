/**
 * File formats: `.npy` arrays (numpy) and `.safetensors` tensor files, read and written
 * without Python.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeNpy, parseNpy } from "./mod.ts";
 * assert(parseNpy(encodeNpy({ shape: [1], data: new Float32Array([3]) })).data[0] === 3);
 * ```
 */
export * from "./float16.ts";
export * from "./npy.ts";
export * from "./safetensors.ts";
export * from "./text_lines.ts";
