import { dirname, join, relative, resolve } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { sha256File, sha256Hex } from "../util/sha256.ts";
import { ProgressBar } from "../util/progress.ts";
import { cacheDir, PROJECT_ROOT } from "../util/paths.ts";
import { kitConfig } from "../config/kit_config.ts";
import type { DatasetDeclaration, DatasetFile } from "./dataset.ts";
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
  /** Folder for downloaded datasets. Default `<cache>/data`. */
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

function describeBytes(n: number | null): string {
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
  readonly #verify: boolean;

  constructor(opts: RegistryOptions = {}) {
    this.cacheRoot = resolve(opts.cacheRoot ?? join(cacheDir(), "data"));
    const mirror = opts.mirror === undefined ? kitConfig().dataMirror : opts.mirror;
    this.mirror = mirror ? resolve(mirror) : null;
    this.nodeModules = resolve(opts.nodeModules ?? join(PROJECT_ROOT, "node_modules"));
    this.#fetch = opts.fetchFn ?? globalThis.fetch.bind(globalThis);
    this.#quiet = opts.quiet ?? false;
    this.#verify = opts.verify ?? false;
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
    return sha256;
  }

  async #saveStamps(): Promise<void> {
    if (!this.#stamps) return;
    await atomicWriteJson(join(this.cacheRoot, ".verified.json"), this.#stamps).catch(() => {});
  }

  /**
   * Finds the dataset (cache, then mirror), checks every pinned file's sha256, and returns where
   * it is. Throws a KitError naming the dataset, its upstream URL and checksum, and where to put
   * the files, when no location holds it complete.
   */
  async resolve(name: string, opts: { requiredPaths?: string[] } = {}): Promise<ResolvedDataset> {
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
      for (const f of files) if (!(await stat(join(root, f.path)))?.isFile) missing.push(f.path);
      for (const p of required) if (!(await stat(join(root, p)))) missing.push(p);
      if (missing.length > 0) {
        looked.push(
          `${source}: ${root} (${missing.length} of ${
            files.length + required.length
          } files missing, e.g. ${missing[0]})`,
        );
        continue;
      }
      let verified = 0;
      for (const f of files) {
        if (!f.sha256) continue;
        const p = join(root, f.path);
        let got = await this.#checksum(p, (await stat(p))!);
        if (got !== f.sha256 && !this.#verify) {
          // the stamp may be what is damaged: hash the file itself before blaming it
          got = await this.#checksum(p, (await stat(p))!, true);
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
    if (up.kind === "archives") {
      for (const a of up.archives) {
        lines.push(
          `download: ${a.url} (${describeBytes(a.bytes)}; sha256 ${
            a.sha256 ?? "not pinned: verify against the publisher's checksum"
          })`,
        );
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
        ? `${up.baseUrl}${up.remotePaths?.[f.path] ?? f.path}`
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

  /**
   * Downloads a dataset into the cache: each file (or archive) streamed to a temp file with a
   * progress bar, its sha256 checked, then renamed into place. Everything goes into a staging
   * folder (`.partial/<name>/` in the cache, kept across runs so a killed download
   * loses nothing already complete), which is renamed to `<name>/` only once every file is there
   * and verified: a failed or killed fetch never leaves a folder that resolves as the dataset.
   */
  async fetch(name: string): Promise<ResolvedDataset> {
    const decl = this.declaration(name);
    await this.files(name);
    const present = await this.resolve(name).catch(() => null);
    if (present?.source === "cache") return present;
    const up = decl.upstream;
    if (up.kind === "derived" || up.kind === "npm") throw this.missingError(decl);
    const dest = this.cachePath(name);
    const stagingRoot = join(this.cacheRoot, ".partial");
    const staging = join(stagingRoot, name);
    await Deno.mkdir(staging, { recursive: true });
    if (up.kind === "files") {
      const files = await this.files(name);
      const bar = new ProgressBar(`fetch ${name}`, files.length, {
        silent: this.#quiet,
        unit: "files",
      });
      for (const f of files) {
        const target = join(staging, f.path);
        if (!(await stat(target))?.isFile) {
          const remote = up.remotePaths?.[f.path] ?? f.path;
          await this.#download(decl, up.baseUrl + remote, target, f.sha256);
        }
        bar.tick();
      }
      bar.done();
    } else {
      for (const a of up.archives) {
        const archive = join(this.cacheRoot, ".downloads", a.url.split("/").pop() ?? "archive");
        if (!(await stat(archive))?.isFile) await this.#download(decl, a.url, archive, a.sha256);
        await unpackArchive(archive, a.format, a.strip, a.into ? join(staging, a.into) : staging);
      }
    }
    // verify the staged copy as the dataset, then move it into place
    const check = new DataRegistry({ cacheRoot: stagingRoot, mirror: null, quiet: true });
    check.#manifests.set(name, await this.files(name));
    await check.resolve(name);
    await Deno.remove(dest, { recursive: true }).catch(() => {});
    await Deno.rename(staging, dest);
    this.#resolved.delete(name);
    return await this.resolve(name);
  }

  async #download(
    decl: DatasetDeclaration,
    url: string,
    target: string,
    sha256: string | null,
  ): Promise<void> {
    let res: Response;
    try {
      res = await this.#fetch(url);
    } catch (err) {
      const e = this.missingError(decl);
      throw new KitError(
        `cannot download ${url}: ${err instanceof Error ? err.message : err} (offline?)`,
        [
          e.message,
          ...e.hints,
        ],
      );
    }
    if (!res.ok || !res.body) {
      throw new KitError(
        `cannot download ${url}: HTTP ${res.status} ${res.statusText}`,
        this.missingError(decl).hints,
      );
    }
    await Deno.mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${Deno.pid}.part`;
    const total = Number(res.headers.get("content-length") ?? 0);
    const bar = new ProgressBar(`download ${url.split("/").pop()}`, total || 1, {
      silent: this.#quiet || total === 0,
      unit: "bytes",
    });
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    const { createHash } = await import("node:crypto");
    const hash = createHash("sha256");
    try {
      for await (const chunk of res.body) {
        hash.update(chunk);
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
        bar.tick(chunk.length);
      }
      await file.syncData();
    } finally {
      file.close();
    }
    bar.done();
    const got = hash.digest("hex");
    if (sha256 && got !== sha256) {
      await Deno.remove(tmp).catch(() => {});
      throw new KitError(
        `download ${url}: sha256 ${got} does not match the declared ${sha256} (dataset "${decl.name}")`,
        [
          "the upstream file changed or the download was corrupted; nothing was kept",
        ],
      );
    }
    await Deno.rename(tmp, target);
  }
}

/** True when `dir` holds at least one entry whose name does not start with a dot. */
async function hasVisibleEntry(dir: string): Promise<boolean> {
  for await (const e of Deno.readDir(dir)) if (!e.name.startsWith(".")) return true;
  return false;
}

async function run(cmd: string, args: string[], what: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  } catch {
    throw new KitError(
      `${what}: the command \`${cmd}\` is not installed (Debian: apt-get install -y ${
        cmd === "dpkg-deb" ? "dpkg" : cmd
      })`,
    );
  }
  if (!out.success) {
    throw new KitError(`${what}: ${cmd} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Unpacks an archive into `dest`, keeping only what lies under `strip` inside it. */
export async function unpackArchive(
  archive: string,
  format: string,
  strip: string,
  dest: string,
): Promise<void> {
  const tmp = `${dest}.unpack.${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  const what = `unpack ${archive}`;
  if (format === "zip") await run("unzip", ["-q", "-o", archive, "-d", tmp], what);
  else if (format === "tar.gz") await run("tar", ["-xzf", archive, "-C", tmp], what);
  else if (format === "tar") await run("tar", ["-xf", archive, "-C", tmp], what);
  else if (format === "deb") await run("dpkg-deb", ["-x", archive, tmp], what);
  else if (format === "gz") {
    const name = archive.split("/").pop()!.replace(/\.gz$/, "");
    await run("sh", ["-c", `gzip -dc "$0" > "$1"`, archive, join(tmp, name)], what);
  } else throw new KitError(`${what}: unknown archive format ${format}`);
  const from = join(tmp, strip);
  await Deno.mkdir(dest, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const target = join(dest, entry.name);
    await Deno.remove(target, { recursive: true }).catch(() => {});
    await Deno.rename(join(from, entry.name), target);
  }
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

let shared: DataRegistry | null = null;

/** The process-wide registry (configured from the environment). */
export function dataRegistry(): DataRegistry {
  shared ??= new DataRegistry();
  return shared;
}
