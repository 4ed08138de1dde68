import { KitError } from "../util/kit_error.ts";

/** One regular file inside a tar archive. */
export interface TarEntry {
  name: string;
  data: Uint8Array;
}

const BLOCK = 512;
const enc = new TextEncoder();

function writeString(h: Uint8Array, off: number, len: number, s: string, what: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new KitError(`tar: ${what} "${s}" is longer than ${len} bytes`);
  h.set(b, off);
}

function writeOctal(h: Uint8Array, off: number, len: number, n: number): void {
  // len-1 octal digits, zero-padded, then NUL.
  const s = n.toString(8).padStart(len - 1, "0");
  if (s.length > len - 1) {
    throw new KitError(`tar: value ${n} does not fit in ${len - 1} octal digits`);
  }
  writeString(h, off, len, `${s}\0`, "number");
}

function splitName(name: string): { prefix: string; base: string } {
  if (enc.encode(name).length <= 100) return { prefix: "", base: name };
  const cut = name.lastIndexOf("/", 155);
  if (cut <= 0 || enc.encode(name.slice(cut + 1)).length > 100) {
    throw new KitError(`tar: path "${name}" is too long for a ustar header (≤ 155 + 100 bytes)`);
  }
  return { prefix: name.slice(0, cut), base: name.slice(cut + 1) };
}

/** The 512-byte POSIX ustar header of a regular file (mode 0644, uid/gid 0, mtime 0: deterministic). */
export function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const { prefix, base } = splitName(name);
  writeString(h, 0, 100, base, "name");
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = 0x30; // '0' regular file
  writeString(h, 257, 6, "ustar\0", "magic");
  writeString(h, 263, 2, "00", "version");
  writeString(h, 345, 155, prefix, "prefix");
  let sum = 0;
  for (const x of h) sum += x;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `, "checksum");
  return h;
}

/**
 * Encodes files as a POSIX ustar archive: per file a 512-byte header, the data padded to 512
 * bytes; two zero blocks at the end. With mtime 0 and fixed owner/mode, equal entries give equal
 * bytes (what makes dataset shards reproducible). Readable by `tar`, Python's `tarfile` and
 * WebDataset.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTar, encodeTar } from "./tar.ts";
 * const tar = encodeTar([{ name: "k1.json", data: new TextEncoder().encode("{}") }]);
 * assert(tar.length === 512 * 4 && decodeTar(tar)[0]!.name === "k1.json");
 * ```
 */
export function encodeTar(entries: readonly TarEntry[]): Uint8Array {
  let total = 2 * BLOCK;
  for (const e of entries) total += BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK;
  const out = new Uint8Array(total);
  let off = 0;
  for (const e of entries) {
    out.set(tarHeader(e.name, e.data.length), off);
    off += BLOCK;
    out.set(e.data, off);
    off += Math.ceil(e.data.length / BLOCK) * BLOCK;
  }
  return out;
}

function readString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

function readOctal(b: Uint8Array, off: number, len: number): number {
  const s = readString(b, off, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

/**
 * Decodes a tar archive's regular files (ustar and GNU/pax variants; pax extended headers and
 * directories are skipped). Throws a KitError when a header checksum is wrong or the archive is
 * truncated — how a corrupt shard is detected.
 */
export function decodeTar(bytes: Uint8Array, what = "tar archive"): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let sawEnd = false;
  while (off + BLOCK <= bytes.length) {
    const h = bytes.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) {
      sawEnd = true;
      break;
    }
    const stored = readOctal(h, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== stored) {
      throw new KitError(`${what}: bad header checksum at byte ${off} (corrupt archive)`);
    }
    const size = readOctal(h, 124, 12);
    const type = String.fromCharCode(h[156]!);
    const prefix = readString(h, 345, 155);
    const base = readString(h, 0, 100);
    const name = prefix ? `${prefix}/${base}` : base;
    const start = off + BLOCK;
    const end = start + size;
    if (end > bytes.length) {
      throw new KitError(
        `${what}: entry ${name} is cut off (archive truncated at byte ${bytes.length})`,
      );
    }
    if (type === "0" || type === "\0") out.push({ name, data: bytes.slice(start, end) });
    off = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (!sawEnd) {
    throw new KitError(
      `${what}: no end-of-archive blocks (archive truncated at byte ${bytes.length})`,
    );
  }
  return out;
}
