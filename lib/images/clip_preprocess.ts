import { roundHalfEven } from "../util/round_half_even.ts";
import sharp from "sharp";
import { KitError } from "../util/kit_error.ts";

/**
 * Paper D's image input, step by step as its code does it (`build_webdataset.py`, then
 * `emb_from_image.py` with OpenCLIP's `preprocess`): decode, apply the EXIF orientation, composite
 * transparency on white (`Image.alpha_composite` on an opaque white canvas), re-encode as JPEG
 * quality 95 (the WebDataset shards store JPEGs) and decode again, then CLIP's own transform:
 * resize the shortest side to 224 with PIL's bicubic filter (torchvision `Resize(224)`), centre
 * crop 224 (torchvision `CenterCrop`, offsets `round((h − 224) / 2)` half to even), and the CLIP
 * mean/std normalisation. The resampling and compositing are PIL's integer arithmetic
 * (Pillow's `Resample.c`, `AlphaComposite.c`), so the pixels equal PIL's.
 */

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Pillow's fixed-point precision of 8-bit resampling (`PRECISION_BITS` in Resample.c). */
const RESAMPLE_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

function bilinear(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

/** Pillow's resampling filters used here: the function and its support (`Resample.c`). */
const FILTERS = { bicubic: { fn: bicubic, support: 2 }, bilinear: { fn: bilinear, support: 1 } };
type PilFilter = keyof typeof FILTERS;

/**
 * Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a filter (bicubic: support 2;
 * bilinear: support 1), widened by the scale when downsampling (Pillow's antialiasing).
 */
function coefficients(
  inSize: number,
  outSize: number,
  filter: PilFilter = "bicubic",
): { bounds: Int32Array; kk: Int32Array; ksize: number } {
  const f = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = f.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = f.fn((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = (ww !== 0 ? w[x]! / ww : w[x]!) * (1 << RESAMPLE_BITS);
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v) : Math.trunc(0.5 + v);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

function clip8(ss: number): number {
  const v = Math.floor(ss / (1 << RESAMPLE_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * `Image.resize((outW, outH), Image.BICUBIC)` of an RGB image, bit for bit as Pillow does it:
 * fixed-point coefficients, horizontal pass first (rounded to 8 bits), then vertical; a side
 * that keeps its size is not resampled.
 */
export function pilBicubicResize(img: RgbImage, outW: number, outH: number): RgbImage {
  return pilResize(img, outW, outH, "bicubic");
}

/**
 * `Image.resize((outW, outH), Image.BILINEAR)` of an RGB image, bit for bit as Pillow does it
 * (with its antialiasing: the triangle filter widened by the scale when downsampling) — Hugging
 * Face's `ViTImageProcessor` resize (`resample` 2).
 */
export function pilBilinearResize(img: RgbImage, outW: number, outH: number): RgbImage {
  return pilResize(img, outW, outH, "bilinear");
}

function pilResize(img: RgbImage, outW: number, outH: number, filter: PilFilter): RgbImage {
  const { width: w, height: h, data } = img;
  const name = filter === "bicubic" ? "pilBicubicResize" : "pilBilinearResize";
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
    throw new KitError(`${name}: output size must be positive integers, got ${outW}×${outH}`);
  }
  if (data.length !== w * h * 3) {
    throw new KitError(`${name}: ${data.length} bytes for a ${w}×${h} RGB image`);
  }
  let cur = data, curW = w;
  if (outW !== w) {
    const { bounds, kk, ksize } = coefficients(w, outW, filter);
    const tmp = new Uint8Array(outW * h * 3);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2]!, xmax = bounds[xx * 2 + 1]!, k = xx * ksize;
        for (let c = 0; c < 3; c++) {
          let ss = 1 << (RESAMPLE_BITS - 1);
          for (let x = 0; x < xmax; x++) ss += cur[(y * w + x + xmin) * 3 + c]! * kk[k + x]!;
          tmp[(y * outW + xx) * 3 + c] = clip8(ss);
        }
      }
    }
    cur = tmp;
    curW = outW;
  }
  if (outH !== h) {
    const { bounds, kk, ksize } = coefficients(h, outH, filter);
    const out = new Uint8Array(curW * outH * 3);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2]!, ymax = bounds[yy * 2 + 1]!, k = yy * ksize;
      for (let x = 0; x < curW; x++) {
        for (let c = 0; c < 3; c++) {
          let ss = 1 << (RESAMPLE_BITS - 1);
          for (let y = 0; y < ymax; y++) ss += cur[((y + ymin) * curW + x) * 3 + c]! * kk[k + y]!;
          out[(yy * curW + x) * 3 + c] = clip8(ss);
        }
      }
    }
    cur = out;
  }
  return { data: cur === data ? data.slice() : cur, width: outW, height: outH };
}

/**
 * torchvision `Resize(size)` (shortest side to `size`, the other `int(size · long / short)`,
 * PIL bicubic) then `CenterCrop(size)`: OpenCLIP's eval transform before `ToTensor`.
 */
export function clipResizeCrop(img: RgbImage, size = 224, crop = size): RgbImage {
  if (!Number.isInteger(size) || !Number.isInteger(crop) || crop < 1 || crop > size) {
    throw new KitError(
      `clipResizeCrop: need integers 1 ≤ crop ≤ size, got size ${size}, crop ${crop}`,
    );
  }
  const { width: w, height: h } = img;
  const short = Math.min(w, h), long = Math.max(w, h);
  const newLong = Math.trunc((size * long) / short);
  const [nw, nh] = w <= h ? [size, newLong] : [newLong, size];
  const r = nw === w && nh === h ? img : pilBicubicResize(img, nw, nh);
  const top = roundHalfEven((nh - crop) / 2), left = roundHalfEven((nw - crop) / 2);
  const out = new Uint8Array(crop * crop * 3);
  for (let y = 0; y < crop; y++) {
    out.set(
      r.data.subarray(((y + top) * nw + left) * 3, ((y + top) * nw + left + crop) * 3),
      y * crop * 3,
    );
  }
  return { data: out, width: crop, height: crop };
}

