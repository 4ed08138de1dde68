import { D_LANGUAGES } from "../sources/wit.ts";
import type { BuildOptions } from "./build_dataset.ts";

/**
 * How the paper profile builds D's WIT set, as D's `build_webdataset.py` does: only images with
 * a reference caption in all nine languages; each image stored as D's CLIP input (composite on
 * white, JPEG q95 round trip, shortest side 224 with PIL's bicubic, centre crop 224: the
 * `clip` fit of `prepareImage`), so OpenCLIP's resize and crop are identities on it; and **no**
 * byte-level dedupe (D keys images by URL and never compares image bytes).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { D_WIT_BUILD } from "./d_wit_build.ts";
 * assert(D_WIT_BUILD.dedupe === false && D_WIT_BUILD.image.fit === "clip");
 * ```
 */
export const D_WIT_BUILD = {
  requireLanguages: D_LANGUAGES,
  image: { size: 224, fit: "clip" },
  dedupe: false,
} as const satisfies Partial<BuildOptions>;
