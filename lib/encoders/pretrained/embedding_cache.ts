import { join, normalize } from "node:path";
import type { ImageEncoder, SentenceEncoder } from "../encoder.ts";
import { encodeNpy, parseNpy } from "../../io/npy.ts";
import type { RowMatrix } from "../../retrieval/row_matrix.ts";
import { atomicWriteFile, atomicWriteJson } from "../../util/atomic_write.ts";
import { KitError } from "../../util/kit_error.ts";
import { cacheDir } from "../../util/paths.ts";
import { ProgressBar } from "../../util/progress.ts";
import { sha256Hex } from "../../util/sha256.ts";

/** A text to embed; `id` names it (e.g. a dataset key) and is part of its cache hash. */
export interface TextItem {
  readonly id: string;
  readonly text: string;
}

/** An encoded image (PNG/JPEG bytes) to embed. */
export interface ImageItem {
  readonly id: string;
  readonly image: Uint8Array;
}

/** Options of `cachedEmbeddings`. */
export interface EmbeddingCacheOptions {
  /** Language passed to a `SentenceEncoder` (required for text items). */
  lang?: string;
  /** Items per encoder call. Default 32. */
  batchSize?: number;
  /** Rows per `.npy` chunk (rounded up to a multiple of `batchSize`): the unit kept after a kill. Default 512. */
  chunkSize?: number;
  /**
   * The cache folder, relative to `cacheRoot`. Default:
   * `<encoder id>/<lang or "images">-<hash of the items>`, so a different encoder, language or
   * item list never reuses rows.
   */
  cacheKey?: string;
  /** Root of the embedding caches. Default `.cache/embeddings` (`cacheDir()`). */
  cacheRoot?: string;
  /** Progress-bar label. Default `embed <lang|images>`. */
  label?: string;
  /** No progress output (tests). */
  silent?: boolean;
}

/** One finished chunk, as recorded in the manifest. */
export interface EmbeddingChunkRecord {
  readonly index: number;
  readonly start: number;
  readonly rows: number;
  readonly file: string;
  /** sha256 of the item hashes of rows `start .. start+rows-1`: a chunk is reused only for the same items. */
  readonly itemsSha256: string;
  /** sha256 of the `.npy` file. */
  readonly sha256: string;
}

/** `manifest.json` of an embedding cache folder. */
export interface EmbeddingCacheManifest {
  readonly format: "kit-embedding-cache/1";
  readonly encoderId: string;
  readonly kind: "text" | "image";
  readonly lang: string | null;
  readonly count: number;
  readonly dim: number;
  readonly dtype: "<f4";
  readonly chunkSize: number;
  /** sha256 over all item hashes (in order); `items.json` lists them. */
  readonly itemsSha256: string;
  readonly chunks: EmbeddingChunkRecord[];
  readonly complete: boolean;
  readonly updatedAt: string;
}

const FORMAT = "kit-embedding-cache/1";

/** Per-item hash: 16 hex chars of sha256(id, NUL, text) or sha256(id, NUL, sha256(image)). */
function itemHash(item: TextItem | ImageItem): string {
  const body = "text" in item ? item.text : sha256Hex(item.image);
  return sha256Hex(`${item.id}\u0000${body}`).slice(0, 16);
}

