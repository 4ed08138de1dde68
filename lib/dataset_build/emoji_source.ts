import { join, resolve } from "node:path";
import { type DataRegistry, dataRegistry } from "../data/registry.ts";
import {
  type CldrEmojiAnnotations,
  EMOJI_DRAWING_SETS,
  type EmojiDrawings,
  type EmojiDrawingSet,
  emojiFromConceptId,
  loadCldrEmojiAnnotations,
  loadIconifyEmojiSet,
  loadTwemojiSvgs,
  monolingualEmojiNames,
} from "../sources/cldr_emoji.ts";
import { type SourceIssue, sourceIssue } from "../sources/source_issue.ts";
import { atomicWriteFile, atomicWriteJson } from "../util/atomic_write.ts";
import { sha256Hex } from "../util/sha256.ts";
import { cacheDir } from "../util/paths.ts";
import { ProgressBar } from "../util/progress.ts";
import type { CandidateSample, DatasetSource, LoadedSource, SampleRecord } from "./sample.ts";
import { sampleKey } from "./sample.ts";

/** The registry dataset of each drawing set. */
export const EMOJI_SET_DATASETS: Readonly<Record<EmojiDrawingSet, string>> = {
  "twemoji": "twemoji-svg",
  "noto": "noto-emoji",
  "fluent-emoji-flat": "fluent-emoji-flat",
};

/** Each drawing set's licence, kept in every sample's `meta.license`. */
export const EMOJI_SET_LICENSES: Readonly<Record<EmojiDrawingSet, string>> = {
  "twemoji": "CC-BY-4.0 (Twemoji, Twitter, Inc. and contributors)",
  "noto": "Apache-2.0 (Noto Emoji, Google Inc.)",
  "fluent-emoji-flat": "MIT (Fluent Emoji, Microsoft Corporation)",
};

/** The partition group of an emoji concept (`emoji:<concept id>`). */
export function emojiGroup(concept: string): string {
  return `emoji:${concept}`;
}

/** The CLDR annotations of the registry (`cldr-annotations`: node_modules, cache or mirror). */
export async function loadRegistryCldrAnnotations(
  registry: DataRegistry = dataRegistry(),
  source = "cldr-emoji",
): Promise<CldrEmojiAnnotations> {
  return await loadCldrEmojiAnnotations((await registry.resolve("cldr-annotations")).root, source);
}

