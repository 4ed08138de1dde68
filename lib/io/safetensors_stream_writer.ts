/**
 * Writes a sealed `.safetensors` file tensor by tensor, byte-identical to `writeSafetensors`
 * (same header, same order, the kit's content hash), without ever holding the file in memory:
 * each tensor's bytes go to disk in chunks of at most `chunkBytes` (a Float32 tensor is written
 * from a view of its own buffer, no copy; other dtypes are converted one chunk at a time), the
 * sha256 is computed on the way, and the hash is patched into the header at the end. A tensor can
 * also be copied from another `.safetensors` file (its raw bytes, chunk by chunk). The file is
 * written to a temp file beside `path`, flushed, then renamed over it (atomic).
 *
 * So a checkpoint of several GB (K at real shapes: parameters and Adam moments, 7.7 GB) costs
 * at most one chunk of memory beyond the tensors themselves.
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { encodeFloat16 } from "./float16.ts";
import { CONTENT_HASH_KEY, type SafeTensorInput, type SafetensorsDtype } from "./safetensors.ts";

const BYTES: Record<SafetensorsDtype, number> = { F16: 2, F32: 4, F64: 8, I32: 4, I64: 8 };

/** A tensor whose bytes are copied from another `.safetensors` file (same dtype). */
export interface SafeTensorFileSlice {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  /** The file and the byte range of the tensor's data in it (`SafetensorsReader.entries`). */
  file: string;
  fileOffset: number;
  byteLength: number;
}

/** What `writeSafetensorsStreaming` writes: values in memory, or bytes in another file. */
export type StreamedTensor = SafeTensorInput | SafeTensorFileSlice;

function isSlice(t: StreamedTensor): t is SafeTensorFileSlice {
  return (t as SafeTensorFileSlice).file !== undefined;
}

function byteLengthOf(t: StreamedTensor, key: string): number {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new KitError(`safetensors: tensor "${key}" has an invalid shape [${t.shape.join(", ")}]`);
  }
  if (isSlice(t)) {
    if (t.byteLength !== count * BYTES[t.dtype]) {
      throw new KitError(
        `safetensors: tensor "${key}" copied from ${t.file} has ${t.byteLength} bytes, expected ${
          count * BYTES[t.dtype]
        } for ${t.dtype} [${t.shape.join(", ")}]`,
      );
    }
    return t.byteLength;
  }
  if (count !== t.data.length) {
    throw new KitError(
      `safetensors: tensor "${key}" has shape [${t.shape.join(", ")}] but ${t.data.length} values`,
    );
  }
  if (!(t.dtype in BYTES)) {
    throw new KitError(`safetensors: tensor "${key}" has unsupported dtype ${String(t.dtype)}`);
  }
  return count * BYTES[t.dtype];
}

/** The bytes of values `[from, to)` of an in-memory tensor in its dtype (a view for F32). */
function chunkBytesOf(t: SafeTensorInput, from: number, to: number, key: string): Uint8Array {
  const d = t.data;
  if (t.dtype === "I64") {
    const part = d instanceof BigInt64Array ? d.slice(from, to) : BigInt64Array.from(
      Array.from(
        { length: to - from },
        (_, i) => BigInt(Math.trunc((d as ArrayLike<number>)[from + i]!)),
      ),
    );
    return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  }
  if (d instanceof BigInt64Array) {
    throw new KitError(`safetensors: tensor "${key}" holds BigInt values but dtype is ${t.dtype}`);
  }
  if (t.dtype === "F32" && d instanceof Float32Array) {
    return new Uint8Array(d.buffer, d.byteOffset + from * 4, (to - from) * 4);
  }
  const slice = (xs: ArrayLike<number>) =>
    ArrayBuffer.isView(xs)
      ? (xs as unknown as Float64Array).subarray(from, to)
      : Array.prototype.slice.call(xs, from, to) as number[];
  switch (t.dtype) {
    case "F16":
      return encodeFloat16(slice(d));
    case "F32":
      return new Uint8Array(Float32Array.from(slice(d)).buffer);
    case "F64":
      return new Uint8Array(Float64Array.from(slice(d)).buffer);
    case "I32":
      return new Uint8Array(Int32Array.from(slice(d)).buffer);
  }
}

let counter = 0;

/**
 * Writes `tensors` (in key order) and `metadata` as a sealed `.safetensors` file at `path`,
 * streamed; the result is byte-identical to `writeSafetensors(path, tensors, metadata)` for
 * in-memory tensors.
 */
