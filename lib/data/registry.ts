import { dirname, join, relative, resolve } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { sha256File, sha256Hex } from "../util/sha256.ts";
import { ProgressBar } from "../util/progress.ts";
import { cacheDir, PROJECT_ROOT } from "../util/paths.ts";
import { kitConfig } from "../config/kit_config.ts";
import type { ArchiveSource, DatasetDeclaration, DatasetFile } from "./dataset.ts";
import { removeStaleUnpackFolders, unpackArchiveSafely } from "./archive_unpack.ts";
import { cocoSubsetCaptions, xnliXtremeDev } from "./recipes.ts";
import { DATASETS } from "./datasets.ts";

/** Where a dataset was found, recorded in every artifact's provenance. */
export interface ResolvedDataset {
  name: string;
  /**
   * `cache` (the project's `.cache/data`), `mirror` (a read-only mirror folder) or `npm` (the
   * project's `node_modules/<package>`, for datasets shipped as pinned npm packages).
   */
  source: "cache" | "mirror" | "npm";
  /** Absolute folder holding the dataset's files. */
  root: string;
  /** sha256 over the sorted `path sha256` lines of the manifest: one checksum for the set. */
  manifestSha256: string;
  /** Files checked against their sha256 (all pinned ones; unpinned ones are only present). */
  verifiedFiles: number;
}

export interface RegistryOptions {
  /** Folder for downloaded datasets. Default `KIT_DATA_CACHE`, else `<cache>/data`. */
  cacheRoot?: string;
  /** Read-only mirror folder, or null. Default from `KIT_DATA_MIRROR`. */
  mirror?: string | null;
  /** Injected for tests; default `globalThis.fetch`. */
  fetchFn?: typeof fetch;
  /** Silence progress output. */
  quiet?: boolean;
  /** Where npm-packaged datasets are installed. Default `<project>/node_modules`. */
  nodeModules?: string;
  /** Re-hash every file once in this process, trusting no stamp (`./kit task fetch --verify`). */
  verify?: boolean;
  /**
   * Fetch every upstream URL `https://host/path` from `<upstreamBase>/host/path` instead (a local
   * server in tests, a private mirror of the upstreams). Default from `KIT_DATA_BASE_URL`.
   */
  upstreamBase?: string | null;
  /** Download archives and files whose sha256/size are not pinned (`--trust-unpinned`). */
  trustUnpinned?: boolean;
  /** Keep downloaded archives in `.downloads/` after a verified unpack (`--keep-archives`). */
  keepArchives?: boolean;
}

/**
 * What the stamp cache (`<cache>/data/.verified.json`) trusts: a file whose size, mtime, ctime
 * (to the second, as Deno reports it) and inode are all unchanged since it was hashed keeps that
 * hash, across processes (so a rerun does not re-read gigabytes). Any later write to the file,
 * `touch -d`, a copy or a replacement changes the ctime or the inode, so only a same-size change
 * that keeps the mtime and lands in the same second as the hashing, or one that forges the
 * change time (root, with the clock set back), goes unnoticed. `fetch --verify` re-hashes every
 * file, trusting no stamp.
 */
interface VerifiedStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

