import { KitError } from "../util/kit_error.ts";

/** Typed arrays a cached value may hold (kept exactly, with their type). */
export type CachedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A value split into JSON and its typed arrays (see {@link encodeCachedValue}). */
export interface EncodedCachedValue {
  /** JSON of the value with typed arrays replaced by `{"$array": name}`. */
  json: string;
  arrays: Record<string, CachedArray>;
}

const ARRAY_KINDS = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u8: Uint8Array,
} as const;
type ArrayKind = keyof typeof ARRAY_KINDS;

function arrayKind(v: unknown): ArrayKind | null {
  if (v instanceof Float32Array) return "f32";
  if (v instanceof Float64Array) return "f64";
  if (v instanceof Int32Array) return "i32";
  if (v instanceof Uint8Array) return "u8";
  return null;
}

/**
 * Splits a result (plain objects, arrays, strings, booleans, null, numbers — NaN and ±Infinity
 * included — and Float32/Float64/Int32/Uint8 arrays) into JSON and its typed arrays, so that
 * {@link decodeCachedValue} gives back an equal value: same numbers bit for bit, same array
 * types, `undefined` properties kept. Anything else (Map, Set, class instances, functions,
 * bigint) is a `KitError` naming its path: such a value cannot be cached faithfully.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCachedValue, encodeCachedValue } from "./cached_value_codec.ts";
 * const v = { a: new Float32Array([1, 2]), b: [NaN, 3] };
 * const back = decodeCachedValue(encodeCachedValue(v)) as typeof v;
 * assert(back.a instanceof Float32Array && Number.isNaN(back.b[0]));
 * ```
 */
export function encodeCachedValue(value: unknown): EncodedCachedValue {
  const arrays: Record<string, CachedArray> = {};
  let count = 0;
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (v === undefined) return { $undefined: true };
    if (typeof v === "number") {
      if (Object.is(v, -0)) return { $number: "-0" };
      return Number.isFinite(v) ? v : { $number: String(v) };
    }
    const kind = arrayKind(v);
    if (kind !== null) {
      const name = `a${count++}`;
      arrays[name] = v as CachedArray;
      return { $array: name, $kind: kind };
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        out[k] = walk(x, `${path}.${k}`);
      }
      return out;
    }
    throw new KitError(
      `result cache: ${path} is a ${
        (v as object)?.constructor?.name ?? typeof v
      }, which the cache cannot store (plain objects, arrays, numbers, strings and Float32/Float64/Int32/Uint8 arrays only)`,
    );
  };
  return { json: JSON.stringify(walk(value, "value")), arrays };
}

/** Inverse of {@link encodeCachedValue}; a dangling or mistyped array reference is a KitError. */
export function decodeCachedValue(encoded: EncodedCachedValue): unknown {
  const revive = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(revive);
    const o = v as Record<string, unknown>;
    if (o.$undefined === true) return undefined;
    if (typeof o.$number === "string") return Number(o.$number);
    if (typeof o.$array === "string") {
      const a = encoded.arrays[o.$array];
      const kind = o.$kind as ArrayKind;
      if (!a || !(kind in ARRAY_KINDS) || !(a instanceof ARRAY_KINDS[kind])) {
        throw new KitError(
          `result cache: array ${o.$array} (${String(o.$kind)}) missing or mistyped`,
        );
      }
      return a;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = revive(x);
    return out;
  };
  return revive(JSON.parse(encoded.json));
}
