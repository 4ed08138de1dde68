import { KitError } from "../util/kit_error.ts";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { decodeFloat16, encodeFloat16 } from "./float16.ts";
import { createHash } from "node:crypto";
import { dirname } from "node:path";

/** The safetensors dtypes the kit reads and writes. */
export type SafetensorsDtype = "F16" | "F32" | "F64" | "I32" | "I64";

/**
 * One tensor: F16 is widened to a Float32Array on read (and narrowed on write); I64 uses a
 * BigInt64Array.
 */
export interface SafeTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array;
}

/** A parsed file: tensors by name (in file order) and the optional string `__metadata__`. */
export interface SafetensorsFile {
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F16: 2, F32: 4, F64: 8, I32: 4, I64: 8 };

function isDtype(x: unknown): x is SafetensorsDtype {
  return typeof x === "string" && x in BYTES;
}

/**
 * Parses `.safetensors` bytes: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`, then the
 * byte buffer. Checks offsets, sizes and dtypes; errors are `KitError`s naming `name`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSafetensors, parseSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } }, { step: "3" });
 * const f = parseSafetensors(bytes);
 * assert(f.tensors.get("w")!.data[1] === 2 && f.metadata.step === "3");
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, name = "<safetensors bytes>"): SafetensorsFile {
  if (bytes.length < 8) {
    throw new KitError(`${name}: truncated .safetensors file (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) {
    throw new KitError(
      `${name}: truncated .safetensors header (declares ${headerLen} bytes, file has ${
        bytes.length - 8
      } after the length)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (err) {
    throw new KitError(
      `${name}: .safetensors header is not valid JSON (${
        err instanceof Error ? err.message : String(err)
      })`,
    );
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new KitError(`${name}: .safetensors header must be a JSON object`);
  }
  const base = 8 + headerLen;
  const bufferLen = bytes.length - base;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafeTensor>();
  const spans: [number, number, string][] = [];
  for (const [key, entry] of Object.entries(header)) {
    if (key === "__metadata__") {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        throw new KitError(`${name}: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") {
          throw new KitError(`${name}: __metadata__.${k} must be a string, got ${typeof v}`);
        }
        if (k !== CONTENT_HASH_KEY) metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDtype(e?.dtype)) {
      throw new KitError(
        `${name}: tensor "${key}" has dtype ${
          JSON.stringify(e?.dtype)
        }; supported: F16, F32, F64, I32, I64`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new KitError(`${name}: tensor "${key}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)
    ) {
      throw new KitError(
        `${name}: tensor "${key}" has invalid data_offsets ${JSON.stringify(offs)}`,
      );
    }
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== count * BYTES[e.dtype]) {
      throw new KitError(
        `${name}: tensor "${key}" (${e.dtype}, shape [${shape.join(", ")}]) needs ${
          count * BYTES[e.dtype]
        } bytes, data_offsets give ${end - begin}`,
      );
    }
    if (end > bufferLen) {
      throw new KitError(
        `${name}: tensor "${key}" ends at byte ${end} but the data buffer has ${bufferLen} (truncated file?)`,
      );
    }
    spans.push([begin, end, key]);
    const start = base + begin;
    let data: SafeTensor["data"];
    switch (e.dtype) {
      case "F16":
        data = decodeFloat16(bytes, start, count);
        break;
      case "F32":
        data = new Float32Array(bytes.slice(start, base + end).buffer);
        break;
      case "F64":
        data = new Float64Array(bytes.slice(start, base + end).buffer);
        break;
      case "I32":
        data = new Int32Array(bytes.slice(start, base + end).buffer);
        break;
      case "I64":
        data = new BigInt64Array(bytes.slice(start, base + end).buffer);
        break;
    }
    tensors.set(key, { dtype: e.dtype, shape: shape as number[], data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [begin, end, key] of spans) {
    if (begin !== pos) {
      throw new KitError(
        `${name}: tensor "${key}" starts at byte ${begin}, expected ${pos} (overlapping or gapped data_offsets)`,
      );
    }
    pos = end;
  }
  return { tensors, metadata };
}

/**
 * The `__metadata__` key of the kit's content hash: the sha256 of the whole file, computed with
 * this value's own 64 hex digits read as "0". Written by `writeSafetensors`, checked by
 * `readSafetensors`, left out of the metadata `parseSafetensors` returns.
 */
export const CONTENT_HASH_KEY = "kit_sha256";
const HASH_MARK = new TextEncoder().encode(`"${CONTENT_HASH_KEY}":"`);
const ZERO_HASH = new TextEncoder().encode("0".repeat(64));

