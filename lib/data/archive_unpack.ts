import { dirname, join, resolve, sep } from "node:path";
import { KitError } from "../util/kit_error.ts";

/** Archive formats the kit can unpack. */
export type ArchiveFormat = "zip" | "tar.gz" | "tar" | "deb" | "gz";

/** What to take out of an archive. */
export interface UnpackSelection {
  /** Folder inside the archive whose contents become the output ("" = the archive root). */
  strip: string;
  /**
   * Paths (relative to `strip`) to write; everything else is skipped unread. Null: every regular
   * file under `strip`.
   */
  keep: ReadonlySet<string> | null;
}

/** Counts of one unpack, for messages and tests. */
export interface UnpackSummary {
  written: number;
  skipped: number;
}

/**
 * Unpacks `archive` safely into `dest` (created if absent; existing entries of the same name are
 * replaced). Every entry is first written into a private temp folder beside `dest`
 * (`<dest>.unpack.<pid>.<random>`, mode 0700) by the kit's own zip and tar readers, which refuse
 * the whole archive on a symlink, a hard link, a device or other special entry, an absolute path
 * or a `..` component — whatever part of the archive it lies in — and never follow a link while
 * writing. The temp tree is then walked with `lstat` (only regular files and folders, each
 * `realpath` inside the temp folder) and moved into `dest` with `lstat` checks on every target.
 * The temp folder is removed on success and on failure. `.deb` packages are read through
 * `dpkg-deb --fsys-tarfile` (the data tar, any compression); `.gz` is one gzip-compressed file.
 */
