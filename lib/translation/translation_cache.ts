import { join } from "node:path";
import { withCacheLock } from "../util/cache_lock.ts";
import { KitError } from "../util/kit_error.ts";
import { cacheDir } from "../util/paths.ts";
import { ProgressBar } from "../util/progress.ts";
import { sha256Hex } from "../util/sha256.ts";
import { isoCode } from "./language_codes.ts";
import type { EngineInfo, TranslateOptions, Translator } from "./translator.ts";

/** The folder of translation caches: `<cache>/translation/`. */
export function translationCacheDir(): string {
  return join(cacheDir(), "translation");
}

/** The cache key of one sentence: sha256 over engine signature, languages and text. */
export function translationKey(signature: string, from: string, to: string, text: string): string {
  return sha256Hex(`${signature}\u0000${from}\u0000${to}\u0000${text}`);
}

/** One cached translation, a line of the cache file. */
export interface CacheEntry {
  k: string;
  from: string;
  to: string;
  src: string;
  out: string;
}

/** The content hash of a cache line: sha256 over its key, languages, source and output (16 hex). */
export function entryHash(e: CacheEntry): string {
  return sha256Hex(JSON.stringify([e.k, e.from, e.to, e.src, e.out])).slice(0, 16);
}

/**
 * An append-only translation cache for one engine signature: a JSONL file
 * `<dir>/<sha256(signature)[:16]>.jsonl` whose first line names the signature and every other
 * line is one translation `{k, from, to, src, out, h}`, `h` its content hash (`entryHash`), checked
 * on load: a changed line stops the run naming the file and line (one that no longer parses is
 * skipped and translated again). Each batch is appended with one write and
 * flushed to disk (fsync) before `append` returns, so a run killed midway keeps every finished
 * batch; a torn last line (a kill during the write) is skipped on load and the next append starts
 * on a fresh line.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { TranslationCache } from "./translation_cache.ts";
 * const c = await TranslationCache.open("engine:demo", await Deno.makeTempDir());
 * await c.append([{ from: "en", to: "es", src: "A cat.", out: "Un gato." }]);
 * assert(c.get("en", "es", "A cat.") === "Un gato.");
 * ```
 */
export class TranslationCache {
  readonly signature: string;
  readonly path: string;
  readonly #entries = new Map<string, string>();
  #needsNewline = false;
  #exists = false;
  /** Lines that could not be read (a torn last line of a killed run). */
  skippedLines = 0;

  private constructor(signature: string, path: string) {
    this.signature = signature;
    this.path = path;
  }

  /** Opens (and reads) the cache of `signature` in `dir` (default `translationCacheDir()`). */
  static async open(signature: string, dir = translationCacheDir()): Promise<TranslationCache> {
    const c = new TranslationCache(
      signature,
      join(dir, `${sha256Hex(signature).slice(0, 16)}.jsonl`),
    );
    await c.#load();
    return c;
  }

  async #load(): Promise<void> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    this.#exists = true;
    this.#needsNewline = text.length > 0 && !text.endsWith("\n");
    const lines = text.split("\n");
    const damaged = (i: number, what: string) =>
      new KitError(`${this.path} line ${i + 1}: ${what}: the translation cache is damaged`, [
        `delete ${this.path} and rerun notebook 01 (\`./kit task reproduce --only 01\`) to rebuild it`,
      ]);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === "") continue;
      let obj: Partial<CacheEntry> & { signature?: string; h?: string };
      try {
        obj = JSON.parse(line);
      } catch {
        // a line torn by a kill during a write (or garbled): skipped, so that translation is
        // made again; a line that parses must match its content hash
        this.skippedLines++;
        continue;
      }
      if (typeof obj.signature === "string") {
        if (obj.signature !== this.signature) {
          throw new KitError(
            `${this.path} line ${
              i + 1
            }: translation cache of "${obj.signature}", expected "${this.signature}"`,
            ["delete the file; it will be rebuilt"],
          );
        }
        continue;
      }
      if (typeof obj.k === "string" && typeof obj.out === "string") {
        // lines written before content hashes (no `h`) are trusted as they are
        if (obj.h !== undefined && obj.h !== entryHash(obj as CacheEntry)) {
          throw damaged(i, "content hash mismatch");
        }
        this.#entries.set(obj.k, obj.out);
      } else this.skippedLines++;
    }
  }

  /** Cached translations. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached translation of `text`, or undefined. Languages are caption keys (`en`, `es`, `qu`). */
  get(from: string, to: string, text: string): string | undefined {
    return this.#entries.get(translationKey(this.signature, from, to, text));
  }

  /**
   * Appends translations (one write, then fsync), holding the translation cache lock (see
   * `withCacheLock`): appends of two processes (a notebook kernel, a `reproduce`) never
   * interleave, and the file's state (header written, last line ended) is read again under it.
   */
  async append(entries: readonly Omit<CacheEntry, "k">[]): Promise<void> {
    if (entries.length === 0) return;
    const full = entries.map((e) => {
      const entry: CacheEntry = { k: translationKey(this.signature, e.from, e.to, e.src), ...e };
      return { ...entry, h: entryHash(entry) };
    });
    await withCacheLock("translation", async () => {
      await this.#refreshTail();
      const lines: string[] = [];
      if (!this.#exists) lines.push(JSON.stringify({ signature: this.signature }));
      for (const e of full) lines.push(JSON.stringify(e));
      const body = (this.#needsNewline ? "\n" : "") + lines.join("\n") + "\n";
      await Deno.mkdir(join(this.path, ".."), { recursive: true });
      const file = await Deno.open(this.path, { append: true, create: true });
      try {
        const bytes = new TextEncoder().encode(body);
        let off = 0;
        while (off < bytes.length) off += await file.write(bytes.subarray(off));
        await file.syncData();
      } finally {
        file.close();
      }
    });
    this.#exists = true;
    this.#needsNewline = false;
    for (const e of full) this.#entries.set(e.k, e.out);
  }

  /** Whether the file exists now and ends mid-line (another process may have written it). */
  async #refreshTail(): Promise<void> {
    let size = 0;
    try {
      size = (await Deno.stat(this.path)).size;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      this.#exists = false;
      this.#needsNewline = false;
      return;
    }
    this.#exists = true;
    if (size === 0) {
      this.#needsNewline = false;
      return;
    }
    const f = await Deno.open(this.path, { read: true });
    try {
      await f.seek(size - 1, Deno.SeekMode.Start);
      const last = new Uint8Array(1);
      await f.read(last);
      this.#needsNewline = last[0] !== 0x0a;
    } finally {
      f.close();
    }
  }
}