/** A folder-safe version of an encoder id. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._@+-]+/g, "_").replace(/^\.+/, "_");
}

async function readManifest(path: string): Promise<EmbeddingCacheManifest | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(path)) as EmbeddingCacheManifest;
    return m?.format === FORMAT && Array.isArray(m.chunks) ? m : null;
  } catch {
    return null; // absent or unreadable: start over
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v <= 0) {
    throw new KitError(`cachedEmbeddings: ${name} must be a positive integer, got ${v}`);
  }
  return v;
}

/**
 * Embeds `items` with `encoder` in batches, with a progress bar, and keeps the rows on disk:
 * chunks of rows as `.npy` files plus `manifest.json` (encoder id, language, count, width,
 * sha256 of every chunk and of the items it holds) and `items.json` (one hash per item), all
 * written atomically. A second call with the same encoder and items reads the chunks and makes
 * **no** encoder call; a run killed midway keeps its finished chunks and the next call embeds
 * only the rest; a chunk whose items changed, or whose file is corrupt, is embedded again.
 * Works with any `SentenceEncoder` (text items, `lang` required) or `ImageEncoder` (image
 * items). Rows come back in item order, as the encoder returned them (not normalised).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedEmbeddings } from "./embedding_cache.ts";
 * import { rowMatrix } from "../../retrieval/row_matrix.ts";
 * let calls = 0; // a toy encoder: [length, vowels] of each text
 * const encoder = {
 *   id: "toy/len-vowels",
 *   dim: 2,
 *   embed: (texts: readonly string[]) => {
 *     calls++;
 *     const rows = texts.flatMap((t) => [t.length, (t.match(/[aeiou]/g) ?? []).length]);
 *     return Promise.resolve(rowMatrix(Float32Array.from(rows), texts.length, 2));
 *   },
 *   dispose: () => {},
 * };
 * const items = [{ id: "flores:0", text: "Hello" }, { id: "flores:1", text: "Good day" }];
 * const cacheRoot = await Deno.makeTempDir();
 * const opts = { lang: "en", cacheRoot, silent: true };
 * const m = await cachedEmbeddings(encoder, items, opts);
 * assert.deepEqual([...m.data], [5, 2, 8, 3]);
 * const again = await cachedEmbeddings(encoder, items, opts); // read from disk
 * assert.deepEqual([...again.data], [...m.data]);
 * assert.equal(calls, 1);
 * await Deno.remove(cacheRoot, { recursive: true });
 * ```
 */
