import { KitError } from "../util/kit_error.ts";
import { decodeFloat16 } from "./float16.ts";
import type { SafetensorsDtype } from "./safetensors.ts";

const BYTES: Record<SafetensorsDtype, number> = { F16: 2, F32: 4, F64: 8, I32: 4, I64: 8 };

/** One tensor's header entry: where its bytes are in the file. */
export interface SafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Number of values. */
  readonly count: number;
  /** Byte offset of its data from the start of the file. */
  readonly fileOffset: number;
  readonly byteLength: number;
}

/**
 * A `.safetensors` file opened for reading tensor by tensor: only the header is read on open;
 * `readFloat32Into` streams one tensor's bytes (in chunks of at most `chunkBytes`) straight into
 * a caller's `Float32Array`, widening F16. So a multi-GB checkpoint is never held in one buffer
 * (XLM-R-large: 2.2 GB F32, of which the word table is 1 GB).
 */
export class SafetensorsReader {
  readonly path: string;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly #file: Deno.FsFile;
  readonly #chunkBytes: number;

  private constructor(
    path: string,
    file: Deno.FsFile,
    entries: Map<string, SafetensorsEntry>,
    metadata: Record<string, string>,
    chunkBytes: number,
  ) {
    this.path = path;
    this.#file = file;
    this.entries = entries;
    this.metadata = metadata;
    this.#chunkBytes = chunkBytes;
  }

  /** Opens `path` and parses its header (KitError naming the file and tensor when malformed). */
  static async open(path: string, opts: { chunkBytes?: number } = {}): Promise<SafetensorsReader> {
    const chunkBytes = opts.chunkBytes ?? 64 * 2 ** 20;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 8 || chunkBytes % 8 !== 0) {
      throw new KitError(`SafetensorsReader: chunkBytes must be a positive multiple of 8`);
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      throw new KitError(
        `${path}: cannot open .safetensors file (${err instanceof Error ? err.message : err})`,
      );
    }
    try {
      const size = (await file.stat()).size;
      const lenBytes = await readExactly(file, 0, 8, path);
      const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
      if (headerLen > size - 8) {
        throw new KitError(
          `${path}: truncated .safetensors header (declares ${headerLen} bytes, file has ${
            size - 8
          } after the length)`,
        );
      }
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(
          new TextDecoder("utf-8", { fatal: true }).decode(
            await readExactly(file, 8, headerLen, path),
          ),
        );
      } catch (err) {
        if (err instanceof KitError) throw err;
        throw new KitError(`${path}: .safetensors header is not valid JSON`);
      }
      if (header === null || typeof header !== "object" || Array.isArray(header)) {
        throw new KitError(`${path}: .safetensors header must be a JSON object`);
      }
      const base = 8 + headerLen;
      const entries = new Map<string, SafetensorsEntry>();
      const metadata: Record<string, string> = {};
      for (const [key, entry] of Object.entries(header)) {
        if (key === "__metadata__") {
          for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
            if (typeof v === "string") metadata[k] = v;
          }
          continue;
        }
        const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
        const dtype = e?.dtype;
        if (typeof dtype !== "string" || !(dtype in BYTES)) {
          throw new KitError(
            `${path}: tensor "${key}" has dtype ${
              JSON.stringify(dtype)
            }; supported: F16, F32, F64, I32, I64`,
          );
        }
        const shape = e.shape;
        if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < 0)) {
          throw new KitError(`${path}: tensor "${key}" has an invalid shape`);
        }
        const offs = e.data_offsets;
        if (
          !Array.isArray(offs) || offs.length !== 2 ||
          !offs.every((o) => Number.isInteger(o) && o >= 0)
        ) {
          throw new KitError(`${path}: tensor "${key}" has invalid data_offsets`);
        }
        const [begin, end] = offs as [number, number];
        const count = (shape as number[]).reduce((a, b) => a * b, 1);
        const d = dtype as SafetensorsDtype;
        if (end - begin !== count * BYTES[d]) {
          throw new KitError(
            `${path}: tensor "${key}" (${d}, shape [${shape.join(", ")}]) needs ${
              count * BYTES[d]
            } bytes, data_offsets give ${end - begin}`,
          );
        }
        if (base + end > size) {
          throw new KitError(
            `${path}: tensor "${key}" ends at byte ${
              base + end
            } of a ${size}-byte file (truncated?)`,
          );
        }
        entries.set(key, {
          dtype: d,
          shape: shape as number[],
          count,
          fileOffset: base + begin,
          byteLength: end - begin,
        });
      }
      return new SafetensorsReader(path, file, entries, metadata, chunkBytes);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /** Reads tensor `name` (F32 or F16) into `target` (exactly its size), chunk by chunk. */
  async readFloat32Into(name: string, target: Float32Array): Promise<void> {
    const e = this.entries.get(name);
    if (!e) throw new KitError(`${this.path}: no tensor "${name}"`);
    if (e.dtype !== "F32" && e.dtype !== "F16") {
      throw new KitError(`${this.path}: tensor "${name}" is ${e.dtype}; expected F32 or F16`);
    }
    if (target.length !== e.count) {
      throw new KitError(
        `${this.path}: tensor "${name}" has ${e.count} values, the target ${target.length}`,
      );
    }
    if (e.dtype === "F32") {
      const dst = new Uint8Array(target.buffer, target.byteOffset, e.byteLength);
      for (let at = 0; at < e.byteLength; at += this.#chunkBytes) {
        const n = Math.min(this.#chunkBytes, e.byteLength - at);
        await readInto(this.#file, e.fileOffset + at, dst.subarray(at, at + n), this.path);
      }
      return;
    }
    const chunk = new Uint8Array(Math.min(this.#chunkBytes, e.byteLength));
    for (let at = 0; at < e.byteLength; at += chunk.length) {
      const n = Math.min(chunk.length, e.byteLength - at);
      const part = chunk.subarray(0, n);
      await readInto(this.#file, e.fileOffset + at, part, this.path);
      target.set(decodeFloat16(part, 0, n / 2), at / 2);
    }
  }

  close(): void {
    this.#file.close();
  }
}

async function readInto(file: Deno.FsFile, offset: number, dst: Uint8Array, path: string) {
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < dst.length) {
    const n = await file.read(dst.subarray(got));
    if (n === null) {
      throw new KitError(`${path}: unexpected end of file at byte ${offset + got}`);
    }
    got += n;
  }
}

async function readExactly(file: Deno.FsFile, offset: number, n: number, path: string) {
  const buf = new Uint8Array(n);
  await readInto(file, offset, buf, path);
  return buf;
}
