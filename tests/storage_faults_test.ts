/**
 * Storage faults under the result cache: a full disk or a read-only cache folder is a warning
 * naming the file (the computed value is returned, no temp file is left), and temp files of
 * writes killed midway are swept. A real full tmpfs / read-only mount is used where the test
 * may mount one (root); otherwise a read-only folder by mode (non-root) or an injected fault.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cachedResult } from "../lib/eval_cache/result_cache.ts";
import { atomicWriteFile, FileWriteError } from "../lib/util/atomic_write.ts";

const isRoot = Deno.uid() === 0;

/** Mounts a tmpfs at `dir` (root only); false when this sandbox does not allow it. */
function mountTmpfs(dir: string, options: string): boolean {
  if (!isRoot) return false;
  try {
    return new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

function umount(dir: string): void {
  new Deno.Command("umount", { args: [dir], stdout: "null", stderr: "null" }).outputSync();
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** A value whose entry (~400 KB) does not fit in a 64 KiB tmpfs. */
function bigValue() {
  return { scores: Float64Array.from({ length: 50_000 }, (_, i) => Math.sin(i)), n: 50_000 };
}

const canMount = (() => {
  if (!isRoot) return false;
  const d = Deno.makeTempDirSync({ prefix: "kit-mount-probe-" });
  try {
    if (!mountTmpfs(d, "size=64k")) return false;
    umount(d);
    return true;
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
})();

Deno.test({
  name: "result cache on a full tmpfs: a warning naming the file, the value returned, no temp left",
  ignore: !canMount,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-full-cache-" });
    assert.ok(mountTmpfs(dir, "size=64k"));
    try {
      const lines: string[] = [];
      const expected = bigValue();
      const got = await cachedResult("demo", { n: 1 }, () => Promise.resolve(bigValue()), {
        dir,
        log: (l) => lines.push(l),
      });
      assert.deepEqual(got, expected);
      const warning = lines.find((l) => /warning: result not cached/.test(l));
      assert.ok(warning, lines.join("\n"));
      assert.match(warning, new RegExp(`${dir}/demo/[0-9a-f]{32}\\.safetensors`));
      assert.match(warning, /No space left on device|os error 28/);
      assert.deepEqual((await filesUnder(dir)).filter((f) => f.endsWith(".tmp")), []);
    } finally {
      umount(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "result cache in a read-only folder: computes without the cache, with a warning",
  // root ignores folder modes: a read-only mount then (where allowed)
  ignore: isRoot && !canMount,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-ro-cache-" });
    if (isRoot) assert.ok(mountTmpfs(dir, "ro,size=64k"));
    else await Deno.chmod(dir, 0o555);
    try {
      const lines: string[] = [];
      let calls = 0;
      const compute = () => {
        calls++;
        return Promise.resolve({ x: new Float32Array([1, 2, 3]) });
      };
      const a = await cachedResult("demo", { n: 2 }, compute, { dir, log: (l) => lines.push(l) });
      const b = await cachedResult("demo", { n: 2 }, compute, { dir, log: (l) => lines.push(l) });
      assert.deepEqual(a, { x: new Float32Array([1, 2, 3]) });
      assert.deepEqual(b, a);
      assert.equal(calls, 2, "nothing cached, computed each time");
      assert.equal(
        lines.filter((l) => /warning: result not cached \(could not write/.test(l))
          .length,
        2,
      );
    } finally {
      if (isRoot) umount(dir);
      else await Deno.chmod(dir, 0o755);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("atomicWriteFile: a failed write names the file and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-write-fault-" });
  try {
    // injected fault: the parent "folder" is a file
    await Deno.writeTextFile(join(dir, "blocker"), "x");
    const target = join(dir, "blocker", "entry.json");
    await assert.rejects(atomicWriteFile(target, "{}"), (e: unknown) => {
      assert.ok(e instanceof FileWriteError);
      assert.equal(e.path, target);
      assert.match(e.message, new RegExp(`could not write ${target}: `));
      return true;
    });
    assert.deepEqual(await filesUnder(dir), ["blocker"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("result cache: temp files of killed writes are swept at start, live ones kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-sweep-" });
  try {
    await Deno.mkdir(join(dir, "demo"));
    // a pid no process can have (above Linux's maximum pid), and this process's own
    const stale = join(dir, "demo", "0123.safetensors.2147483646.1.tmp");
    const live = join(dir, "demo", `0456.safetensors.${Deno.pid}.99.tmp`);
    await Deno.writeTextFile(stale, "partial");
    await Deno.writeTextFile(live, "being written");
    const lines: string[] = [];
    await cachedResult("demo", { n: 3 }, () => Promise.resolve(1), {
      dir,
      log: (l) => lines.push(l),
    });
    await assert.rejects(Deno.stat(stale), Deno.errors.NotFound);
    assert.ok((await Deno.stat(live)).isFile);
    assert.ok(lines.some((l) => /removed 1 temp file/.test(l)), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