async function stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Loads `data/manifests/<name>.json` (file list with sizes and sha256) for mirrored datasets. */
async function loadManifest(name: string): Promise<DatasetFile[]> {
  const path = join(PROJECT_ROOT, "data", "manifests", `${name}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return [];
  }
  const parsed = JSON.parse(text) as { files?: DatasetFile[] };
  if (!Array.isArray(parsed.files)) throw new KitError(`${path}: expected a "files" array`);
  return parsed.files;
}

export function describeBytes(n: number | null): string {
  if (n === null) return "size unknown";
  if (n > 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n > 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e3).toFixed(0)} kB`;
}

/**
 * The kit's data registry. Every dataset is declared once (`datasets.ts` + its manifest) and
 * resolved in this order: the project's cache → a read-only mirror folder → (only in an explicit
 * `fetch`) download with checksum check. Resolution never touches the network.
 */
export class DataRegistry {
  readonly cacheRoot: string;
  readonly mirror: string | null;
  /** The `node_modules` folder npm-packaged datasets are found in (default the project's). */
  readonly nodeModules: string;
  readonly #fetch: typeof fetch;
  readonly #quiet: boolean;
  readonly #resolved = new Map<string, ResolvedDataset>();
  readonly #manifests = new Map<string, DatasetFile[]>();
  #stamps: Record<string, VerifiedStamp> | null = null;
  #stampsDirty = false;
  readonly #verify: boolean;
  /** Base URL every upstream download is redirected to, or null (see `RegistryOptions`). */
  readonly upstreamBase: string | null;
  readonly trustUnpinned: boolean;
  readonly keepArchives: boolean;

  constructor(opts: RegistryOptions = {}) {
    this.cacheRoot = resolve(
      opts.cacheRoot ?? (Deno.env.get("KIT_DATA_CACHE") || join(cacheDir(), "data")),
    );
    const mirror = opts.mirror === undefined ? kitConfig().dataMirror : opts.mirror;
    this.mirror = mirror ? resolve(mirror) : null;
    this.nodeModules = resolve(opts.nodeModules ?? join(PROJECT_ROOT, "node_modules"));
    this.#fetch = opts.fetchFn ?? globalThis.fetch.bind(globalThis);
    this.#quiet = opts.quiet ?? false;
    this.#verify = opts.verify ?? false;
    this.upstreamBase = opts.upstreamBase !== undefined
      ? opts.upstreamBase
      : (Deno.env.get("KIT_DATA_BASE_URL") || null);
    this.trustUnpinned = opts.trustUnpinned ?? false;
    this.keepArchives = opts.keepArchives ?? false;
  }

  /** Every declared dataset. */
  list(): readonly DatasetDeclaration[] {
    return DATASETS;
  }

  /** The declaration of `name`, or a KitError listing the known names. */
  declaration(name: string): DatasetDeclaration {
    const d = DATASETS.find((x) => x.name === name);
    if (!d) {
      throw new KitError(`unknown dataset "${name}"`, [
        `known datasets: ${DATASETS.map((x) => x.name).join(", ")}`,
      ]);
    }
    return d;
  }

  /** The dataset's pinned files (from its manifest, or declared inline). */
  async files(name: string): Promise<DatasetFile[]> {
    const cached = this.#manifests.get(name);
    if (cached) return cached;
    const decl = this.declaration(name);
    const files = decl.files.length > 0 ? decl.files : await loadManifest(name);
    this.#manifests.set(name, files);
    return files;
  }

  /** The cache folder of a dataset (`.cache/data/<name>`). */
  cachePath(name: string): string {
    return join(this.cacheRoot, name);
  }

  #candidateRoots(decl: DatasetDeclaration): { source: ResolvedDataset["source"]; root: string }[] {
    const out: { source: ResolvedDataset["source"]; root: string }[] = [
      { source: "cache", root: this.cachePath(decl.name) },
    ];
    if (this.mirror && decl.mirrorDir) {
      out.push({ source: "mirror", root: join(this.mirror, decl.mirrorDir) });
    }
    if (decl.upstream.kind === "npm") {
      out.push({
        source: "npm",
        root: join(this.nodeModules, ...decl.upstream.package.split("/")),
      });
    }
    return out;
  }

  async #loadStamps(): Promise<Record<string, VerifiedStamp>> {
    if (this.#stamps) return this.#stamps;
    try {
      this.#stamps = JSON.parse(await Deno.readTextFile(join(this.cacheRoot, ".verified.json")));
    } catch {
      this.#stamps = {};
    }
    return this.#stamps!;
  }

  /**
   * sha256 of a file, reusing an earlier check when size, mtime, ctime and inode are unchanged
   * (see `VerifiedStamp`), unless this registry was made with `verify` or `rehash` is set (a
   * stamp whose hash disagrees with the manifest is checked against the file itself).
   */
  async #checksum(path: string, info: Deno.FileInfo, rehash = false): Promise<string> {
    const stamps = await this.#loadStamps();
    const mtimeMs = info.mtime?.getTime() ?? 0;
    const ctimeMs = info.ctime?.getTime() ?? 0;
    const ino = info.ino ?? 0;
    const s = stamps[path];
    if (
      !this.#verify && !rehash && s && s.size === info.size && s.mtimeMs === mtimeMs &&
      s.ctimeMs === ctimeMs && s.ino === ino
    ) {
      return s.sha256;
    }
    const sha256 = await sha256File(path);
    stamps[path] = { size: info.size, mtimeMs, ctimeMs, ino, sha256 };
    this.#stampsDirty = true;
    return sha256;
  }

  async #saveStamps(): Promise<void> {
    if (!this.#stamps || !this.#stampsDirty) return; // unchanged: no rewrite of the file
    this.#stampsDirty = false;
    await atomicWriteJson(join(this.cacheRoot, ".verified.json"), this.#stamps).catch(() => {});
  }

  /**
   * Finds the dataset (cache, then mirror), checks every pinned file's sha256, and returns where
   * it is. Throws a KitError naming the dataset, its upstream URL and checksum, and where to put
   * the files, when no location holds it complete.
   */
  async resolve(
    name: string,
    opts: { requiredPaths?: string[]; presenceOnly?: boolean } = {},
  ): Promise<ResolvedDataset> {
    const hit = this.#resolved.get(name);
    if (hit) return hit;
    const decl = this.declaration(name);
    const files = await this.files(name);
    const required = opts.requiredPaths ?? [];
    const looked: string[] = [];
    for (const { source, root } of this.#candidateRoots(decl)) {
      const rootInfo = await stat(root);
      if (!rootInfo?.isDirectory) {
        looked.push(`${source}: ${root} (absent)`);
        continue;
      }
      if (files.length === 0 && required.length === 0 && !(await hasVisibleEntry(root))) {
        // nothing pinned: an empty folder (e.g. left by an interrupted download) is not the dataset
        looked.push(`${source}: ${root} (empty)`);
        continue;
      }
      const missing: string[] = [];
      const optional = source === "cache" && decl.upstream.kind === "files"
        ? new Set(decl.upstream.mirrorOnly ?? [])
        : new Set<string>();
      for (const f of files) {
        if (!(await stat(join(root, f.path)))?.isFile && !optional.has(f.path)) {
          missing.push(f.path);
        }
      }
      for (const p of required) if (!(await stat(join(root, p)))) missing.push(p);
      if (missing.length > 0) {
        looked.push(
          `${source}: ${root} (${missing.length} of ${
            files.length + required.length
          } files missing, e.g. ${missing[0]})`,
        );
        continue;
      }
      if (opts.presenceOnly) {
        // every file is there (the preflight's question); checksums are checked on first use
        return { name, source, root, manifestSha256: "", verifiedFiles: 0 };
      }
      let verified = 0;
      for (const f of files) {
        if (!f.sha256) continue;
        const p = join(root, f.path);
        const info = await stat(p);
        if (!info) continue; // an optional (mirror-only) file absent from a fetched copy
        let got = await this.#checksum(p, info);
        if (got !== f.sha256 && !this.#verify) {
          // the stamp may be what is damaged: hash the file itself before blaming it
          got = await this.#checksum(p, info, true);
        }
        if (got !== f.sha256) {
          await this.#saveStamps();
          throw new KitError(
            `dataset "${name}": ${p} has sha256 ${got}, expected ${f.sha256} (file corrupt or a different version)`,
            source === "cache"
              ? [`delete it and run \`./kit task fetch ${name}\`, or restore it from a mirror`]
              : [`the mirror folder ${root} does not hold the declared version of this dataset`],
          );
        }
        verified++;
      }
      await this.#saveStamps();
      const manifestSha256 = sha256Hex(
        files.map((f) => `${f.path} ${f.sha256 ?? "-"}`).sort().join("\n"),
      );
      const r: ResolvedDataset = { name, source, root, manifestSha256, verifiedFiles: verified };
      this.#resolved.set(name, r);
      return r;
    }
    throw this.missingError(decl, looked);
  }

  /** Absolute path of one file of a dataset (resolving the dataset first). */
  async resolveFile(name: string, path: string): Promise<string> {
    const r = await this.resolve(name);
    const abs = join(r.root, path);
    if (!(await stat(abs))) {
      throw new KitError(`dataset "${name}" (${r.source} ${r.root}) has no file ${path}`);
    }
    return abs;
  }

  /** Datasets resolved so far in this process (for provenance). */
  resolvedDatasets(): ResolvedDataset[] {
    return [...this.#resolved.values()];
  }

  /** The message shown when a dataset is nowhere to be found. */
  missingError(decl: DatasetDeclaration, looked: string[] = []): KitError {
    const up = decl.upstream;
    const files = this.#manifests.get(decl.name) ?? decl.files;
    const lines: string[] = [];
    if (up.kind === "archives" || up.kind === "recipe") {
      for (const a of up.archives) lines.push(`download: ${describeArchive(a, files.length)}`);
      if (up.kind === "recipe") {
        lines.push(`then made from it by the kit's recipe "${up.recipe}" (${up.from})`);
      }
      if (up.kind === "recipe" && up.baseUrl) {
        lines.push(`and the images from ${up.baseUrl}<split>/<file>`);
      }
      for (const a of up.archives) {
        if (a.debianPackage) {
          lines.push(
            `or, on Debian/Ubuntu: apt-get download ${a.debianPackage} (the same .deb), or apt-get install it and copy /${a.strip}/ into the cache folder`,
          );
        }
      }
    } else if (up.kind === "files") {
      lines.push(
        `download: ${up.baseUrl}<file> for each of the ${files.length} files of data/manifests/${decl.name}.json`,
      );
    } else if (up.kind === "npm") {
      lines.push(
        `npm package ${up.package}@${up.version} (pinned in package.json / package-lock.json): run \`./kit setup\` (npm install) with the npm registry reachable once`,
      );
    } else {
      lines.push(`no direct download: ${up.how} (derived from ${up.from})`);
    }
    for (const f of files.slice(0, 4)) {
      const remote = up.kind === "files"
        ? new URL(up.remotePaths?.[f.path] ?? f.path, up.baseUrl).href
        : f.path;
      lines.push(`  ${remote}  sha256 ${f.sha256 ?? "not pinned"}  (${describeBytes(f.bytes)})`);
    }
    if (files.length > 4) {
      lines.push(
        `  ... ${files.length - 4} more, with their sha256, in data/manifests/${decl.name}.json`,
      );
    }
    lines.push(...looked.map((l) => `looked in ${l}`));
    if (!this.mirror) {
      lines.push("no mirror folder set: pass --data-mirror DIR or set KIT_DATA_MIRROR");
    }
    lines.push(
      `to fix: on a machine with internet run \`./kit task fetch ${decl.name}\`, or download the file(s) above, check the sha256, and put the contents in ${
        relative(Deno.cwd(), this.cachePath(decl.name)) || "."
      }/`,
    );
    if (decl.notes) lines.push(decl.notes);
    lines.push(`license: ${decl.license}; about: ${decl.homepage}`);
    return new KitError(`dataset "${decl.name}" (${decl.title}) is not available offline`, lines);
  }

  /** Where `url` is fetched from: itself, or under `KIT_DATA_BASE_URL` (`<base>/<host>/<path>`). */
  downloadUrl(url: string): string {
    if (!this.upstreamBase) return url;
    const u = new URL(url);
    return `${this.upstreamBase.replace(/\/+$/, "")}/${u.host}${u.pathname}${u.search}`;
  }

  /** True when every file of the dataset's manifest has a pinned sha256 (and there is one). */
  async contentsPinned(name: string): Promise<boolean> {
    const files = await this.files(name);
    return files.length > 0 && files.every((f) => f.sha256 !== null);
  }

  /** Bytes a fetch of `name` downloads (archives' pinned sizes, or the manifest's file sizes). */
  async downloadBytes(name: string, seenArchives?: Set<string>): Promise<number | null> {
    const up = this.declaration(name).upstream;
    const files = await this.files(name);
    if (up.kind === "files") {
      const mirrorOnly = new Set(up.mirrorOnly ?? []);
      const list = files.filter((f) => !mirrorOnly.has(f.path));
      return list.every((f) => f.bytes !== null) ? list.reduce((a, f) => a + f.bytes!, 0) : null;
    }
    if (up.kind === "archives" || up.kind === "recipe") {
      const archives = up.archives.reduce<number | null>((a, x) => {
        if (seenArchives?.has(x.url)) return a; // shared with a dataset counted before
        seenArchives?.add(x.url);
        return a === null || x.bytes === null ? null : a + x.bytes;
      }, 0);
      if (up.kind === "recipe" && up.baseUrl && archives !== null) {
        const images = files.filter((f) => f.path.startsWith("images/"));
        return archives + images.reduce((a, f) => a + (f.bytes ?? 0), 0);
      }
      return archives;
    }
    return null;
  }

  /**
   * Refuses an archive whose download is not pinned: it needs its sha256, or its size plus a
   * manifest pinning every file taken from it (then the per-file sha256 are authoritative after
   * unpacking) — unless this registry was made with `trustUnpinned` (`--trust-unpinned`).
   */
  /**
   * The pins an archive download is held to. Through `KIT_DATA_BASE_URL` (a copy of the
   * upstreams: a local server in tests, a private mirror), an archive whose every taken file is
   * pinned in the dataset's manifest may be a repack of the published one: its own size and
   * sha256 are then not compared — the per-file manifest sha256, checked after unpacking, are
   * authoritative (a note says so). Everything else keeps the archive's own pins.
   */
  async #effectivePins(
    decl: DatasetDeclaration,
    a: ArchiveSource,
  ): Promise<{ sha256: string | null; bytes: number | null }> {
    if (this.upstreamBase && (await this.contentsPinned(decl.name))) {
      return { sha256: null, bytes: null };
    }
    return { sha256: a.sha256, bytes: a.bytes };
  }

  async #checkPins(decl: DatasetDeclaration, a: ArchiveSource): Promise<void> {
    if (a.sha256) return;
    if (a.bytes !== null && (await this.contentsPinned(decl.name))) return;
    const what = a.bytes === null ? "neither sha256 nor size" : "no sha256";
    if (this.trustUnpinned) {
      this.#log(
        `warning: ${a.url} has ${what} pinned; downloading it anyway because of --trust-unpinned (${a.pinnedFrom})`,
      );
      return;
    }
    throw new KitError(
      `refusing to download ${a.url} (dataset "${decl.name}"): it has ${what} pinned and its contents are not pinned file by file`,
      [
        `pins: ${a.pinnedFrom}`,
        "to download it anyway, unchecked, pass --trust-unpinned (./kit task fetch --trust-unpinned NAME)",
      ],
    );
  }

  #log(line: string): void {
    if (!this.#quiet) console.error(line);
  }

  /**
   * Downloads a dataset into the cache (see `fetchMany`).
   */
  async fetch(name: string): Promise<ResolvedDataset> {
    const [r] = await this.fetchMany([name]);
    return r!;
  }

  /**
   * Downloads datasets into the cache: each file (or archive) streamed to `<target>.part` with a
   * progress bar (resumed with an HTTP range request when a `.part` is left from a killed run),
   * its size and sha256 checked against the pins, then renamed into place. Archives are kept in
   * `.downloads/` until every dataset of this call is verified (re-verified before any reuse),
   * then deleted unless `keepArchives`; they are unpacked safely (`unpackArchiveSafely`).
   * Everything goes into a staging folder (`.partial/<name>/`, kept across runs so a killed
   * download loses nothing already complete), renamed to `<name>/` only once every file is there
   * and verified: a failed or killed fetch never leaves a folder that resolves as the dataset.
   */
  async fetchMany(
    names: string[],
    onError?: (name: string, err: KitError) => void,
    skip?: (name: string) => KitError | null,
  ): Promise<ResolvedDataset[]> {
    const out: ResolvedDataset[] = [];
    const verified = new Set<string>(); // archives every dataset of which was verified
    const keep = new Set<string>(); // archives a failed dataset still needs
    for (const name of names) {
      const used = new Set<string>();
      try {
        const skipped = skip?.(name);
        if (skipped) throw skipped;
        out.push(await this.#fetchOne(name, used));
        for (const a of used) verified.add(a);
      } catch (err) {
        for (const a of used) keep.add(a);
        if (!onError || !(err instanceof KitError)) throw err;
        onError(name, err);
      }
    }
    // an archive is deleted once every dataset unpacked from it is verified; one a failed
    // dataset needs stays for the next try (re-verified before reuse)
    if (!this.keepArchives) {
      for (const a of verified) if (!keep.has(a)) await Deno.remove(a).catch(() => {});
    }
    return out;
  }

  async #fetchOne(name: string, usedArchives: Set<string>): Promise<ResolvedDataset> {
    const decl = this.declaration(name);
    const files = await this.files(name);
    const present = await this.resolve(name).catch(() => null);
    if (present?.source === "cache") return present;
    const up = decl.upstream;
    if (up.kind === "derived" || up.kind === "npm") throw this.missingError(decl);
    const dest = this.cachePath(name);
    const stagingRoot = join(this.cacheRoot, ".partial");
    const staging = join(stagingRoot, name);
    await removeStaleUnpackFolders(stagingRoot);
    await Deno.mkdir(staging, { recursive: true });
    if (up.kind === "files") {
      const mirrorOnly = new Set(up.mirrorOnly ?? []);
      await this.#downloadFiles(
        decl,
        files.filter((f) => !mirrorOnly.has(f.path)).map((f) => ({
          file: f,
          url: new URL(up.remotePaths?.[f.path] ?? f.path, up.baseUrl).href,
        })),
        staging,
      );
    } else {
      for (const a of up.archives) await this.#checkPins(decl, a);
      const work = up.kind === "recipe" ? join(stagingRoot, `${name}.work`) : null;
      for (const a of up.archives) {
        const archive = await this.#archive(decl, a);
        usedArchives.add(archive);
        const keepList = a.keep ??
          (files.length > 0
            ? files.map((f) => f.path).filter((p) => !a.into || p.startsWith(`${a.into}/`)).map(
              (p) => (a.into ? p.slice(a.into.length + 1) : p),
            )
            : null);
        const target = work ?? (a.into ? join(staging, a.into) : staging);
        this.#log(`unpack ${archive.split("/").pop()} (${describeBytes(a.bytes)})`);
        await unpackArchiveSafely(archive, a.format, {
          strip: a.strip,
          keep: keepList ? new Set(keepList) : null,
        }, target);
      }
      if (up.kind === "recipe" && work) {
        await this.#runRecipe(decl, up.recipe, up.baseUrl ?? null, work, staging);
        await Deno.remove(work, { recursive: true }).catch(() => {});
      }
    }
    // verify the staged copy as the dataset, then move it into place
    const check = new DataRegistry({ cacheRoot: stagingRoot, mirror: null, quiet: true });
    check.#manifests.set(name, files);
    await check.resolve(name);
    await Deno.remove(join(stagingRoot, ".verified.json")).catch(() => {}); // the check's stamps
    await Deno.remove(dest, { recursive: true }).catch(() => {});
    await Deno.rename(staging, dest);
    this.#resolved.delete(name);
    return await this.resolve(name);
  }

  async #runRecipe(
    decl: DatasetDeclaration,
    recipe: "xnli-xtreme-dev" | "coco-subset",
    baseUrl: string | null,
    work: string,
    staging: string,
  ): Promise<void> {
    if (recipe === "xnli-xtreme-dev") {
      const tsv = await Deno.readTextFile(join(work, "xnli.dev.tsv"));
      for (const [file, body] of xnliXtremeDev(tsv)) {
        await atomicWriteText(join(staging, file), body);
      }
      return;
    }
    const { json, images } = await cocoSubsetCaptions(work);
    await atomicWriteText(join(staging, "captions_subset.json"), json);
    const files = await this.files(decl.name);
    const byPath = new Map(files.map((f) => [f.path, f]));
    await this.#downloadFiles(
      decl,
      images.map((i) => ({
        file: byPath.get(i.path) ?? { path: i.path, bytes: null, sha256: null },
        url: new URL(i.remote, baseUrl ?? "https://images.cocodataset.org/").href,
      })),
      staging,
    );
  }

  async #downloadFiles(
    decl: DatasetDeclaration,
    list: { file: DatasetFile; url: string }[],
    staging: string,
  ): Promise<void> {
    const bar = new ProgressBar(`fetch ${decl.name}`, list.length, {
      silent: this.#quiet,
      unit: "files",
    });
    for (const { file: f, url } of list) {
      const target = join(staging, f.path);
      if (!(await stat(target))?.isFile) {
        if (!f.sha256 && !this.trustUnpinned) {
          throw new KitError(
            `refusing to download ${url} (dataset "${decl.name}"): no sha256 pinned for ${f.path}`,
            ["to download it anyway, unchecked, pass --trust-unpinned"],
          );
        }
        await this.#download(decl, url, target, { sha256: f.sha256, bytes: f.bytes }, false);
      }
      bar.tick();
    }
    bar.done();
  }

  /**
   * The archive's file in `.downloads/`: reused only when it still has the pinned size and
   * sha256 (else deleted and downloaded again), otherwise downloaded.
   */
  async #archive(decl: DatasetDeclaration, a: ArchiveSource): Promise<string> {
    const path = join(this.cacheRoot, ".downloads", a.url.split("/").pop() ?? "archive");
    const pins = await this.#effectivePins(decl, a);
    const info = await stat(path);
    if (info?.isFile) {
      const sizeOk = pins.bytes === null || info.size === pins.bytes;
      const shaOk = !sizeOk || !pins.sha256 || (await sha256File(path)) === pins.sha256;
      if (sizeOk && shaOk) return path;
      this.#log(
        `${relative(Deno.cwd(), path)}: does not match its pins (${
          sizeOk ? "sha256" : `size ${info.size}, pinned ${pins.bytes}`
        }); deleted, downloading it again`,
      );
      await Deno.remove(path);
    }
    await this.#download(decl, a.url, path, pins, true);
    if (pins.sha256 === null && pins.bytes === null && this.upstreamBase) {
      this.#log(
        `note: ${a.url} came from ${this.upstreamBase} (a copy of the upstreams, possibly repacked): its files are checked against data/manifests/${decl.name}.json instead of the archive's own pins`,
      );
    }
    return path;
  }

  async #download(
    decl: DatasetDeclaration,
    url: string,
    target: string,
    pins: { sha256: string | null; bytes: number | null },
    showBar: boolean,
  ): Promise<void> {
    const from = this.downloadUrl(url);
    await Deno.mkdir(dirname(target), { recursive: true });
    const part = `${target}.part`;
    let have = (await stat(part))?.size ?? 0;
    if (pins.bytes !== null && have >= pins.bytes) {
      await Deno.remove(part).catch(() => {});
      have = 0;
    }
    const connect = new AbortController();
    const timer = setTimeout(() => connect.abort(), 60_000);
    let res: Response;
    try {
      res = await this.#fetch(from, {
        signal: connect.signal,
        headers: have > 0 ? { range: `bytes=${have}-` } : {},
      });
    } catch (err) {
      throw new UpstreamUnreachable(
        url,
        decl,
        err instanceof Error ? err.message : String(err),
        this.missingError(decl),
      );
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 416) {
      await res.body?.cancel();
      await Deno.remove(part).catch(() => {});
      return await this.#download(decl, url, target, pins, showBar);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new KitError(
        `cannot download ${from}: HTTP ${res.status} ${res.statusText} (dataset "${decl.name}")`,
        this.missingError(decl).hints,
      );
    }
    const resumed = res.status === 206 && have > 0;
    if (!resumed) have = 0;
    const length = res.headers.get("content-length");
    const total = length !== null ? have + Number(length) : null;
    if (pins.bytes !== null && total !== null && total !== pins.bytes && !this.trustUnpinned) {
      await res.body.cancel();
      throw sizeMismatch(url, decl, total, pins.bytes, "the server announces");
    }
    const { createHash } = await import("node:crypto");
    const hash = createHash("sha256");
    if (resumed) {
      const old = await Deno.open(part);
      for await (const chunk of old.readable) hash.update(chunk);
      this.#log(`resuming ${url.split("/").pop()} at ${describeBytes(have)}`);
    }
    const expect = pins.bytes ?? total;
    const bar = new ProgressBar(`download ${url.split("/").pop()}`, expect || 1, {
      silent: this.#quiet || !showBar || !expect,
      unit: "bytes",
      start: have,
    });
    const file = await Deno.open(part, {
      write: true,
      create: true,
      truncate: !resumed,
      append: resumed,
    });
    let size = have;
    try {
      for await (const chunk of res.body) {
        size += chunk.length;
        if (pins.bytes !== null && size > pins.bytes && !this.trustUnpinned) {
          throw sizeMismatch(url, decl, size, pins.bytes, "the download passed");
        }
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
        bar.tick(chunk.length);
      }
      await file.syncData();
    } catch (err) {
      file.close();
      if (err instanceof KitError) {
        await Deno.remove(part).catch(() => {});
        throw err;
      }
      // a broken connection: the .part stays for a resumed download
      throw new UpstreamUnreachable(
        url,
        decl,
        err instanceof Error ? err.message : String(err),
        this.missingError(decl),
      );
    }
    file.close();
    bar.done();
    const got = hash.digest("hex");
    if (pins.bytes !== null && size !== pins.bytes && !this.trustUnpinned) {
      await Deno.remove(part).catch(() => {});
      throw sizeMismatch(url, decl, size, pins.bytes, "the download has");
    }
    if (pins.sha256 && got !== pins.sha256) {
      await Deno.remove(part).catch(() => {});
      throw new KitError(
        `download ${url}: sha256 ${got} does not match the declared ${pins.sha256} (dataset "${decl.name}")`,
        [
          "the upstream file changed or the download was corrupted; nothing was kept",
        ],
      );
    }
    await Deno.rename(part, target);
  }
}

