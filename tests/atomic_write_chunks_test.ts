import assert from "node:assert/strict";
import { join } from "node:path";
import { atomicWriteChunks, FileWriteError } from "../lib/util/atomic_write.ts";

Deno.test("atomicWriteChunks: writes the chunks in order, replacing the file only when complete", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-write-chunks-" });
  try {
    const target = join(dir, "index.jsonl");
    await Deno.writeTextFile(target, "old\n");
    const lines = Array.from(
      { length: 3000 },
      (_, i) => JSON.stringify({ i, s: "é".repeat(i % 7) }),
    );
    const chunks = async function* () {
      for (let i = 0; i < lines.length; i += 1000) {
        yield lines.slice(i, i + 1000).map((l) => l + "\n").join("");
        yield new Uint8Array(0);
      }
    };
    await atomicWriteChunks(target, chunks());
    assert.equal(await Deno.readTextFile(target), lines.map((l) => l + "\n").join(""));
    // a source that fails midway leaves the old file and no temp file
    const failing = async function* () {
      yield "partial\n";
      throw new Error("source broke");
    };
    await assert.rejects(atomicWriteChunks(target, failing()), (e: unknown) => {
      assert.ok(e instanceof FileWriteError);
      assert.equal(e.path, target);
      assert.match(e.message, /source broke/);
      return true;
    });
    assert.equal((await Deno.readTextFile(target)).split("\n").length, lines.length + 1);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["index.jsonl"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