/**
 * `Image.alpha_composite(white, im.convert("RGBA")).convert("RGB")` with Pillow's integer
 * arithmetic (`AlphaComposite.c`, 7 extra bits, divisions by 255 rounded).
 */
export function compositeOnWhite(rgba: Uint8Array, width: number, height: number): RgbImage {
  if (rgba.length !== width * height * 4) {
    throw new KitError(
      `compositeOnWhite: ${rgba.length} bytes for a ${width}×${height} RGBA image`,
    );
  }
  const P = 7;
  const out = new Uint8Array(width * height * 3);
  const div255 = (a: number) => Math.floor((Math.floor(a / 256) + a) / 256);
  for (let p = 0; p < width * height; p++) {
    const a = rgba[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) {
      if (a === 0) {
        out[p * 3 + c] = 255;
        continue;
      }
      const outa255 = a * 255 + 255 * (255 - a);
      const coef1 = Math.floor((a * 255 * 255 * (1 << P)) / outa255);
      const coef2 = 255 * (1 << P) - coef1;
      const tmp = rgba[p * 4 + c]! * coef1 + 255 * coef2;
      out[p * 3 + c] = Math.floor(div255(tmp + (0x80 << P)) / (1 << P));
    }
  }
  return { data: out, width, height };
}

/** Options of {@link decodeForClip}. */
export interface ClipDecodeOptions {
  /**
   * D stores every image as a JPEG of quality 95 (4:2:0) in its shards and embeds the decoded
   * JPEG; `true` (default) does the same round trip, `false` keeps the lossless pixels.
   */
  jpegRoundTrip?: boolean;
}

/**
 * Decodes image bytes as D's pipeline sees them before CLIP's transform: EXIF orientation
 * applied, embedded colour profiles ignored (PIL does not apply them), grey expanded to RGB,
 * transparency composited on white with PIL's arithmetic, then (by default) the JPEG q95 round
 * trip of D's shards.
 */
export async function decodeForClip(
  bytes: Uint8Array,
  opts: ClipDecodeOptions = {},
): Promise<RgbImage> {
  const { data, info } = await sharp(bytes, { failOn: "warning", ignoreIcc: true })
    .rotate()
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height, ch = info.channels;
  let img: RgbImage;
  if (ch === 2 || ch === 4) {
    const rgba = new Uint8Array(n * 4);
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = data[p * ch + (ch === 2 ? 0 : c)]!;
      rgba[p * 4 + 3] = data[p * ch + ch - 1]!;
    }
    img = compositeOnWhite(rgba, info.width, info.height);
  } else {
    const rgb = new Uint8Array(n * 3);
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = data[p * ch + (ch === 1 ? 0 : c)]!;
    }
    img = { data: rgb, width: info.width, height: info.height };
  }
  if (opts.jpegRoundTrip ?? true) img = await jpegRoundTrip(img, 95);
  return img;
}

/** Encodes as baseline JPEG (libjpeg's standard tables, 4:2:0) and decodes again. */
export async function jpegRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  const jpeg = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({
      quality,
      chromaSubsampling: "4:2:0",
      quantisationTable: 0,
      trellisQuantisation: false,
      overshootDeringing: false,
      optimiseScans: false,
      progressive: false,
    })
    .toBuffer();
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    throw new KitError(`jpegRoundTrip: expected 3 channels, got ${info.channels}`);
  }
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** CLIP's normalisation constants (OpenAI; OpenCLIP `OPENAI_DATASET_MEAN` / `_STD`). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** `ToTensor()` then `Normalize(mean, std)`: channels first, `(v / 255 − mean_c) / std_c`. */
export function clipNormalise(
  img: RgbImage,
  mean: readonly number[] = CLIP_MEAN,
  std: readonly number[] = CLIP_STD,
): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!, s = std[c]!;
    for (let p = 0; p < n; p++) out[c * n + p] = (img.data[p * 3 + c]! / 255 - m) / s;
  }
  return out;
}

/**
 * D's image input before normalisation: {@link decodeForClip} then {@link clipResizeCrop}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "sharp";
 * import { CLIP_MEAN, CLIP_STD, clipNormalise, clipPreprocess } from "./clip_preprocess.ts";
 * const white = { width: 300, height: 200, channels: 3 as const, background: "#ffffff" };
 * const png = new Uint8Array(await sharp({ create: white }).png().toBuffer()); // or a photo
 * const img = await clipPreprocess(png, { jpegRoundTrip: false });
 * assert.deepEqual([img.width, img.height], [224, 224]); // shortest side 224, centre crop
 * const x = clipNormalise(img); // 3·224·224, channel-major
 * assert.equal(x.length, 3 * 224 * 224);
 * assert(Math.abs(x[0]! - (1 - CLIP_MEAN[0]) / CLIP_STD[0]) < 1e-6);
 * ```
 */
export async function clipPreprocess(
  bytes: Uint8Array,
  opts: ClipDecodeOptions & { size?: number } = {},
): Promise<RgbImage> {
  return clipResizeCrop(await decodeForClip(bytes, opts), opts.size ?? 224);
}
