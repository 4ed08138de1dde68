/** What identifies an engine's output: two runs with equal signatures give equal translations. */
export interface EngineInfo {
  /** `apertium`, `gloss`, `nllb`, `human`, `pivot`, … */
  name: string;
  /** Software version (e.g. `3.8.3`), or `-`. */
  version: string;
  /** The model or data it translates with (Apertium mode and package version, dictionary checksum, model folder checksum). */
  model: string;
  /** Settings that change the output. */
  options: Record<string, string | number | boolean>;
}

/** Options of one `translate` call. */
export interface TranslateOptions {
  /** Progress bar label; `false` for none. Default: the engine name. */
  progress?: string | false;
  /** Stops between batches (a cached translator keeps every finished batch). */
  signal?: AbortSignal;
}

/**
 * A machine-translation engine (or a cached one wrapping it): translates a batch of sentences
 * from one language to another, keeping order and count. Language arguments take any code
 * `languageCodes` knows (`es`, `spa`, `spa_Latn`, `qu`, `quy_Latn`).
 */
export interface Translator {
  readonly info: EngineInfo;
  /** `engineSignature(info)`: the cache key part and what records and MT-T1 cite. */
  readonly signature: string;
  /** Whether this engine can translate `from` → `to`. */
  supports(from: string, to: string): boolean;
  /** One output per input, same order; an empty input gives an empty output. */
  translate(
    texts: readonly string[],
    from: string,
    to: string,
    opts?: TranslateOptions,
  ): Promise<string[]>;
}

/**
 * The engine signature string, sacrebleu-style `key:value` fields joined by `|`: engine, version,
 * model, then the options sorted by name.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { engineSignature } from "./translator.ts";
 * const s = engineSignature({ name: "apertium", version: "3.8.3", model: "eng-spa@0.8.1-2", options: { unknown: "plain" } });
 * assert(s === "engine:apertium|version:3.8.3|model:eng-spa@0.8.1-2|unknown:plain");
 * ```
 */
export function engineSignature(info: EngineInfo): string {
  const opts = Object.keys(info.options).sort().map((k) => `${k}:${info.options[k]}`);
  return [`engine:${info.name}`, `version:${info.version}`, `model:${info.model}`, ...opts].join(
    "|",
  );
}
