import { createHash } from "node:crypto";
import { encodeCachedValue } from "./cached_value_codec.ts";

/**
 * sha256 of any value the result cache can store (see `encodeCachedValue`): its JSON part and the
 * raw bytes of each typed array with its type — fast for large per-item outcome arrays, and equal
 * exactly when the decoded values would be equal.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { valueFingerprint } from "./value_fingerprint.ts";
 * assert(valueFingerprint({ a: new Uint8Array([1]) }) !== valueFingerprint({ a: new Int32Array([1]) }));
 * ```
 */
export function valueFingerprint(value: unknown): string {
  const { json, arrays } = encodeCachedValue(value);
  const h = createHash("sha256").update(json);
  for (const [name, a] of Object.entries(arrays)) {
    h.update(`\0${name}:${a.constructor.name}:${a.length}\0`);
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest("hex");
}