/** Offset of the content hash's first hex digit in the header, or -1 when it has none. */
function contentHashOffset(bytes: Uint8Array): number {
  if (bytes.length < 8) return -1;
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const end = Math.min(bytes.length, 8 + headerLen) - HASH_MARK.length - 64;
  outer: for (let i = 8; i <= end; i++) {
    for (let j = 0; j < HASH_MARK.length; j++) if (bytes[i + j] !== HASH_MARK[j]) continue outer;
    return i + HASH_MARK.length;
  }
  return -1;
}

/**
 * The first bytes of an open `.safetensors` file: the 8-byte length and the JSON header (at most
 * 100 MB of it, fewer if the file ends early), leaving the file positioned after them; null when
 * the file is shorter than 8 bytes.
 */
async function readHeaderBytes(file: Deno.FsFile): Promise<Uint8Array | null> {
  const head = new Uint8Array(8);
  if ((await file.read(head)) !== 8) return null;
  const len = Number(new DataView(head.buffer).getBigUint64(0, true));
  const header = new Uint8Array(8 + Math.min(len, 100_000_000));
  header.set(head);
  let off = 8;
  while (off < header.length) {
    const n = await file.read(header.subarray(off));
    if (n === null) break;
    off += n;
  }
  return header.subarray(0, off);
}

/** True when the `.safetensors` file at `path` carries the kit's content hash (reads the header only). */
export async function hasContentHash(path: string): Promise<boolean> {
  const file = await Deno.open(path, { read: true });
  try {
    const header = await readHeaderBytes(file);
    return header !== null && contentHashOffset(header) >= 0;
  } finally {
    file.close();
  }
}

/** sha256 of `bytes` with the 64 bytes at `at` read as "0" digits. */
function contentHash(bytes: Uint8Array, at: number): string {
  return createHash("sha256")
    .update(bytes.subarray(0, at))
    .update(ZERO_HASH)
    .update(bytes.subarray(at + 64))
    .digest("hex");
}

/**
 * How to read a `.safetensors` file's content hash: `requireHash` makes a file without one an
 * error (default: a file without a hash passes; one with a hash is always checked);
 * `rebuildHint` is what a damaged file's error tells the user to do (default: delete its folder
 * and rerun). A cache that knows its files were all written by the kit says so here (the model
 * cache: `modelFileReadOptions` in lib/model_cache/model_file_policy.ts).
 */
export interface SafetensorsReadOptions {
  requireHash?: boolean;
  rebuildHint?: readonly string[];
}

/** What to do about a damaged kit file, unless the caller says: delete its folder and rerun. */
function defaultRebuildHint(name: string): string[] {
  return [`delete the folder ${dirname(name)}/ and rerun: the kit rebuilds it`];
}

/**
 * Checks the content hash of `.safetensors` bytes. A file without one passes unless `required`
 * (the kit's own caches always carry one); a mismatch is a `KitError` naming `name`, the two
 * hashes and how to rebuild the file (`rebuildHint`, default: delete its folder and rerun).
 */
export function verifySafetensorsHash(
  bytes: Uint8Array,
  name: string,
  required: boolean,
  rebuildHint?: readonly string[],
): void {
  const at = contentHashOffset(bytes);
  const rebuild = [...(rebuildHint ?? defaultRebuildHint(name))];
  if (at < 0) {
    if (!required) return;
    throw new KitError(
      `${name}: no content hash (kit_sha256) in the header: the file is damaged or was written by an older kit`,
      rebuild,
    );
  }
  const stored = new TextDecoder().decode(bytes.subarray(at, at + 64));
  const got = contentHash(bytes, at);
  if (stored !== got) {
    throw new KitError(
      `${name}: content hash mismatch (file has sha256 ${got}, written as ${stored}): the file is damaged`,
      rebuild,
    );
  }
}

/**
 * Checks the content hash of the `.safetensors` file at `path` without holding it in memory (the
 * header is read to find the hash, then the file is streamed through sha256 in 64 MiB chunks), as
 * `readSafetensors` does for the bytes it reads: always when the file has a hash, and a missing
 * one is an error when `requireHash` (see {@link SafetensorsReadOptions}).
 */