export async function writeSafetensorsStreaming(
  path: string,
  tensors: Record<string, StreamedTensor>,
  metadata: Record<string, string> = {},
  opts: { chunkBytes?: number } = {},
): Promise<void> {
  const chunkBytes = opts.chunkBytes ?? 2 ** 20;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 8 || chunkBytes % 8 !== 0) {
    throw new KitError("writeSafetensorsStreaming: chunkBytes must be a positive multiple of 8");
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (k === CONTENT_HASH_KEY) {
      throw new KitError(`safetensors: metadata "${k}" is reserved for the content hash`);
    }
    if (typeof v !== "string") throw new KitError(`safetensors: metadata "${k}" must be a string`);
  }
  const keys = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {
    __metadata__: { ...metadata, [CONTENT_HASH_KEY]: "0".repeat(64) },
  };
  let offset = 0;
  for (const key of keys) {
    if (key === "__metadata__") {
      throw new KitError(`safetensors: "__metadata__" is reserved and cannot name a tensor`);
    }
    const t = tensors[key]!;
    const n = byteLengthOf(t, key);
    header[key] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + jsonBytes.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  head.set(jsonBytes, 8);
  const mark = new TextEncoder().encode(`"${CONTENT_HASH_KEY}":"${"0".repeat(64)}"`);
  const at = indexOf(head, mark) + mark.length - 65;

  await Deno.mkdir(dirname(path), { recursive: true });
  counter += 1;
  const tmp = `${path}.${Deno.pid}.${counter}.tmp`;
  const hash = createHash("sha256");
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const write = async (bytes: Uint8Array) => {
    hash.update(bytes);
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
  };
  try {
    await write(head);
    for (const key of keys) {
      const t = tensors[key]!;
      if (isSlice(t)) {
        const src = await Deno.open(t.file, { read: true });
        try {
          await src.seek(t.fileOffset, Deno.SeekMode.Start);
          const buf = new Uint8Array(Math.min(chunkBytes, Math.max(8, t.byteLength)));
          let left = t.byteLength;
          while (left > 0) {
            const n = await src.read(buf.subarray(0, Math.min(buf.length, left)));
            if (n === null) {
              throw new KitError(`${t.file}: ended early while copying tensor "${key}"`);
            }
            await write(buf.subarray(0, n));
            left -= n;
          }
        } finally {
          src.close();
        }
      } else {
        const per = Math.max(1, Math.floor(chunkBytes / BYTES[t.dtype]));
        for (let from = 0; from < t.data.length; from += per) {
          await write(chunkBytesOf(t, from, Math.min(t.data.length, from + per), key));
        }
      }
    }
    const digest = new TextEncoder().encode(hash.digest("hex"));
    await file.seek(at, Deno.SeekMode.Start);
    let off = 0;
    while (off < digest.length) off += await file.write(digest.subarray(off));
    await file.syncData();
  } catch (err) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new KitError("safetensors: content hash field not found in the header");
}

/**
 * Checks the kit's content hash of a sealed `.safetensors` file as `verifySafetensorsFile` does,
 * reading it in chunks of `chunkBytes` (default 1 MiB, so a checkpoint check costs no memory to
 * speak of). A file without a hash, or with a wrong one, is a `KitError` naming it.
 */
export async function verifySealedSafetensors(
  path: string,
  opts: { chunkBytes?: number } = {},
): Promise<void> {
  const file = await Deno.open(path, { read: true });
  try {
    const size = (await file.stat()).size;
    const lenBytes = new Uint8Array(8);
    if (size < 8 || (await file.read(lenBytes)) !== 8) {
      throw new KitError(`${path}: not a .safetensors file (shorter than 8 bytes)`);
    }
    const len = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
    if (8 + len > size || len > 100_000_000) {
      throw new KitError(
        `${path}: damaged .safetensors header (length ${len}, file ${size} bytes)`,
      );
    }
    const head = new Uint8Array(8 + len);
    head.set(lenBytes);
    for (let got = 8; got < head.length;) {
      const n = await file.read(head.subarray(got));
      if (n === null) throw new KitError(`${path}: ended inside its header`);
      got += n;
    }
    const mark = new TextEncoder().encode(`"${CONTENT_HASH_KEY}":"`);
    let at = -1;
    try {
      at = indexOf(head, mark) + mark.length;
    } catch {
      throw new KitError(`${path}: no content hash (${CONTENT_HASH_KEY}) in the header`);
    }
    const stored = new TextDecoder().decode(head.subarray(at, at + 64));
    const hash = createHash("sha256");
    hash.update(head.subarray(0, at)).update(new TextEncoder().encode("0".repeat(64)))
      .update(head.subarray(at + 64));
    const chunk = new Uint8Array(opts.chunkBytes ?? 2 ** 20);
    for (;;) {
      const n = await file.read(chunk);
      if (n === null) break;
      hash.update(chunk.subarray(0, n));
    }
    const got = hash.digest("hex");
    if (got !== stored) {
      throw new KitError(
        `${path}: content hash mismatch (file has sha256 ${got}, written as ${stored}): the file is damaged`,
        [`delete it and rerun: the kit rebuilds it`],
      );
    }
  } finally {
    file.close();
  }
}
