import sharp from "sharp";
import { KitError } from "../util/kit_error.ts";
import { pilBilinearResize, type RgbImage } from "../images/clip_preprocess.ts";
import type { VitConfig } from "./encoder_config.ts";

/**
 * An image as K's code hands it to Hugging Face's `ViTImageProcessor` (`finetune_clip.py`:
 * `Image.open(path).convert("RGB")`): decoded without EXIF rotation or colour profile (PIL applies
 * neither), alpha dropped (PIL's RGBA → RGB conversion does not composite), grey expanded to RGB;
 * then resized to `size × size` with PIL's BILINEAR filter and its antialiasing, bit for bit
 * (`pilBilinearResize`).
 */
export async function vitProcessorResize(
  bytes: Uint8Array,
  size: number,
  /** What the image is (its file), named when it cannot be decoded. */
  label = "ViT preprocessing: image",
): Promise<RgbImage> {
  let decoded;
  try {
    decoded = await sharp(bytes, { ignoreIcc: true }).raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new KitError(
      `${label}: cannot be decoded as an image (${err instanceof Error ? err.message : err})`,
    );
  }
  const { data, info } = decoded;
  const n = info.width * info.height, ch = info.channels;
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = data[p * ch + (ch <= 2 ? 0 : c)]!;
  }
  return pilBilinearResize({ data: rgb, width: info.width, height: info.height }, size, size);
}

/**
 * Hugging Face `ViTImageProcessor` pixels of encoded images for a ViT config (`image_size`,
 * `image_mean`, `image_std`; rescale 1/255): {@link vitProcessorResize}, then
 * `(x / 255 − mean) / std`, each image `C×S×S` row-major, concatenated.
 */
export async function vitProcessorPixels(
  images: readonly Uint8Array[],
  c: VitConfig,
  /** What each image is (its file), for the error when one cannot be decoded. */
  labels?: readonly string[],
): Promise<Float32Array> {
  const S = c.image_size, C = c.num_channels;
  if (C !== 3) {
    throw new KitError(`ViT preprocessing: only 3-channel (RGB) models are supported, got ${C}`);
  }
  const mean = c.image_mean ?? [0.5, 0.5, 0.5], std = c.image_std ?? [0.5, 0.5, 0.5];
  const out = new Float32Array(images.length * C * S * S);
  for (let i = 0; i < images.length; i++) {
    const img = await vitProcessorResize(images[i]!, S, labels?.[i]);
    const base = i * C * S * S;
    for (let p = 0; p < S * S; p++) {
      for (let ch = 0; ch < C; ch++) {
        out[base + ch * S * S + p] = (img.data[p * 3 + ch]! / 255 - mean[ch]!) / std[ch]!;
      }
    }
  }
  return out;
}