export async function unpackArchiveSafely(
  archive: string,
  format: ArchiveFormat,
  selection: UnpackSelection,
  dest: string,
): Promise<UnpackSummary> {
  const tmp = `${resolve(dest)}.unpack.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(dirname(tmp), { recursive: true });
  await Deno.mkdir(tmp, { mode: 0o700 });
  try {
    const sink = new TempTreeWriter(tmp, archive, selection);
    if (format === "zip") await readZip(archive, sink);
    else if (format === "tar") await readTar((await Deno.open(archive)).readable, sink);
    else if (format === "tar.gz") {
      await readTar(decompress((await Deno.open(archive)).readable, "gzip"), sink);
    } else if (format === "deb") await readDeb(archive, sink);
    else if (format === "gz") {
      const name = archive.split("/").pop()!.replace(/\.gz$/, "");
      const stream = decompress((await Deno.open(archive)).readable, "gzip");
      await sink.file(selection.strip ? `${selection.strip}/${name}` : name, stream, null);
    } else throw new KitError(`unpack ${archive}: unknown archive format ${format}`);
    await assertPlainTree(tmp, tmp, archive);
    await Deno.mkdir(dest, { recursive: true });
    await moveTree(tmp, resolve(dest), resolve(dest));
    return { written: sink.written, skipped: sink.skipped };
  } catch (err) {
    if (err instanceof KitError) throw err;
    throw new KitError(
      `unpack ${archive}: ${err instanceof Error ? err.message : String(err)}`,
      ["the archive is damaged or not of the declared format; nothing was kept"],
    );
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Removes `*.unpack.*` folders an earlier, killed unpack left under `root` (one level down and
 * in `root` itself). Call only while holding the datasets cache lock. Returns the removed paths.
 */
export async function removeStaleUnpackFolders(root: string): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (/\.unpack\.\d+/.test(e.name)) {
        await Deno.remove(p, { recursive: true }).catch(() => {});
        removed.push(p);
      } else if (e.isDirectory && !e.isSymlink && depth > 0) await visit(p, depth - 1);
    }
  };
  await visit(root, 2);
  return removed;
}

/** Rejects an entry name that is absolute, has a `..` component, or is otherwise unusable. */
function checkedEntryPath(name: string, archive: string): string {
  if (name.includes("\0")) throw unsafe(archive, name, "a NUL byte in its name");
  if (name.startsWith("/")) throw unsafe(archive, name, "an absolute path");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw unsafe(archive, name, "a `..` path component");
  return parts.join("/");
}

function unsafe(archive: string, entry: string, what: string): KitError {
  return new KitError(
    `unsafe archive ${archive}: entry "${entry}" is ${what}; the archive was rejected`,
    [
      "nothing was written outside the kit's private temp folder, which was removed",
      "the file is not the published archive (tampered, or a different download): delete it and fetch again",
    ],
  );
}

/** Writes the selected entries of an archive into the private temp folder, never following links. */
class TempTreeWriter {
  written = 0;
  skipped = 0;
  readonly #root: string;
  readonly #archive: string;
  readonly #sel: UnpackSelection;
  readonly #stripParts: string[];
  constructor(root: string, archive: string, sel: UnpackSelection) {
    this.#root = root;
    this.#archive = archive;
    this.#sel = sel;
    this.#stripParts = sel.strip.split("/").filter((p) => p !== "" && p !== ".");
  }

  /** Where an entry goes relative to the output, or null when it is not selected. */
  #target(path: string): string | null {
    const parts = path.split("/");
    for (let i = 0; i < this.#stripParts.length; i++) {
      if (parts[i] !== this.#stripParts[i]) return null;
    }
    const rel = parts.slice(this.#stripParts.length).join("/");
    if (rel === "") return null;
    if (this.#sel.keep && !this.#sel.keep.has(rel)) return null;
    return rel;
  }

  /** Refuses a link or special entry (anywhere in the archive, selected or not). */
  reject(name: string, what: string): never {
    throw unsafe(this.#archive, name, what);
  }

  /** True when a file entry of this name would be written (false: it may be skipped unread). */
  wants(name: string): boolean {
    const path = checkedEntryPath(name, this.#archive);
    return path !== "" && this.#target(path) !== null;
  }

  /** A folder entry: its path is checked; folders are made when a file needs them. */
  directory(name: string): void {
    checkedEntryPath(name, this.#archive);
  }

  /** A regular file entry: written when selected, else its data is drained. */
  async file(
    name: string,
    data: ReadableStream<Uint8Array>,
    expectedBytes: number | null,
  ): Promise<void> {
    const path = checkedEntryPath(name, this.#archive);
    const rel = path === "" ? null : this.#target(path);
    if (rel === null) {
      this.skipped++;
      for await (const _ of data) { /* drain */ }
      return;
    }
    const target = join(this.#root, ...rel.split("/"));
    await Deno.mkdir(dirname(target), { recursive: true });
    await assertInside(dirname(target), this.#root, this.#archive, name);
    const existing = await Deno.lstat(target).catch(() => null);
    if (existing) {
      if (!existing.isFile) this.reject(name, "a duplicate of a folder entry");
      await Deno.remove(target); // a later duplicate entry wins, as with tar
    }
    const file = await Deno.open(target, { write: true, createNew: true, mode: 0o644 });
    let n = 0;
    try {
      for await (const chunk of data) {
        n += chunk.length;
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
      }
    } finally {
      file.close();
    }
    if (expectedBytes !== null && n !== expectedBytes) {
      throw new KitError(
        `unpack ${this.#archive}: entry "${name}" has ${n} bytes, its header says ${expectedBytes}`,
        ["the archive is damaged or truncated; nothing was kept"],
      );
    }
    this.written++;
  }
}

async function assertInside(path: string, root: string, archive: string, entry: string) {
  const real = await Deno.realPath(path);
  const realRoot = await Deno.realPath(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw unsafe(archive, entry, `leading outside the temp folder (to ${real})`);
  }
}

/** Every entry under `dir` is a plain folder or regular file whose realpath stays in `root`. */
async function assertPlainTree(dir: string, root: string, archive: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    const info = await Deno.lstat(p);
    if (info.isSymlink || !(info.isFile || info.isDirectory)) {
      throw unsafe(
        archive,
        p.slice(root.length + 1),
        "not a regular file or folder after unpacking",
      );
    }
    await assertInside(p, root, archive, p.slice(root.length + 1));
    if (info.isDirectory) await assertPlainTree(p, root, archive);
  }
}

