import sharp from "sharp";
import { KitError } from "../util/kit_error.ts";
import type { VitConfig } from "./encoder_config.ts";

/**
 * Decodes encoded images (PNG/JPEG bytes) into ViT input: RGB, resized to `image_size` square
 * (bilinear, stretched, as `ViTImageProcessor`), rescaled to [0, 1] and normalised with the
 * config's mean/std; images concatenated, each `C×H×W` row-major.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "sharp";
 * import { imagePixels } from "./image_pixels.ts";
 * import { readEncoderConfig, type VitConfig } from "./encoder_config.ts";
 * const vit = await readEncoderConfig("tiny-vit") as VitConfig; // mean = std = 0.5
 * const red = { width: 5, height: 5, channels: 3 as const, background: "#ff0000" };
 * const png = new Uint8Array(await sharp({ create: red }).png().toBuffer());
 * const px = await imagePixels([png], vit); // Float32Array of 3·S·S, channel-major
 * const S = vit.image_size;
 * assert.equal(px.length, 3 * S * S);
 * assert.equal(px[0], 1); // red: (1 − 0.5) / 0.5
 * assert.equal(px[S * S], -1); // green: (0 − 0.5) / 0.5
 * await assert.rejects(() => imagePixels([new Uint8Array([1, 2, 3])], vit), /cannot be decoded/);
 * ```
 */
export async function imagePixels(
  images: readonly Uint8Array[],
  c: VitConfig,
  /** What each image is (its file), for the error when one cannot be decoded. */
  labels?: readonly string[],
): Promise<Float32Array> {
  const S = c.image_size, C = c.num_channels;
  if (C !== 3) {
    throw new KitError(`imagePixels: only 3-channel (RGB) models are supported, got ${C}`);
  }
  const mean = c.image_mean ?? [0.5, 0.5, 0.5], std = c.image_std ?? [0.5, 0.5, 0.5];
  const out = new Float32Array(images.length * C * S * S);
  for (let i = 0; i < images.length; i++) {
    let raw: Buffer;
    try {
      raw = await sharp(images[i]!)
        .flatten({ background: { r: 255, g: 255, b: 255 } })
        .removeAlpha()
        .resize(S, S, { fit: "fill", kernel: "linear" })
        .raw()
        .toBuffer();
    } catch (err) {
      const what = labels?.[i] ?? `imagePixels: image ${i}`;
      throw new KitError(
        `${what}: cannot be decoded as an image (${err instanceof Error ? err.message : err})`,
      );
    }
    const base = i * C * S * S;
    for (let p = 0; p < S * S; p++) {
      for (let ch = 0; ch < C; ch++) {
        out[base + ch * S * S + p] = (raw[p * C + ch]! / 255 - mean[ch]!) / std[ch]!;
      }
    }
  }
  return out;
}