async function sameBytes(path: string, data: Uint8Array): Promise<boolean> {
  try {
    const old = await Deno.readFile(path);
    if (old.length !== data.length) return false;
    for (let i = 0; i < old.length; i++) if (old[i] !== data[i]) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes each drawing of a set as `<outDir>/<set>/<concept>.svg` (Iconify markup as a standalone
 * SVG; Twemoji files copied), atomically and only where the file is missing or differs, so that
 * a rerun writes nothing and the build can checksum and rasterise files like the stamps' SVGs.
 * Returns the number of files written.
 */
export async function materialiseEmojiDrawings(
  d: EmojiDrawings,
  outDir: string,
  concepts: ReadonlySet<string>,
  opts: { quiet?: boolean } = {},
): Promise<number> {
  const dir = join(outDir, d.set);
  await Deno.mkdir(dir, { recursive: true });
  const todo = [...d.drawings.keys()].filter((c) => concepts.has(c)).sort();
  const bar = new ProgressBar(`emoji drawings ${d.set}`, todo.length, {
    silent: opts.quiet ?? false,
    unit: "files",
  });
  const enc = new TextEncoder();
  let written = 0;
  for (const c of todo) {
    const v = d.drawings.get(c)!;
    const data = d.kind === "markup" ? enc.encode(v) : await Deno.readFile(join(d.root, v));
    const target = join(dir, `${c}.svg`);
    if (!(await sameBytes(target, data))) {
      await atomicWriteFile(target, data);
      written++;
    }
    bar.tick();
  }
  bar.done();
  return written;
}

/** Options of `cldrEmojiSource`. */
export interface EmojiSourceOptions {
  registry?: DataRegistry;
  /** Drawing sets, one image per (emoji, set). Default all three. */
  sets?: readonly EmojiDrawingSet[];
  /** Where the SVG files are written. Default `<cache>/sources/cldr-emoji`. */
  drawingsDir?: string;
  /** Source name (default `cldr-emoji`). */
  name?: string;
  quiet?: boolean;
}

/**
 * Emoji as a dataset source: one sample per (emoji, drawing set) — Twemoji, Noto, Fluent flat —
 * for every emoji that CLDR names (a `tts` short name in some locale) and the set draws.
 * Captions are CLDR's names per locale (normalised with the stamps' rules, one per locale);
 * group = `emoji:<concept id>` so that partitions split by concept; key =
 * sampleKey(source, `<set>/<concept>`). Drawings CLDR does not name (skin-tone and other
 * variants; one issue per set with their count) and names no set draws (one issue each) are
 * `skipped` issues; per-set load issues are kept.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cldrEmojiSource } from "./emoji_source.ts";
 * // the drawings are written once into the kit's cache (`.cache/sources/cldr-emoji/twemoji/`)
 * const loaded = await cldrEmojiSource({ sets: ["twemoji"], quiet: true }).load();
 * const cat = loaded.candidates.find((c) => c.group === "emoji:1f408"); // U+1F408 CAT
 * assert.equal(cat?.captions.en?.[0], "cat");
 * assert(cat.imagePath.endsWith("/twemoji/1f408.svg"));
 * ```
 */
export function cldrEmojiSource(opts: EmojiSourceOptions = {}): DatasetSource {
  const name = opts.name ?? "cldr-emoji";
  const sets = opts.sets ?? EMOJI_DRAWING_SETS;
  return {
    name,
    async load(): Promise<LoadedSource> {
      const reg = opts.registry ?? dataRegistry();
      const outDir = resolve(opts.drawingsDir ?? join(cacheDir(), "sources", "cldr-emoji"));
      // The packages' JSON is ~90 MB: a rerun reads a digest of what it yields instead, keyed by
      // the verified package checksums (resolve() checks every pinned file's sha256).
      const resolved = [];
      for (const ds of ["cldr-annotations", ...sets.map((x) => EMOJI_SET_DATASETS[x])]) {
        const r = await reg.resolve(ds);
        resolved.push([r.name, r.root, r.manifestSha256]);
      }
      const cacheKey = sha256Hex(
        JSON.stringify([EMOJI_SOURCE_VERSION, name, sets, outDir, resolved]),
      ).slice(0, 16);
      const cachePath = join(outDir, `.load-${cacheKey}.json`);
      const cached = await readLoadCache(cachePath);
      if (cached) return cached;
      const loaded = await loadEmojiSource(reg, name, sets, outDir, opts.quiet ?? false);
      await writeLoadCache(cachePath, loaded);
      return loaded;
    },
  };
}

/** Bumped when what `cldrEmojiSource` yields from the same packages changes (drops its cache). */
export const EMOJI_SOURCE_VERSION = 1;

/** The load cache: the LoadedSource with each concept's captions stored once, not per drawing. */
interface LoadCache {
  loaded: LoadedSource;
  captions: Record<string, Record<string, string[]>>;
}

async function writeLoadCache(path: string, loaded: LoadedSource): Promise<void> {
  const captions: LoadCache["captions"] = {};
  const candidates = loaded.candidates.map((c) => {
    captions[c.group!] = c.captions;
    return { ...c, captions: {} };
  });
  await atomicWriteJson(path, { loaded: { ...loaded, candidates }, captions } satisfies LoadCache);
}

/** The cached load, or null when absent, unreadable, or an image file has gone missing. */
async function readLoadCache(path: string): Promise<LoadedSource | null> {
  let cache: LoadCache;
  try {
    cache = JSON.parse(await Deno.readTextFile(path)) as LoadCache;
  } catch {
    return null;
  }
  if (!Array.isArray(cache.loaded?.candidates)) return null;
  for (const c of cache.loaded.candidates) {
    const captions = c.group === undefined ? undefined : cache.captions[c.group];
    if (!captions || !(await Deno.stat(c.imagePath).catch(() => null))?.isFile) return null;
    c.captions = captions;
  }
  return cache.loaded;
}

async function loadEmojiSource(
  reg: DataRegistry,
  name: string,
  sets: readonly EmojiDrawingSet[],
  outDir: string,
  quiet: boolean,
): Promise<LoadedSource> {
  const cldr = await loadRegistryCldrAnnotations(reg, name);
  const issues: SourceIssue[] = [...cldr.issues];
  const inputFiles = cldr.files.map((f) => join(cldr.root, f));
  const named = new Set(cldr.names.keys());
  const drawn = new Set<string>();
  const candidates: CandidateSample[] = [];
  const versions: Record<string, string> = {};
  for (const set of sets) {
    const ds = EMOJI_SET_DATASETS[set];
    const decl = reg.declaration(ds);
    if (decl.upstream.kind === "npm") versions[set] = decl.upstream.version;
    const root = (await reg.resolve(ds)).root;
    const d = set === "twemoji"
      ? await loadTwemojiSvgs(root, name)
      : await loadIconifyEmojiSet(root, set, name);
    issues.push(...d.issues);
    if (d.kind === "markup") inputFiles.push(...d.files.map((f) => join(root, f)));
    await materialiseEmojiDrawings(d, outDir, named, { quiet });
    const unnamed: string[] = [];
    for (const concept of [...d.drawings.keys()].sort()) {
      const names = cldr.names.get(concept);
      if (!names) {
        unnamed.push(concept);
        continue;
      }
      drawn.add(concept);
      candidates.push({
        key: sampleKey(name, `${set}/${concept}`),
        source: name,
        sourceId: `${set}/${concept}`,
        imagePath: join(outDir, set, `${concept}.svg`),
        imageFile: `${set}/${concept}.svg`,
        captions: Object.fromEntries(
          Object.entries(names).sort(([a], [b]) => (a < b ? -1 : 1)).map(([l, n]) => [l, [n]]),
        ),
        group: emojiGroup(concept),
        meta: {
          concept,
          emoji: emojiFromConceptId(concept),
          drawingSet: set,
          license: EMOJI_SET_LICENSES[set],
        },
      });
    }
    if (unnamed.length > 0) {
      // One issue per set: these are skin-tone, gender and other variants CLDR's
      // annotations do not name (several thousand; listing each would bury the report).
      issues.push(sourceIssue(name, set, "drawings without CLDR name", {
        action: "skipped",
        detail: `${unnamed.length} drawings (variants CLDR's annotations do not name), e.g. ${
          unnamed.slice(0, 6).map(emojiFromConceptId).join(" ")
        }`,
      }));
    }
  }
  for (const concept of [...named].sort()) {
    if (!drawn.has(concept)) {
      issues.push(sourceIssue(name, `cldr/${concept}`, "CLDR name without drawing", {
        action: "skipped",
        detail: `${emojiFromConceptId(concept)}: none of ${sets.join(", ")} draws it`,
      }));
    }
  }
  return {
    name,
    dataset: "cldr-annotations",
    root: outDir,
    candidates,
    issues,
    inputFiles,
    stats: {
      cldrLocales: cldr.locales.length,
      cldrConcepts: named.size,
      conceptsDrawn: drawn.size,
    },
    options: { kind: "cldr-emoji", loader: EMOJI_SOURCE_VERSION, sets: [...sets], versions },
  };
}

/**
 * The emoji concept ids of a built dataset's samples in the given partitions (default train),
 * sorted — e.g. the concepts whose CLDR names may enter a monolingual pretraining corpus
 * (`monolingualEmojiNames`).
 */
export function emojiConceptsOf(
  samples: readonly Pick<SampleRecord, "group" | "partition">[],
  partitions: readonly SampleRecord["partition"][] = ["train"],
): string[] {
  const out = new Set<string>();
  for (const s of samples) {
    if (s.group?.startsWith("emoji:") && partitions.includes(s.partition)) {
      out.add(s.group.slice("emoji:".length));
    }
  }
  return [...out].sort();
}

/**
 * The CLDR names of the dataset's **train** emoji concepts as monolingual text for a pretraining
 * corpus: locale → names, each locale's list in its own seeded order (`monolingualEmojiNames`),
 * never paired across languages. Held-out (val/test) concepts contribute nothing.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainEmojiNames } from "./emoji_source.ts";
 * // in a notebook: the samples are `await readSampleIndex(dir)`
 * const samples = [
 *   { group: "emoji:1f408", partition: "train" as const }, // cat
 *   { group: "emoji:1f415", partition: "test" as const }, // dog: held out, never named
 * ];
 * const perLocale = await trainEmojiNames(samples, { seed: 7, minNames: 1 });
 * assert.deepEqual(perLocale.en, ["cat"]);
 * ```
 */
export async function trainEmojiNames(
  samples: readonly Pick<SampleRecord, "group" | "partition">[],
  opts: { seed: number; registry?: DataRegistry; minNames?: number },
): Promise<Record<string, string[]>> {
  const cldr = await loadRegistryCldrAnnotations(opts.registry ?? dataRegistry());
  return monolingualEmojiNames(cldr, emojiConceptsOf(samples, ["train"]), {
    seed: opts.seed,
    ...(opts.minNames !== undefined ? { minNames: opts.minNames } : {}),
  });
}
