import assert from "node:assert/strict";
import { join } from "node:path";
import { readJsonLinesLog } from "../lib/rehearsal/_json_lines_log.ts";
import { readEmbedLimitLog } from "../lib/rehearsal/embed_limit.ts";
import { KitError } from "../lib/util/kit_error.ts";

Deno.test("rehearsal logs (JSON lines): a missing file is no records, blank lines are skipped, a bad line names the file and its line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = join(dir, "x.embed.jsonl");
    assert.deepEqual(await readEmbedLimitLog(log), []);
    const ok = { notebook: "03", encoder: "e", requested: 10, embedded: 2, seconds: 1.5 };
    await Deno.writeTextFile(log, `${JSON.stringify(ok)}\n\n${JSON.stringify(ok)}\n`);
    assert.deepEqual(await readEmbedLimitLog(log), [ok, ok]);
    const lines: number[] = [];
    await readJsonLinesLog(log, (_v, line) => lines.push(line));
    assert.deepEqual(lines, [1, 3], "1-based numbers of the non-blank lines");

    const bad = async (third: string, message: RegExp) => {
      await Deno.writeTextFile(log, `${JSON.stringify(ok)}\n${JSON.stringify(ok)}\n${third}\n`);
      await assert.rejects(
        readEmbedLimitLog(log),
        (e) => e instanceof KitError && message.test(e.message) && e.message.includes(`${log}:3`),
      );
    };
    await bad("{not json", /not valid JSON/);
    await bad("[1, 2]", /expected a JSON object/);
    await bad(JSON.stringify({ ...ok, embedded: 11 }), /embedded ≤ requested/);
    await bad(JSON.stringify({ ...ok, seconds: "1" }), /expected \{notebook, encoder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
