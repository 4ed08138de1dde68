/** Raster and vector formats the kit decodes (with sharp/libvips). */
export type ImageFormat = "png" | "jpeg" | "gif" | "webp" | "tiff" | "svg" | "avif" | "heif";

/** What the first bytes of a file say it is. */
export type SniffResult =
  | { kind: "image"; format: ImageFormat }
  | { kind: "not-image"; reason: string; detail: string };

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/**
 * Identifies a file from its bytes (never its name): the magic numbers of PNG, JPEG, GIF, WebP,
 * TIFF, AVIF/HEIF, and SVG documents; and the usual non-image payloads saved under an image
 * name (an HTML error page, a JSON API reply, other XML or text, an empty file), each with a
 * reason string for the rejects report.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sniffImageBytes } from "./sniff_image.ts";
 * const html = new TextEncoder().encode("<!DOCTYPE html><html><body>404</body></html>");
 * const r = sniffImageBytes(html);
 * assert(r.kind === "not-image" && r.reason === "not an image: HTML");
 * assert(sniffImageBytes(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])).kind === "image");
 * ```
 */
export function sniffImageBytes(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return { kind: "not-image", reason: "empty file", detail: "0 bytes" };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: "image", format: "png" };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: "image", format: "jpeg" };
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) {
    return { kind: "image", format: "gif" };
  }
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) {
    return { kind: "image", format: "webp" };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: "image", format: "tiff" };
  }
  if (startsWith(bytes, ascii("ftyp"), 4)) {
    const brand = new TextDecoder("latin1").decode(bytes.subarray(8, 12));
    if (brand.startsWith("avi")) return { kind: "image", format: "avif" };
    if (/^(heic|heix|mif1|msf1|hevc)/.test(brand)) return { kind: "image", format: "heif" };
    return {
      kind: "not-image",
      reason: "not an image: other media",
      detail: `ISO media brand "${brand}"`,
    };
  }
  if (startsWith(bytes, ascii("BM"))) {
    return {
      kind: "not-image",
      reason: "unsupported image format",
      detail: "BMP (not decoded by the kit)",
    };
  }
  // Text-like payloads: look at the start, without BOM and leading whitespace.
  const head = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, 4096)).replace(
    /^\uFEFF/,
    "",
  );
  const t = head.trimStart();
  const lower = t.slice(0, 1024).toLowerCase();
  if (
    /^<!doctype\s+html|^<html[\s>]|^<head[\s>]|^<body[\s>]/.test(lower) ||
    (/^</.test(lower) && /<html[\s>]/.test(lower) && !/<svg[\s>]/.test(lower))
  ) {
    return { kind: "not-image", reason: "not an image: HTML", detail: firstLine(t) };
  }
  if (
    /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype\s+svg[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/
      .test(lower) ||
    (/^<\?xml|^<!--|^<!doctype svg/.test(lower) && /<svg[\s>]/.test(head.toLowerCase()))
  ) {
    return { kind: "image", format: "svg" };
  }
  if (/^[{[]/.test(t)) {
    try {
      JSON.parse(new TextDecoder().decode(bytes));
      return { kind: "not-image", reason: "not an image: JSON", detail: firstLine(t) };
    } catch {
      return {
        kind: "not-image",
        reason: "not an image: JSON",
        detail: `(invalid JSON) ${firstLine(t)}`,
      };
    }
  }
  if (/^</.test(t)) return { kind: "not-image", reason: "not an image: XML", detail: firstLine(t) };
  if (isMostlyText(bytes.subarray(0, 4096))) {
    return { kind: "not-image", reason: "not an image: text", detail: firstLine(t) };
  }
  return {
    kind: "not-image",
    reason: "unknown image format",
    detail: `first bytes ${
      [...bytes.subarray(0, 8)].map((x) => x.toString(16).padStart(2, "0")).join(" ")
    }`,
  };
}

function firstLine(t: string): string {
  const l = t.split("\n")[0]!.trim();
  return l.length > 80 ? `${l.slice(0, 79)}…` : l;
}

function isMostlyText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  let bad = 0;
  for (const x of b) if (x < 9 || (x > 13 && x < 32)) bad++;
  return bad / b.length < 0.01;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array, from: number, to: number): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Walks a PNG's chunks (length, type, CRC) up to `IEND`. Returns null when the structure is
 * intact, else why not: libpng decodes a PNG cut just before its `IEND` chunk without an error,
 * so a truncated download can look valid to a decoder alone.
 */
export function checkPngStructure(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  let sawIdat = false;
  while (off + 8 <= bytes.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    const end = off + 12 + len;
    if (end > bytes.length) {
      return `chunk ${type} at byte ${off} runs past the end of the file (${bytes.length} bytes)`;
    }
    const crc = view.getUint32(off + 8 + len);
    if (crc32(bytes, off + 4, off + 8 + len) !== crc) {
      return `chunk ${type} at byte ${off} has a bad CRC`;
    }
    if (type === "IDAT") sawIdat = true;
    if (type === "IEND") return sawIdat ? null : "no IDAT chunk before IEND";
    off = end;
  }
  return `no IEND chunk (file ends at byte ${bytes.length})`;
}
