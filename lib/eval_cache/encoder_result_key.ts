import type { ImageEncoder, SentenceEncoder } from "../encoders/encoder.ts";
import { sha256Hex } from "../util/sha256.ts";
import { codeFingerprint } from "./code_fingerprint.ts";
import { numericEnvironment } from "./numeric_environment.ts";

/** Modules whose code turns a model folder into embeddings (the kit's encoders and their ops). */
export const ENCODER_CODE_ENTRIES = ["lib/models/mod.ts", "lib/encoders/mod.ts"] as const;

/**
 * sha256 of a JSON-able input (texts, units, labels): typed arrays are hashed as their plain
 * number lists, so equal contents give equal hashes whatever the array type.
 */
export function inputFingerprint(value: unknown): string {
  return sha256Hex(
    JSON.stringify(
      value,
      (_k, v) =>
        ArrayBuffer.isView(v) && !(v instanceof DataView)
          ? Array.from(v as unknown as ArrayLike<number>)
          : v,
    ),
  );
}

/**
 * The result-cache key of an evaluation of `encoders` (see lib/eval_cache/result_cache.ts): each
 * encoder's id and `fingerprint` (its model files' content hash), the code fingerprint of the
 * encoder modules and of `codeEntries` (the evaluation's own modules), the numeric environment
 * (backend, BLAS tag, TF.js and V8 versions), and `parts` (input fingerprints, options). Null
 * when an encoder has no fingerprint: its results are not cached.
 */
export async function encoderResultKey(
  encoders: readonly (SentenceEncoder | ImageEncoder)[],
  codeEntries: readonly string[],
  parts: Record<string, unknown>,
): Promise<Record<string, unknown> | null> {
  if (encoders.some((e) => e.fingerprint === undefined)) return null;
  return {
    encoders: encoders.map((e) => ({ id: e.id, fingerprint: e.fingerprint, dim: e.dim })),
    code: await codeFingerprint([...ENCODER_CODE_ENTRIES, ...codeEntries]),
    numeric: numericEnvironment(),
    ...parts,
  };
}