/** Counters of a cached translator: what the cache answered and what the engine was asked. */
export interface CacheStats {
  /** Sentences answered by the cache (repeats within a call counted once). */
  hits: number;
  /** Calls of the wrapped engine's `translate`. */
  engineCalls: number;
  /** Sentences sent to the engine. */
  engineSentences: number;
}

/** A `Translator` with a cache in front of it. */
export interface CachedTranslator extends Translator {
  readonly engine: Translator;
  readonly stats: CacheStats;
}

/** Options of `cachedTranslator`. */
export interface CachedTranslatorOptions {
  /** Cache folder (default `translationCacheDir()`). */
  dir?: string;
  /** Sentences per engine call, each appended to the cache when done. Default 500. */
  batchSize?: number;
}

/**
 * Wraps an engine with its append-only cache: only sentences not yet cached (deduplicated) go to
 * the engine, in batches of `batchSize`; each finished batch is on disk before the next starts. A
 * rerun makes no engine calls; a killed run resumes where it stopped. Shows a ProgressBar.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedTranslator } from "./translation_cache.ts";
 * import { engineSignature } from "./translator.ts";
 * const info = { name: "upper", version: "1", model: "-", options: {} };
 * const upper = { info, signature: engineSignature(info), supports: () => true,
 *   translate: (t: readonly string[]) => Promise.resolve(t.map((s) => s.toUpperCase())) };
 * const t = await cachedTranslator(upper, { dir: await Deno.makeTempDir() });
 * assert((await t.translate(["a", "a"], "en", "es", { progress: false }))[1] === "A" && t.stats.engineCalls === 1);
 * ```
 */
export async function cachedTranslator(
  engine: Translator,
  opts: CachedTranslatorOptions = {},
): Promise<CachedTranslator> {
  const cache = await TranslationCache.open(engine.signature, opts.dir);
  const batchSize = opts.batchSize ?? 500;
  const stats: CacheStats = { hits: 0, engineCalls: 0, engineSentences: 0 };
  const info: EngineInfo = engine.info;
  return {
    info,
    signature: engine.signature,
    engine,
    stats,
    supports: (from, to) => engine.supports(from, to),
    async translate(texts, fromCode, toCode, topts: TranslateOptions = {}) {
      const from = isoCode(fromCode), to = isoCode(toCode);
      const unique = [...new Set(texts.filter((t) => t.trim() !== ""))];
      const missing = unique.filter((t) => cache.get(from, to, t) === undefined);
      stats.hits += unique.length - missing.length;
      const label = topts.progress === false
        ? null
        : (topts.progress ?? `${engine.info.name} ${from}→${to}`);
      const bar = label === null ? null : new ProgressBar(label, unique.length, {
        start: unique.length - missing.length,
        unit: "sentences",
      });
      for (let i = 0; i < missing.length; i += batchSize) {
        if (topts.signal?.aborted) throw topts.signal.reason ?? new Error("aborted");
        const batch = missing.slice(i, i + batchSize);
        stats.engineCalls++;
        stats.engineSentences += batch.length;
        const out = await engine.translate(batch, from, to, { progress: false });
        if (out.length !== batch.length) {
          throw new KitError(
            `${engine.signature}: returned ${out.length} translations for ${batch.length} sentences`,
          );
        }
        await cache.append(batch.map((src, j) => ({ from, to, src, out: out[j]! })));
        bar?.tick(batch.length);
      }
      bar?.done();
      return texts.map((t) => (t.trim() === "" ? "" : cache.get(from, to, t)!));
    },
  };
}
