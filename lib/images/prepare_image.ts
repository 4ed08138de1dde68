import sharp from "sharp";
import { sha256Hex } from "../util/sha256.ts";
import { KitError } from "../util/kit_error.ts";
import { clipPreprocess } from "./clip_preprocess.ts";
import { checkPngStructure, type ImageFormat, sniffImageBytes } from "./sniff_image.ts";

/** How images are normalised for the dataset. */
export interface ImageOptions {
  /** Output side in pixels (square). Mini profile 64, paper 224. */
  size: number;
  /**
   * `contain` (default): whole image, padded with the background; `cover`: centre crop; `fill`:
   * stretch; `clip`: paper D's CLIP input exactly as its code makes it (`clipPreprocess`:
   * composite on white, JPEG q95 round trip, shortest side to `size` with PIL's bicubic, centre
   * crop), so CLIP's own resize and crop are identities on the stored PNG.
   */
  fit?: "contain" | "cover" | "fill" | "clip";
  /** Background for transparent pixels and padding (default white). */
  background?: { r: number; g: number; b: number };
  /** Images whose shorter side is below this are rejected (default 2: 1-pixel spacers and tracking pixels). */
  minSide?: number;
  /** Images with more pixels than this are rejected (default 100 megapixels). */
  maxPixels?: number;
}

/** What is kept about the original file. */
export interface OriginalImageInfo {
  sha256: string;
  bytes: number;
  format: ImageFormat;
  width: number;
  height: number;
  hasAlpha: boolean;
}

/** A validated image, resized and re-encoded as an RGB PNG. */
export interface PreparedImage {
  png: Uint8Array;
  width: number;
  height: number;
  original: OriginalImageInfo;
}

/** A rejected image: why, and the checksum of what was read. */
export interface ImageRejection {
  reason: string;
  detail: string;
  sha256: string;
  bytes: number;
}

export type ImageResult = { ok: true; image: PreparedImage } | {
  ok: false;
  rejection: ImageRejection;
};

function fail(bytes: Uint8Array, sha: string, reason: string, detail: string): ImageResult {
  return { ok: false, rejection: { reason, detail, sha256: sha, bytes: bytes.length } };
}

function decoderReason(format: ImageFormat, message: string): string {
  if (
    /premature end|truncat|unexpected end|short read|read error|not enough data|end of (file|stream)/i
      .test(message)
  ) {
    return "truncated image";
  }
  if (format === "svg") return "unreadable SVG";
  return "corrupt image";
}

/** The normalisation settings as stored in a dataset manifest. */
export function imageOptionsRecord(opts: ImageOptions): Required<ImageOptions> {
  return {
    size: opts.size,
    fit: opts.fit ?? "contain",
    background: opts.background ?? { r: 255, g: 255, b: 255 },
    minSide: opts.minSide ?? 2,
    maxPixels: opts.maxPixels ?? 100_000_000,
  };
}

/**
 * Validates an image file's bytes and normalises it: the format is read from the bytes (an HTML
 * or JSON payload saved as `.jpg`, an empty file, an unknown format are rejected with a reason);
 * the whole image is decoded (a truncated JPEG or PNG — including a PNG cut before `IEND` — is
 * rejected); SVG is rasterised at a density that gives at least `size` pixels; EXIF orientation
 * is applied; transparency is composited on the background (white); the result is resized to
 * `size`×`size` and encoded as an 8-bit RGB PNG (deterministic bytes). The original's sha256,
 * size, format and dimensions are kept.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareImage } from "./prepare_image.ts";
 * const r = await prepareImage(new TextEncoder().encode("<html>404</html>"), { size: 64 });
 * assert(!r.ok && r.rejection.reason === "not an image: HTML");
 * ```
 */