export async function cachedEmbeddings(
  encoder: SentenceEncoder,
  items: readonly TextItem[],
  opts: EmbeddingCacheOptions & { lang: string },
): Promise<RowMatrix>;
export async function cachedEmbeddings(
  encoder: ImageEncoder,
  items: readonly ImageItem[],
  opts?: EmbeddingCacheOptions,
): Promise<RowMatrix>;
export async function cachedEmbeddings(
  encoder: SentenceEncoder | ImageEncoder,
  items: readonly (TextItem | ImageItem)[],
  opts: EmbeddingCacheOptions = {},
): Promise<RowMatrix> {
  const dim = encoder.dim;
  const n = items.length;
  if (n === 0) return { data: new Float32Array(0), rows: 0, cols: dim };
  const kind: "text" | "image" = "text" in items[0]! ? "text" : "image";
  items.forEach((it, i) => {
    const ok = kind === "text"
      ? typeof (it as TextItem).text === "string"
      : (it as ImageItem).image instanceof Uint8Array;
    if (!ok || typeof it.id !== "string") {
      throw new KitError(
        `cachedEmbeddings: item ${i} must be {id: string, ${
          kind === "text" ? "text: string" : "image: Uint8Array"
        }} like item 0`,
      );
    }
  });
  const lang: string | null = kind === "text" ? (opts.lang ?? "") : null;
  if (lang === "") {
    throw new KitError("cachedEmbeddings: text items need opts.lang (passed to the encoder)");
  }
  const batchSize = positiveInt(opts.batchSize ?? 32, "batchSize");
  const chunkSize = Math.ceil(positiveInt(opts.chunkSize ?? 512, "chunkSize") / batchSize) *
    batchSize;

  const hashes = items.map(itemHash);
  const itemsSha256 = sha256Hex(hashes.join("\n"));
  const key = opts.cacheKey ??
    join(slug(encoder.id), `${lang ?? "images"}-${itemsSha256.slice(0, 16)}`);
  if (normalize(key).split(/[\\/]/).includes("..") || key.startsWith("/")) {
    throw new KitError(
      `cachedEmbeddings: cacheKey ${JSON.stringify(key)} must be a relative path inside the cache`,
    );
  }
  const dir = join(opts.cacheRoot ?? join(cacheDir(), "embeddings"), key);
  const manifestPath = join(dir, "manifest.json");
  await Deno.mkdir(dir, { recursive: true });

  const old = await readManifest(manifestPath);
  const compatible = old !== null && old.encoderId === encoder.id && old.kind === kind &&
    old.lang === lang && old.dim === dim && old.chunkSize === chunkSize && old.dtype === "<f4";
  const oldChunks = new Map<number, EmbeddingChunkRecord>();
  if (compatible) { for (const c of old.chunks) oldChunks.set(c.index, c); }

  const nChunks = Math.ceil(n / chunkSize);
  const plan = Array.from({ length: nChunks }, (_, index) => {
    const start = index * chunkSize;
    const rows = Math.min(chunkSize, n - start);
    return {
      index,
      start,
      rows,
      file: `chunk-${String(index).padStart(5, "0")}.npy`,
      itemsSha256: sha256Hex(hashes.slice(start, start + rows).join("\n")),
    };
  });

  const out = new Float32Array(n * dim);
  const done: EmbeddingChunkRecord[] = [];
  const todo: typeof plan = [];
  for (const p of plan) {
    const rec = oldChunks.get(p.index);
    if (rec && rec.start === p.start && rec.rows === p.rows && rec.itemsSha256 === p.itemsSha256) {
      const data = await readChunk(join(dir, p.file), rec.sha256, p.rows, dim);
      if (data !== null) {
        out.set(data, p.start * dim);
        done.push(rec);
        continue;
      }
    }
    todo.push(p);
  }

  const writeManifest = (complete: boolean) => {
    const manifest: EmbeddingCacheManifest = {
      format: FORMAT,
      encoderId: encoder.id,
      kind,
      lang,
      count: n,
      dim,
      dtype: "<f4",
      chunkSize,
      itemsSha256,
      chunks: [...done].sort((a, b) => a.index - b.index),
      complete,
      updatedAt: new Date().toISOString(),
    };
    return atomicWriteJson(manifestPath, manifest);
  };

  if (todo.length > 0 || !compatible || !old.complete || old.itemsSha256 !== itemsSha256) {
    await atomicWriteJson(join(dir, "items.json"), { count: n, itemsSha256, itemHashes: hashes });
    await writeManifest(false);
  }
  if (todo.length > 0) {
    const cached = done.reduce((s, c) => s + c.rows, 0);
    const bar = new ProgressBar(opts.label ?? `embed ${lang ?? "images"}`, n, {
      start: cached,
      unit: kind === "text" ? "texts" : "images",
      silent: opts.silent,
    });
    for (const p of todo) {
      const chunk = new Float32Array(p.rows * dim);
      for (let s = 0; s < p.rows; s += batchSize) {
        const batch = items.slice(p.start + s, p.start + Math.min(p.rows, s + batchSize));
        const m = kind === "text"
          ? await (encoder as SentenceEncoder).embed(batch.map((b) => (b as TextItem).text), lang!)
          : await (encoder as ImageEncoder).embed(batch.map((b) => (b as ImageItem).image));
        checkBatch(m, batch.length, dim, encoder.id, p.start + s);
        chunk.set(m.data, s * dim);
        bar.tick(batch.length);
      }
      const bytes = encodeNpy({ dtype: "<f4", shape: [p.rows, dim], data: chunk });
      await atomicWriteFile(join(dir, p.file), bytes);
      done.push({ ...p, sha256: sha256Hex(bytes) });
      await writeManifest(done.length === nChunks);
      out.set(chunk, p.start * dim);
    }
    bar.done();
  }
  await removeStaleChunks(dir, new Set(plan.map((p) => p.file)));
  return { data: out, rows: n, cols: dim };
}

/** The chunk's rows, or null when the file is missing, altered or of the wrong shape. */
async function readChunk(
  path: string,
  sha256: string,
  rows: number,
  dim: number,
): Promise<Float32Array | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return null;
  }
  if (sha256Hex(bytes) !== sha256) return null;
  try {
    const a = parseNpy(bytes, path);
    if (a.shape.length !== 2 || a.shape[0] !== rows || a.shape[1] !== dim) return null;
    return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  } catch {
    return null;
  }
}

function checkBatch(m: RowMatrix, rows: number, dim: number, id: string, offset: number): void {
  if (m.rows !== rows || m.cols !== dim || m.data.length !== rows * dim) {
    throw new KitError(
      `${id}: embed() returned ${m.rows}×${m.cols} for ${rows} items (expected ${rows}×${dim})`,
    );
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) {
      throw new KitError(
        `${id}: embedding of item ${offset + Math.floor(i / dim)} has a non-finite value (${
          m.data[i]
        }); nothing was cached for its chunk`,
      );
    }
  }
}

/** Removes `chunk-*.npy` files of an earlier, longer item list. */
async function removeStaleChunks(dir: string, keep: Set<string>): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /^chunk-\d+\.npy$/.test(e.name) && !keep.has(e.name)) {
      await Deno.remove(join(dir, e.name)).catch(() => {});
    }
  }
}