export async function verifySafetensorsFile(
  path: string,
  opts: SafetensorsReadOptions = {},
): Promise<void> {
  const required = opts.requireHash ?? false;
  const file = await Deno.open(path, { read: true });
  try {
    const header = await readHeaderBytes(file) ?? new Uint8Array(0);
    const at = contentHashOffset(header);
    if (at < 0) {
      verifySafetensorsHash(header, path, required, opts.rebuildHint);
      return;
    }
    const stored = new TextDecoder().decode(header.subarray(at, at + 64));
    const hash = createHash("sha256");
    hash.update(header.subarray(0, at)).update(ZERO_HASH).update(header.subarray(at + 64));
    const chunk = new Uint8Array(64 << 20);
    for (;;) {
      const n = await file.read(chunk);
      if (n === null) break;
      hash.update(chunk.subarray(0, n));
    }
    const got = hash.digest("hex");
    if (stored !== got) {
      throw new KitError(
        `${path}: content hash mismatch (file has sha256 ${got}, written as ${stored}): the file is damaged`,
        [...(opts.rebuildHint ?? defaultRebuildHint(path))],
      );
    }
  } finally {
    file.close();
  }
}

/**
 * Reads and parses a `.safetensors` file (see `parseSafetensors`), checking its content hash
 * first: always when it has one; a missing one is an error when `requireHash` (see
 * {@link SafetensorsReadOptions}).
 */
export async function readSafetensors(
  path: string,
  opts: SafetensorsReadOptions = {},
): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new KitError(
      `${path}: cannot read .safetensors file (${
        err instanceof Error ? err.message : String(err)
      })`,
    );
  }
  verifySafetensorsHash(bytes, path, opts.requireHash ?? false, opts.rebuildHint);
  return parseSafetensors(bytes, path);
}

/** A tensor to write; `data` is converted to `dtype`. */
export interface SafeTensorInput {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: ArrayLike<number> | BigInt64Array;
}

function tensorBytes(t: SafeTensorInput, key: string): Uint8Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.some((s) => !Number.isInteger(s) || s < 0) || count !== t.data.length) {
    throw new KitError(
      `safetensors: tensor "${key}" has shape [${t.shape.join(", ")}] but ${t.data.length} values`,
    );
  }
  if (t.dtype === "I64") {
    const arr = t.data instanceof BigInt64Array
      ? t.data
      : BigInt64Array.from(Array.from(t.data as ArrayLike<number>, (v) => BigInt(Math.trunc(v))));
    return new Uint8Array(arr.slice().buffer);
  }
  if (t.data instanceof BigInt64Array) {
    throw new KitError(`safetensors: tensor "${key}" holds BigInt values but dtype is ${t.dtype}`);
  }
  switch (t.dtype) {
    case "F16":
      return encodeFloat16(t.data);
    case "F32":
      return new Uint8Array(Float32Array.from(t.data).buffer);
    case "F64":
      return new Uint8Array(Float64Array.from(t.data).buffer);
    case "I32":
      return new Uint8Array(Int32Array.from(t.data).buffer);
    default:
      throw new KitError(`safetensors: tensor "${key}" has unsupported dtype ${String(t.dtype)}`);
  }
}

/**
 * Encodes tensors (written in key order) and optional string metadata as `.safetensors` bytes.
 * The header is padded with spaces to a multiple of 8 bytes so every tensor starts aligned.
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const keys = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (k === CONTENT_HASH_KEY && !/^[0-9a-f]{64}$/.test(v)) {
        throw new KitError(`safetensors: metadata "${k}" is reserved for the content hash`);
      }
      if (typeof v !== "string") {
        throw new KitError(`safetensors: metadata "${k}" must be a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const key of keys) {
    if (key === "__metadata__") {
      throw new KitError(`safetensors: "__metadata__" is reserved and cannot name a tensor`);
    }
    const t = tensors[key]!;
    const b = tensorBytes(t, key);
    header[key] = {
      dtype: t.dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + b.length],
    };
    chunks.push(b);
    offset += b.length;
  }
  let json = JSON.stringify(header);
  let jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.length % 8)) % 8;
  if (pad > 0) {
    json += " ".repeat(pad);
    jsonBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let pos = 8 + jsonBytes.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/**
 * `encodeSafetensors` plus the kit's content hash in `__metadata__` (`CONTENT_HASH_KEY`): the
 * sha256 of the whole file, so `readSafetensors` detects any changed byte.
 */
export function encodeSealedSafetensors(
  tensors: Record<string, SafeTensorInput>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const bytes = encodeSafetensors(tensors, { ...metadata, [CONTENT_HASH_KEY]: "0".repeat(64) });
  const at = contentHashOffset(bytes);
  bytes.set(new TextEncoder().encode(contentHash(bytes, at)), at);
  return bytes;
}

/**
 * Writes a `.safetensors` file atomically (see `encodeSafetensors`), with the kit's content hash
 * (see `encodeSealedSafetensors`).
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  await atomicWriteFile(path, encodeSealedSafetensors(tensors, metadata));
}