/** A download refused because its size differs from the pinned one. */
function sizeMismatch(
  url: string,
  decl: DatasetDeclaration,
  got: number,
  pinned: number,
  how: string,
): KitError {
  return new KitError(
    `download ${url}: ${how} ${got} bytes, the pinned size is ${pinned} (dataset "${decl.name}"); refused, nothing was kept`,
    [
      "the upstream file changed, or this is not the published file",
      "to accept it anyway, unchecked, pass --trust-unpinned",
    ],
  );
}

/** A download that could not reach its server (offline, DNS, refused, broken connection). */
export class UpstreamUnreachable extends KitError {
  readonly url: string;
  readonly dataset: string;
  constructor(url: string, decl: DatasetDeclaration, reason: string, missing: KitError) {
    super(`cannot download ${url}: ${reason} (offline?)`, [
      `dataset "${decl.name}" (${decl.title}) needs it; a partial download is resumed next time`,
      missing.message,
      ...missing.hints,
    ]);
    this.url = url;
    this.dataset = decl.name;
  }
}

/** One archive's URL, size and sha256 (or how its contents are checked instead). */
export function describeArchive(a: ArchiveSource, manifestFiles: number): string {
  const sha = a.sha256
    ? `sha256 ${a.sha256}`
    : manifestFiles > 0
    ? `no sha256 published; each of its ${manifestFiles} files taken is checked against the manifest's sha256`
    : `sha256 not pinned: ${a.pinnedFrom}`;
  return `${a.url} (${
    a.bytes === null ? "size not pinned" : `${a.bytes} bytes, ${describeBytes(a.bytes)}`
  }; ${sha})`;
}

/** True when `dir` holds at least one entry whose name does not start with a dot. */
async function hasVisibleEntry(dir: string): Promise<boolean> {
  for await (const e of Deno.readDir(dir)) if (!e.name.startsWith(".")) return true;
  return false;
}

/** Writes a text file atomically (temp file + rename). */
async function atomicWriteText(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

let shared: DataRegistry | null = null;

/** The process-wide registry (configured from the environment). */
export function dataRegistry(): DataRegistry {
  shared ??= new DataRegistry();
  return shared;
}
