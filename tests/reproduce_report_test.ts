import assert from "node:assert/strict";
import { join } from "node:path";
import { notebookJson } from "../lib/runner/notebook_json.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

async function reproduce(args: string[], artifactDir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "reproduce.ts"), ...args],
    env: { KIT_ARTIFACT_DIR: artifactDir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("reproduce builds the HTML report after the notebooks, also when one fails; --no-report skips it", async () => {
  await Deno.mkdir(join(PROJECT_ROOT, ".cache"), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: join(PROJECT_ROOT, ".cache"),
    prefix: "test-notebooks-",
  });
  const out = await Deno.makeTempDir({ prefix: "kit-artifacts-" });
  try {
    await Deno.writeTextFile(
      join(dir, "00_ok.ipynb"),
      notebookJson([{ md: "# OK\n\nfine" }, { code: "1 + 1" }]),
    );
    await Deno.writeTextFile(
      join(dir, "01_fail.ipynb"),
      notebookJson([{ md: "# Fail" }, { code: 'throw new Error("planted")' }]),
    );
    const r = await reproduce(["--notebooks", dir, "--smoke"], out);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /report: .*report\/index\.html/);
    const index = await Deno.readTextFile(join(out, "report", "index.html"));
    assert.match(index, /00_ok\.html/);
    assert.match(index, /01_fail\.html[^\n]*stopped with an error/);
    assert.match(await Deno.readTextFile(join(out, "report", "01_fail.html")), /planted/);

    await Deno.remove(join(out, "report"), { recursive: true });
    const ok = await reproduce(["--notebooks", dir, "--smoke", "--only", "00"], out);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((await Deno.stat(join(out, "report", "00_ok.html"))).isFile);
    await Deno.remove(join(out, "report"), { recursive: true });
    const none = await reproduce(
      ["--notebooks", dir, "--smoke", "--only", "00", "--no-report"],
      out,
    );
    assert.equal(none.code, 0, none.stderr);
    await assert.rejects(Deno.stat(join(out, "report")));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});
