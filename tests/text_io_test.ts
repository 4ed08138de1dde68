import assert from "node:assert/strict";
import { join } from "node:path";
import { readLines, readText } from "../lib/sources/text_io.ts";

/** The lines of `text` as the kit defines them, computed independently with split(). */
function expectedLines(text: string): string[] {
  const parts = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

Deno.test("readLines splits lines that straddle read chunks (a line of 300 kB, CRLF, no final newline), plain and gzipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "text-io-" });
  try {
    const long = Array.from({ length: 30_000 }, (_, i) => `w${i}`).join(" "); // ~200 kB
    const text = `first\r\n${long}\r\n\nsecond line\n${long}x\r\nlast without newline`;
    const plain = join(dir, "a.txt");
    await Deno.writeTextFile(plain, text);
    const gz = join(dir, "a.txt.gz");
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    await Deno.writeFile(gz, new Uint8Array(await new Response(stream).arrayBuffer()));
    for (const p of [plain, gz]) {
      const got: { line: number; text: string }[] = [];
      for await (const l of readLines(p)) got.push(l);
      assert.deepEqual(got.map((l) => l.text), expectedLines(text), p);
      assert.deepEqual(got.map((l) => l.line), got.map((_, i) => i + 1));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readText reads a one-line file of 60 MB (COCO's caption files are one line) in linear time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "text-io-" });
  try {
    const path = join(dir, "one_line.json");
    const piece = '{"image_id": 1, "id": 2, "caption": "a synthetic caption of some words"}, ';
    const text = "[" + piece.repeat(Math.ceil(60e6 / piece.length)) + "0]";
    await Deno.writeTextFile(path, text);
    const t0 = performance.now();
    const got = await readText(path);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(got.length, text.length);
    assert.ok(got === text);
    // linear: well under a second alone; the quadratic scan it replaces took minutes at this size
    assert.ok(seconds < 20, `${seconds.toFixed(1)} s for 60 MB`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
