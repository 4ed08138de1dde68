import { KitError } from "../util/kit_error.ts";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { decodeFloat16, encodeFloat16 } from "./float16.ts";

/** The floating dtypes the kit reads and writes in `.npy` files (numpy `descr` strings). */
export type NpyDtype = "<f2" | "<f4" | "<f8";

/**
 * An n-d array from a `.npy` file, C order. `float16` files are widened to a Float32Array on
 * read (`dtype` still says `<f2`); `float64` files are kept as a Float64Array.
 */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const BYTES: Record<NpyDtype, number> = { "<f2": 2, "<f4": 4, "<f8": 8 };

/** Parses the Python-literal header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. */
function parseHeader(
  text: string,
  name: string,
): { descr: string; fortran: boolean; shape: number[] } {
  const bad = (what: string) =>
    new KitError(`${name}: malformed .npy header (${what}): ${JSON.stringify(text.trim())}`);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortranRaw = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeRaw = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined) throw bad("no 'descr'");
  if (fortranRaw === undefined) throw bad("no 'fortran_order'");
  if (shapeRaw === undefined) throw bad("no 'shape'");
  const shape = shapeRaw.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const v = Number(s.replace(/L$/, ""));
    if (!Number.isInteger(v) || v < 0) throw bad(`shape entry ${JSON.stringify(s)}`);
    return v;
  });
  return { descr, fortran: fortranRaw === "True", shape };
}

/**
 * Parses `.npy` bytes (format versions 1.0, 2.0 and 3.0). Accepts little-endian float16,
 * float32 and float64 arrays in C order; anything else (Fortran order, big-endian, other
 * dtypes, truncated data) is a `KitError` naming `name`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeNpy, parseNpy } from "./npy.ts";
 * const a = parseNpy(encodeNpy({ dtype: "<f4", shape: [2], data: new Float32Array([1, 2]) }));
 * assert(a.shape[0] === 2 && a.data[1] === 2);
 * ```
 */
export function parseNpy(bytes: Uint8Array, name = "<npy bytes>"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new KitError(`${name}: not a .npy file (missing the \\x93NUMPY magic)`);
  }
  const major = bytes[6]!, minor = bytes[7]!;
  let headerLen: number, headerStart: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new KitError(`${name}: truncated .npy header`);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    headerStart = 12;
  } else {
    throw new KitError(
      `${name}: unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`,
    );
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw new KitError(
      `${name}: truncated .npy header (needs ${dataStart} bytes, file has ${bytes.length})`,
    );
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  // v1/v2 headers are latin-1, v3 UTF-8; the keys and values the kit accepts are ASCII either way.
  const text = new TextDecoder("utf-8").decode(headerBytes);
  const { descr, fortran, shape } = parseHeader(text, name);
  if (descr[0] === ">") {
    throw new KitError(
      `${name}: big-endian dtype '${descr}' is not supported; save it little-endian (arr.astype('<f4'))`,
    );
  }
  const normalized = (descr[0] === "=" ? "<" + descr.slice(1) : descr) as NpyDtype;
  if (!(normalized in BYTES)) {
    throw new KitError(
      `${name}: dtype '${descr}' is not supported; expected float16, float32 or float64 ('<f2', '<f4', '<f8')`,
    );
  }
  if (fortran && shape.length > 1) {
    throw new KitError(
      `${name}: Fortran-order arrays are not supported; save with np.ascontiguousarray(arr)`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * BYTES[normalized];
  if (bytes.length - dataStart < need) {
    throw new KitError(
      `${name}: truncated .npy data: shape (${
        shape.join(", ")
      }) of ${descr} needs ${need} bytes, found ${bytes.length - dataStart}`,
    );
  }
  let data: Float32Array | Float64Array;
  if (normalized === "<f2") data = decodeFloat16(bytes, dataStart, count);
  else {
    const copy = bytes.slice(dataStart, dataStart + need).buffer; // aligned copy
    data = normalized === "<f4" ? new Float32Array(copy) : new Float64Array(copy);
  }
  return { dtype: normalized, shape, data };
}

/** Reads and parses a `.npy` file (see `parseNpy`). */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new KitError(
      `${path}: cannot read .npy file (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return parseNpy(bytes, path);
}

/** What `encodeNpy` writes: `data` is converted to `dtype` (float16 rounds to nearest even). */
export interface NpyInput {
  dtype?: NpyDtype;
  shape: readonly number[];
  data: ArrayLike<number>;
}

/**
 * Encodes an array as `.npy` bytes: version 1.0 (2.0 when the header needs it), C order,
 * little-endian, header padded to a multiple of 64 bytes as numpy does. `dtype` defaults to
 * `<f8` for a Float64Array and `<f4` otherwise.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy({ shape: [1, 2], data: new Float32Array([1, 2]) });
 * assert(bytes.length % 64 === 8);
 * ```
 */
export function encodeNpy(array: NpyInput, name = "<npy>"): Uint8Array {
  const dtype: NpyDtype = array.dtype ?? (array.data instanceof Float64Array ? "<f8" : "<f4");
  if (!(dtype in BYTES)) throw new KitError(`${name}: cannot write dtype '${dtype}'`);
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new KitError(
      `${name}: shape must be non-negative integers, got (${array.shape.join(", ")})`,
    );
  }
  if (count !== array.data.length) {
    throw new KitError(
      `${name}: shape (${
        array.shape.join(", ")
      }) holds ${count} values, data has ${array.data.length}`,
    );
  }
  const shapeText = array.shape.length === 1
    ? `(${array.shape[0]},)`
    : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  if (header.length + 1 + prefix > 65535) {
    version = 2;
    prefix = 12;
  }
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header + " ".repeat(total - prefix - header.length - 1) + "\n";
  let payload: Uint8Array;
  if (dtype === "<f2") payload = encodeFloat16(array.data);
  else if (dtype === "<f4") {
    payload = new Uint8Array(Float32Array.from(array.data).buffer);
  } else {
    payload = new Uint8Array(Float64Array.from(array.data).buffer);
  }
  const out = new Uint8Array(total + payload.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const hl = header.length;
  if (version === 1) {
    out[8] = hl & 0xff;
    out[9] = hl >>> 8;
  } else {
    out[8] = hl & 0xff;
    out[9] = (hl >>> 8) & 0xff;
    out[10] = (hl >>> 16) & 0xff;
    out[11] = hl >>> 24;
  }
  for (let i = 0; i < hl; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(payload, total);
  return out;
}

/** Writes a `.npy` file atomically (see `encodeNpy`). */
export async function writeNpy(path: string, array: NpyInput): Promise<void> {
  await atomicWriteFile(path, encodeNpy(array, path));
}
