import assert from "node:assert/strict";
import { join } from "node:path";
import { FileHashCache } from "../lib/util/file_hash_cache.ts";

/** sha256 by Debian's coreutils: an oracle independent of the kit. */
async function sha256sum(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", { args: [path] }).output();
  assert.equal(out.code, 0);
  return new TextDecoder().decode(out.stdout).split(" ")[0]!;
}

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kit-filehash-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileHashCache.hash() gives sha256sum's hash; a missing path or a folder is null", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "a.bin");
    await Deno.writeFile(p, Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
    const cache = new FileHashCache(join(dir, "h.json"));
    assert.deepEqual(await cache.hash(p), { sha256: await sha256sum(p), size: 300_000 });
    assert.equal(await cache.hash(join(dir, "none")), null);
    assert.equal(await cache.hash(dir), null);
  });
});

Deno.test("FileHashCache: a saved entry is used on stat alone; a change of mtime, size or inode hashes again", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "model.onnx");
    const store = join(dir, "h.json");
    await Deno.writeTextFile(p, "first content");
    const first = (await new FileHashCache(store).hash(p))!;
    // nothing saved yet: another instance hashes the file itself
    const c1 = new FileHashCache(store);
    assert.equal((await c1.hash(p))!.sha256, first.sha256);
    await c1.save();
    const saved = JSON.parse(await Deno.readTextFile(store));
    assert.equal(saved[p].sha256, first.sha256);
    assert.equal(saved[p].ino, (await Deno.stat(p)).ino);

    // same size, same mtime, same inode, other bytes: the cache answers without reading the file
    // (proof that a warm run only stats it — and the one case it cannot see)
    const { mtime } = await Deno.stat(p);
    await Deno.writeTextFile(p, "other content");
    await Deno.utime(p, mtime!, mtime!);
    assert.equal((await new FileHashCache(store).hash(p))!.sha256, first.sha256);

    // same size and bytes as now, mtime changed: hashed again
    await Deno.utime(p, new Date(mtime!.getTime() + 5000), new Date(mtime!.getTime() + 5000));
    assert.equal((await new FileHashCache(store).hash(p))!.sha256, await sha256sum(p));

    // replaced by another file of the same size, mtime set back: another inode, hashed again
    const c2 = new FileHashCache(store);
    await c2.hash(p);
    await c2.save();
    const st = await Deno.stat(p);
    const q = join(dir, "new.onnx");
    await Deno.writeTextFile(q, "third content");
    await Deno.utime(q, st.mtime!, st.mtime!);
    await Deno.rename(q, p);
    assert.notEqual((await Deno.stat(p)).ino, st.ino);
    assert.equal((await new FileHashCache(store).hash(p))!.sha256, await sha256sum(p));

    // other size: hashed again
    await Deno.writeTextFile(p, "fourth, longer content");
    await Deno.utime(p, st.mtime!, st.mtime!);
    assert.equal((await new FileHashCache(store).hash(p))!.sha256, await sha256sum(p));
  });
});

Deno.test("FileHashCache: an entry written before inodes were kept still hits and gains its inode on save", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "a.txt");
    await Deno.writeTextFile(p, "abc");
    const st = await Deno.stat(p);
    const store = join(dir, "h.json");
    const planted = "0".repeat(64); // not the real hash: a hit must return it
    await Deno.writeTextFile(
      store,
      JSON.stringify({ [p]: { size: 3, mtimeMs: st.mtime!.getTime(), sha256: planted } }),
    );
    const c = new FileHashCache(store);
    assert.equal((await c.hash(p))!.sha256, planted);
    await c.save();
    assert.equal(JSON.parse(await Deno.readTextFile(store))[p].ino, st.ino);
  });
});

Deno.test("FileHashCache.save() keeps entries another instance saved meanwhile, and leaves no temp file", async () => {
  await withDir(async (dir) => {
    const a = join(dir, "a.txt"), b = join(dir, "b.txt");
    await Deno.writeTextFile(a, "a");
    await Deno.writeTextFile(b, "b");
    const store = join(dir, "h.json");
    const c1 = new FileHashCache(store), c2 = new FileHashCache(store);
    await c1.hash(a);
    await c2.hash(b); // c2 read the store before c1 saved
    await c1.save();
    await c2.save();
    const saved = JSON.parse(await Deno.readTextFile(store));
    assert.deepEqual(Object.keys(saved).sort(), [a, b]);
    assert.equal(saved[a].sha256, await sha256sum(a));
    assert.equal(saved[b].sha256, await sha256sum(b));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["a.txt", "b.txt", "h.json"]);
  });
});

Deno.test("FileHashCache: an unreadable store starts empty and is rewritten whole", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "a.txt");
    await Deno.writeTextFile(p, "abc");
    const store = join(dir, "h.json");
    await Deno.writeTextFile(store, "{ truncated");
    const c = new FileHashCache(store);
    assert.equal((await c.hash(p))!.sha256, await sha256sum(p));
    await c.save();
    assert.equal(JSON.parse(await Deno.readTextFile(store))[p].sha256, await sha256sum(p));
  });
});

Deno.test("FileHashCache.save({ pruneMissing }) drops the entries of deleted files, keeps the rest", async () => {
  await withDir(async (dir) => {
    const a = join(dir, "a.txt"), b = join(dir, "b.txt");
    await Deno.writeTextFile(a, "a");
    await Deno.writeTextFile(b, "b");
    const store = join(dir, "h.json");
    const c1 = new FileHashCache(store);
    await c1.hash(a);
    await c1.hash(b);
    await c1.save();
    await Deno.remove(a);
    await Deno.writeTextFile(join(dir, "c.txt"), "c");
    const c2 = new FileHashCache(store);
    await c2.hash(join(dir, "c.txt"));
    await c2.save({ pruneMissing: true });
    assert.deepEqual(
      Object.keys(JSON.parse(await Deno.readTextFile(store))).sort(),
      [b, join(dir, "c.txt")],
    );
  });
});

Deno.test("FileHashCache.hash() shows a progress bar in whole MiB for a hash that runs long", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "big.onnx");
    await Deno.writeFile(p, new Uint8Array(3 * 1024 * 1024 + 5));
    const lines: string[] = [];
    const orig = console.error;
    const quiet = Deno.env.get("KIT_QUIET");
    Deno.env.delete("KIT_QUIET");
    console.error = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      const h = await new FileHashCache(join(dir, "h.json")).hash(p, {
        label: "hash big.onnx",
        progressAfterMs: 0,
      });
      assert.equal(h!.sha256, await sha256sum(p));
    } finally {
      console.error = orig;
      if (quiet !== undefined) Deno.env.set("KIT_QUIET", quiet);
    }
    if (Deno.stderr.isTerminal()) return; // the bar redraws the terminal line instead
    assert.ok(lines.length >= 1, "no progress line");
    assert.match(lines.at(-1)!, /^hash big\.onnx \[#+\] 4\/4 MiB /);
  });
});
