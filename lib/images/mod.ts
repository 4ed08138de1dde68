/**
 * Image validation and normalisation (sharp/libvips): sniff the format from the bytes, reject
 * non-image payloads, empty and truncated files with a reason, rasterise SVG, composite alpha on
 * white, resize, re-encode as RGB PNG, keep the original's sha256.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sniffImageBytes } from "./mod.ts";
 * assert(sniffImageBytes(new Uint8Array()).kind === "not-image");
 * ```
 */
export * from "./sniff_image.ts";
export * from "./prepare_image.ts";
export * from "./clip_preprocess.ts";