/**
 * Moves the tree `from` into `to`, checking each source and target with `lstat`: a source that is
 * not a regular file or folder is refused; a target symlink is removed (never followed); every
 * target folder's realpath must stay inside `destRoot`.
 */
async function moveTree(from: string, to: string, destRoot: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    const s = await Deno.lstat(src);
    if (s.isSymlink || !(s.isFile || s.isDirectory)) {
      throw new KitError(`unpack: ${src} is not a regular file or folder; refused to move it`);
    }
    const d = await Deno.lstat(dst).catch(() => null);
    if (s.isDirectory) {
      if (d && !d.isDirectory) await Deno.remove(dst, { recursive: true });
      if (!d || !d.isDirectory) await Deno.mkdir(dst);
      const real = await Deno.realPath(dst);
      const realRoot = await Deno.realPath(destRoot);
      if (real !== realRoot && !real.startsWith(realRoot + sep)) {
        throw new KitError(`unpack: ${dst} resolves outside ${destRoot}; refused`);
      }
      await moveTree(src, dst, destRoot);
    } else {
      if (d) await Deno.remove(dst, { recursive: true }); // a symlink is removed, not followed
      await Deno.rename(src, dst);
    }
  }
}

// ------------------------------------------------------------------------------------------ tar

function decompress(
  stream: ReadableStream<Uint8Array>,
  format: "gzip" | "deflate-raw",
): ReadableStream<Uint8Array> {
  return stream.pipeThrough(
    new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}

/** Reads exactly-sized pieces from a byte stream. */
class StreamReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf = new Uint8Array(0);
  #done = false;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#it = stream[Symbol.asyncIterator]();
  }
  async #fill(n: number): Promise<boolean> {
    while (this.#buf.length < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        break;
      }
      const merged = new Uint8Array(this.#buf.length + r.value.length);
      merged.set(this.#buf);
      merged.set(r.value, this.#buf.length);
      this.#buf = merged;
    }
    return this.#buf.length >= n;
  }
  /** The next `n` bytes, or null at the end of the stream (a short tail is an error). */
  async read(n: number): Promise<Uint8Array | null> {
    if (!(await this.#fill(n))) {
      if (this.#buf.length === 0) return null;
      throw new Error(`unexpected end of archive (wanted ${n} bytes, ${this.#buf.length} left)`);
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
  /** The next `n` bytes as a stream of chunks (at most 1 MiB each). */
  stream(n: number): ReadableStream<Uint8Array> {
    let left = n;
    return new ReadableStream({
      pull: async (c) => {
        if (left === 0) return c.close();
        const piece = await this.read(Math.min(left, 1 << 20));
        if (!piece) return c.error(new Error("unexpected end of archive"));
        left -= piece.length;
        c.enqueue(piece);
      },
    });
  }
  /** Stops reading the source. */
  async cancel(): Promise<void> {
    await this.#it.return?.();
  }
}

const text = new TextDecoder();

function cString(b: Uint8Array): string {
  const z = b.indexOf(0);
  return text.decode(z < 0 ? b : b.subarray(0, z));
}

function tarNumber(b: Uint8Array): number {
  if ((b[0]! & 0x80) !== 0) { // GNU base-256
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cString(b).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

/** Parses a tar stream, handing regular files to `sink` and refusing every other entry type. */
async function readTar(stream: ReadableStream<Uint8Array>, sink: TempTreeWriter): Promise<void> {
  const r = new StreamReader(stream);
  let longName = null as string | null;
  let paxPath = null as string | null;
  let paxSize = null as number | null;
  try {
    while (true) {
      const h = await r.read(512);
      if (!h || h.every((x) => x === 0)) break;
      const type = String.fromCharCode(h[156]!);
      let name = cString(h.subarray(0, 100));
      const prefix = cString(h.subarray(345, 500));
      if (cString(h.subarray(257, 263)).startsWith("ustar") && prefix) name = `${prefix}/${name}`;
      if (longName !== null) name = longName;
      if (paxPath !== null) name = paxPath;
      const size: number = paxSize ?? tarNumber(h.subarray(124, 136));
      const padded: number = Math.ceil(size / 512) * 512;
      longName = paxPath = paxSize = null;
      if (type === "L" || type === "x" || type === "g" || type === "K") {
        const body: Uint8Array = (await r.read(padded)) ?? new Uint8Array(0);
        const data: Uint8Array = body.subarray(0, size);
        if (type === "L") longName = cString(data);
        if (type === "x") {
          for (const rec of parsePax(data)) {
            if (rec[0] === "path") paxPath = rec[1];
            if (rec[0] === "size") paxSize = Number(rec[1]);
          }
        }
        continue;
      }
      if (type === "0" || type === "\0" || type === "7") {
        await sink.file(name, r.stream(size), size);
        if (padded > size) await r.read(padded - size);
      } else if (type === "5") {
        sink.directory(name);
        if (padded > 0) await r.read(padded);
      } else if (type === "2") {
        sink.reject(name, `a symbolic link (to ${cString(h.subarray(157, 257))})`);
      } else if (type === "1") {
        sink.reject(name, `a hard link (to ${cString(h.subarray(157, 257))})`);
      } else if (type === "3" || type === "4" || type === "6") {
        sink.reject(name, "a device or FIFO");
      } else sink.reject(name, `of an unsupported tar entry type "${type}"`);
    }
  } finally {
    await r.cancel().catch(() => {});
  }
}

function parsePax(data: Uint8Array): [string, string][] {
  const out: [string, string][] = [];
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(text.decode(data.subarray(off, sp)), 10);
    if (!(len > 0)) break;
    const rec = text.decode(data.subarray(sp + 1, off + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out.push([rec.slice(0, eq), rec.slice(eq + 1)]);
    off += len;
  }
  return out;
}

/** A .deb's data tar through `dpkg-deb --fsys-tarfile` (which handles every compression). */
async function readDeb(archive: string, sink: TempTreeWriter): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("dpkg-deb", {
      args: ["--fsys-tarfile", archive],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    throw new KitError(
      `unpack ${archive}: the command \`dpkg-deb\` is not installed (Debian/Ubuntu: apt-get install -y dpkg)`,
    );
  }
  const stderr = new Response(child.stderr).text();
  let parseError: unknown = null;
  try {
    await readTar(child.stdout, sink);
  } catch (err) {
    parseError = err;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  const status = await child.status;
  if (parseError) throw parseError;
  if (!status.success) {
    throw new KitError(`unpack ${archive}: dpkg-deb failed: ${(await stderr).trim()}`);
  }
}

// ------------------------------------------------------------------------------------------ zip

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32Update(crc: number, b: Uint8Array): number {
  let c = crc ^ 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function readAt(file: Deno.FsFile, offset: number, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  await file.seek(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const k = await file.read(out.subarray(got));
    if (k === null) throw new Error(`unexpected end of zip at offset ${offset + got}`);
    got += k;
  }
  return out;
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressed: number;
  size: number;
  localOffset: number;
  madeBy: number;
  externalAttr: number;
}

/** The central directory of a zip (zip64 too). */
async function zipEntries(file: Deno.FsFile, archive: string): Promise<ZipEntry[]> {
  const total = (await file.stat()).size;
  const tailLen = Math.min(total, 65557);
  const tail = await readAt(file, total - tailLen, tailLen);
  const dv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new KitError(`unpack ${archive}: not a zip file (no end of central directory)`);
  }
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = total - tailLen + eocd - 20;
    const loc = new DataView((await readAt(file, locAt, 20)).buffer);
    if (loc.getUint32(0, true) !== 0x07064b50) {
      throw new KitError(`unpack ${archive}: damaged zip64 end of central directory`);
    }
    const recAt = Number(loc.getBigUint64(8, true));
    const rec = new DataView((await readAt(file, recAt, 56)).buffer);
    count = Number(rec.getBigUint64(32, true));
    cdSize = Number(rec.getBigUint64(40, true));
    cdOffset = Number(rec.getBigUint64(48, true));
  }
  const cd = await readAt(file, cdOffset, cdSize);
  const c = new DataView(cd.buffer);
  const out: ZipEntry[] = [];
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (c.getUint32(off, true) !== 0x02014b50) {
      throw new KitError(`unpack ${archive}: damaged zip central directory (entry ${i})`);
    }
    const nameLen = c.getUint16(off + 28, true);
    const extraLen = c.getUint16(off + 30, true);
    const commentLen = c.getUint16(off + 32, true);
    const e: ZipEntry = {
      madeBy: c.getUint16(off + 4, true),
      flags: c.getUint16(off + 8, true),
      method: c.getUint16(off + 10, true),
      crc: c.getUint32(off + 16, true),
      compressed: c.getUint32(off + 20, true),
      size: c.getUint32(off + 24, true),
      externalAttr: c.getUint32(off + 38, true),
      localOffset: c.getUint32(off + 42, true),
      name: text.decode(cd.subarray(off + 46, off + 46 + nameLen)),
    };
    let x = off + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = c.getUint16(x, true);
      const len = c.getUint16(x + 2, true);
      if (id === 0x0001) {
        let p = x + 4;
        if (e.size === 0xffffffff) (e.size = Number(c.getBigUint64(p, true))), (p += 8);
        if (e.compressed === 0xffffffff) (e.compressed = Number(c.getBigUint64(p, true))), (p += 8);
        if (e.localOffset === 0xffffffff) e.localOffset = Number(c.getBigUint64(p, true));
      }
      x += 4 + len;
    }
    out.push(e);
    off = xEnd + commentLen;
  }
  return out;
}

/** Reads a zip through its central directory; entries are checked before any is written. */
async function readZip(archive: string, sink: TempTreeWriter): Promise<void> {
  const file = await Deno.open(archive, { read: true });
  try {
    const entries = await zipEntries(file, archive);
    for (const e of entries) {
      checkedEntryPath(e.name, archive);
      const unixType = (e.madeBy >> 8) === 3 ? (e.externalAttr >>> 16) & 0o170000 : 0;
      if (unixType === 0o120000) sink.reject(e.name, "a symbolic link");
      if (unixType !== 0 && unixType !== 0o100000 && unixType !== 0o040000) {
        sink.reject(e.name, "a device, FIFO or socket");
      }
      if (e.flags & 1) sink.reject(e.name, "encrypted");
      if (!e.name.endsWith("/") && e.method !== 0 && e.method !== 8) {
        sink.reject(e.name, `compressed with unsupported method ${e.method}`);
      }
    }
    for (const e of entries) {
      if (e.name.endsWith("/")) {
        sink.directory(e.name);
        continue;
      }
      if (!sink.wants(e.name)) {
        sink.skipped++;
        continue;
      }
      const lh = new DataView((await readAt(file, e.localOffset, 30)).buffer);
      if (lh.getUint32(0, true) !== 0x04034b50) {
        throw new KitError(`unpack ${archive}: damaged zip (no local header for "${e.name}")`);
      }
      const dataAt = e.localOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
      let left = e.compressed;
      let pos = dataAt;
      const raw = new ReadableStream<Uint8Array>({
        pull: async (c) => {
          if (left === 0) return c.close();
          const piece = await readAt(file, pos, Math.min(left, 1 << 20));
          left -= piece.length;
          pos += piece.length;
          c.enqueue(piece);
        },
      });
      let crc = 0;
      const data = (e.method === 8 ? decompress(raw, "deflate-raw") : raw)
        .pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, c) {
              crc = crc32Update(crc, chunk);
              c.enqueue(chunk);
            },
          }),
        );
      await sink.file(e.name, data, e.size);
      if (crc !== e.crc) {
        throw new KitError(`unpack ${archive}: entry "${e.name}" fails its CRC-32 check`, [
          "the archive is damaged; nothing was kept",
        ]);
      }
    }
  } finally {
    file.close();
  }
}