export async function prepareImage(bytes: Uint8Array, opts: ImageOptions): Promise<ImageResult> {
  const o = imageOptionsRecord(opts);
  if (!Number.isInteger(o.size) || o.size < 1 || o.size > 4096) {
    throw new KitError(`image size must be an integer in 1..4096, got ${opts.size}`);
  }
  const sha = sha256Hex(bytes);
  const sniff = sniffImageBytes(bytes);
  if (sniff.kind === "not-image") return fail(bytes, sha, sniff.reason, sniff.detail);
  const format = sniff.format;
  if (format === "png") {
    const bad = checkPngStructure(bytes);
    if (bad) return fail(bytes, sha, "truncated image", `PNG: ${bad}`);
  }
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(bytes, { failOn: "warning", limitInputPixels: o.maxPixels }).metadata();
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    if (/pixel limit/i.test(msg)) return fail(bytes, sha, "image too large", msg);
    return fail(bytes, sha, decoderReason(format, msg), msg);
  }
  let width = meta.width ?? 0;
  let height = meta.height ?? 0;
  if ((meta.orientation ?? 1) >= 5) [width, height] = [height, width];
  if (width * height > o.maxPixels) {
    return fail(bytes, sha, "image too large", `${width}×${height}`);
  }
  let density: number | undefined;
  if (format === "svg" && o.fit !== "clip") {
    const side = Math.max(1, Math.min(width, height));
    density = Math.min(72 * 16, Math.max(72, Math.ceil((72 * o.size) / side)));
  }
  const input = () =>
    sharp(bytes, {
      failOn: "warning",
      limitInputPixels: o.maxPixels,
      ...(density ? { density } : {}),
    });
  try {
    // Full decode first: catches truncation that metadata alone does not see.
    const full = await input().rotate().raw().toBuffer({ resolveWithObject: true });
    const w = full.info.width, h = full.info.height;
    if (Math.min(w, h) < o.minSide && format !== "svg") {
      return fail(bytes, sha, "image too small", `${w}×${h}, minimum side ${o.minSide}`);
    }
    if (o.fit === "clip") {
      const rgb = await clipPreprocess(bytes, { size: o.size });
      const png = await sharp(rgb.data, { raw: { width: o.size, height: o.size, channels: 3 } })
        .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
        .toBuffer();
      return okResult(png, o.size, {
        sha,
        bytes,
        format,
        width,
        height,
        hasAlpha: meta.hasAlpha ?? false,
      });
    }
    const bg = { ...o.background, alpha: 1 };
    const png = await sharp(full.data, {
      raw: { width: w, height: h, channels: full.info.channels },
    })
      .flatten({ background: bg })
      .resize(o.size, o.size, { fit: o.fit, background: bg, kernel: "lanczos3" })
      .removeAlpha()
      .toColourspace("srgb")
      .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
      .toBuffer({ resolveWithObject: true });
    if (png.info.channels !== 3) {
      // Grey sources come back with one channel: expand to RGB.
      const rgb = await sharp(png.data).toColourspace("srgb").ensureAlpha().removeAlpha()
        .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false }).toBuffer();
      return okResult(rgb, o.size, {
        sha,
        bytes,
        format,
        width,
        height,
        hasAlpha: meta.hasAlpha ?? false,
      });
    }
    return okResult(png.data, o.size, {
      sha,
      bytes,
      format,
      width,
      height,
      hasAlpha: meta.hasAlpha ?? false,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    return fail(bytes, sha, decoderReason(format, msg), msg);
  }
}

function okResult(
  png: Uint8Array,
  size: number,
  o: {
    sha: string;
    bytes: Uint8Array;
    format: ImageFormat;
    width: number;
    height: number;
    hasAlpha: boolean;
  },
): ImageResult {
  return {
    ok: true,
    image: {
      png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength),
      width: size,
      height: size,
      original: {
        sha256: o.sha,
        bytes: o.bytes.length,
        format: o.format,
        width: o.width,
        height: o.height,
        hasAlpha: o.hasAlpha,
      },
    },
  };
}

/** `prepareImage` on a file; a file that cannot be read is a rejection (`unreadable file`). */
export async function prepareImageFile(path: string, opts: ImageOptions): Promise<ImageResult> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    return {
      ok: false,
      rejection: {
        reason: "unreadable file",
        detail: err instanceof Error ? err.message : String(err),
        sha256: "",
        bytes: 0,
      },
    };
  }
  return await prepareImage(bytes, opts);
}

/**
 * Decodes a (dataset) PNG into RGB floats in [0, 1], row-major HWC: what image encoders read.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import sharp from "sharp";
 * import { decodeImagePixels } from "./prepare_image.ts";
 * const red = { r: 255, g: 0, b: 0 };
 * const png = await sharp({ create: { width: 2, height: 1, channels: 3, background: red } })
 *   .png().toBuffer();
 * const { data, width, height } = await decodeImagePixels(new Uint8Array(png));
 * assert.deepEqual([width, height], [2, 1]);
 * assert.deepEqual([...data], [1, 0, 0, 1, 0, 0]);
 * ```
 */
export async function decodeImagePixels(
  png: Uint8Array,
): Promise<{ data: Float32Array; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().toColourspace("srgb").raw().toBuffer({
    resolveWithObject: true,
  });
  const channels = info.channels;
  const out = new Float32Array(info.width * info.height * 3);
  for (let p = 0, q = 0; p < info.width * info.height; p++) {
    for (let c = 0; c < 3; c++) out[q++] = data[p * channels + Math.min(c, channels - 1)]! / 255;
  }
  return { data: out, width: info.width, height: info.height };
}

/** Versions of the image libraries (recorded in dataset manifests: PNG bytes depend on them). */
export function imageLibraryVersions(): Record<string, string> {
  const v = sharp.versions as unknown as Record<string, string | undefined>;
  return { sharp: v.sharp ?? "?", vips: v.vips ?? "?", png: v.png ?? "?", rsvg: v.rsvg ?? "?" };
}
