/**
 * Archive writers for the fetch tests, written independently of the kit's readers: zip (stored
 * or deflated, any unix mode, so a symlink entry can be planted), tar (any entry type and name,
 * so links and `..` paths can be planted), gzip, and .deb (through `dpkg-deb --build`).
 */
import { join } from "node:path";

const enc = new TextEncoder();

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function transform(
  data: Uint8Array,
  t: CompressionStream,
): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(t);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** gzip of `data`. */
export function gzip(data: Uint8Array): Promise<Uint8Array> {
  return transform(data, new CompressionStream("gzip"));
}

/** One zip entry: a file (`data`), a folder (name ending in "/") or a symlink (`symlinkTo`). */
export interface ZipInput {
  name: string;
  data?: Uint8Array;
  symlinkTo?: string;
  deflate?: boolean;
}

/** A zip archive (unix "made by", so modes are carried in the external attributes). */
export async function buildZip(entries: ZipInput[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const raw = e.symlinkTo !== undefined ? enc.encode(e.symlinkTo) : (e.data ?? new Uint8Array());
    const isDir = e.name.endsWith("/");
    const method = e.deflate && !isDir ? 8 : 0;
    const body = method === 8 ? await transform(raw, new CompressionStream("deflate-raw")) : raw;
    const mode = e.symlinkTo !== undefined ? 0o120777 : isDir ? 0o040755 : 0o100644;
    const name = enc.encode(e.name);
    const crc = crc32(raw);
    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(8, method, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, body.length, true);
    l.setUint32(22, raw.length, true);
    l.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const c = new DataView(cd.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, (3 << 8) | 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(10, method, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.length, true);
    c.setUint32(24, raw.length, true);
    c.setUint16(28, name.length, true);
    c.setUint32(38, (mode << 16) >>> 0, true);
    c.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, body);
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const end = new Uint8Array(22);
  const d = new DataView(end.buffer);
  d.setUint32(0, 0x06054b50, true);
  d.setUint16(8, entries.length, true);
  d.setUint16(10, entries.length, true);
  d.setUint32(12, cdSize, true);
  d.setUint32(16, offset, true);
  return concat([...parts, ...central, end]);
}

/** One tar entry: type "0" file, "5" folder, "1" hard link, "2" symlink. */
export interface TarInput {
  name: string;
  type?: "0" | "1" | "2" | "5";
  data?: Uint8Array;
  linkTo?: string;
}

/** A ustar archive (names up to 100 bytes). */
export function buildTar(entries: TarInput[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.data ?? new Uint8Array();
    const h = new Uint8Array(512);
    const put = (s: string, at: number, len: number) => h.set(enc.encode(s).subarray(0, len), at);
    const type = e.type ?? "0";
    put(e.name, 0, 100);
    put(type === "5" ? "0000755\0" : "0000644\0", 100, 8);
    put("0000000\0", 108, 8);
    put("0000000\0", 116, 8);
    put(`${(type === "0" ? data.length : 0).toString(8).padStart(11, "0")}\0`, 124, 12);
    put("00000000000\0", 136, 12);
    put("        ", 148, 8);
    put(type, 156, 1);
    if (e.linkTo) put(e.linkTo, 157, 100);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    const sum = h.reduce((a, b) => a + b, 0);
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
    parts.push(h);
    if (type === "0") {
      parts.push(data, new Uint8Array((512 - (data.length % 512)) % 512));
    }
  }
  parts.push(new Uint8Array(1024));
  return concat(parts);
}

/**
 * A .deb holding `files` (archive path → bytes) in its data tar, built with
 * `dpkg-deb --build` (uncompressed members, for speed) in a temp folder under `work`.
 */
export async function buildDeb(
  work: string,
  pkg: string,
  files: Map<string, string>,
): Promise<string> {
  const root = await Deno.makeTempDir({ dir: work, prefix: "deb-" });
  await Deno.mkdir(join(root, "DEBIAN"));
  await Deno.writeTextFile(
    join(root, "DEBIAN", "control"),
    `Package: ${pkg}\nVersion: 1.0-test\nArchitecture: all\nMaintainer: kit tests <tests@localhost>\nDescription: test repack\n`,
  );
  for (const [path, source] of files) {
    const target = join(root, path);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    await Deno.copyFile(source, target);
    await Deno.chmod(target, 0o644);
  }
  const out = `${root}.deb`;
  const r = await new Deno.Command("dpkg-deb", {
    args: ["--root-owner-group", "-Znone", "--build", root, out],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`dpkg-deb --build: ${new TextDecoder().decode(r.stderr)}`);
  await Deno.remove(root, { recursive: true });
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
