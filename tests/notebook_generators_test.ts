/**
 * Every committed notebook is build output of its percent-format source: notebooks/<name>.ts,
 * built by `./kit task notebooks` (tools/build_notebooks.ts) into a temporary folder, must
 * reproduce notebooks/<name>.ipynb byte for byte. And the reader of those sources
 * (lib/runner/percent_notebook.ts) keeps every line, and names the file and line of a bad one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  percentNotebookCells,
  percentNotebookSource,
  PercentSourceError,
} from "../lib/runner/percent_notebook.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const notebooksDir = join(PROJECT_ROOT, "notebooks");
const notebookNames = [...Deno.readDirSync(notebooksDir)]
  .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
  .map((e) => e.name.replace(/\.ipynb$/, ""))
  .sort();
const sourceNames = [...Deno.readDirSync(notebooksDir)]
  .filter((e) => e.isFile && /^\d\d_.*\.ts$/.test(e.name))
  .map((e) => e.name.replace(/\.ts$/, ""))
  .sort();

Deno.test("notebook sources: every notebook has its source notebooks/<name>.ts and vice versa", () => {
  assert.deepEqual(sourceNames, notebookNames, "notebooks/NN_*.ts and notebooks/NN_*.ipynb differ");
  assert.ok(notebookNames.length >= 6, `only ${notebookNames.length} notebooks found`);
});

Deno.test("notebook sources: ./kit task notebooks rebuilds each committed notebook byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-nbgen-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join("tools", "build_notebooks.ts"), "--out", dir],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    for (const name of notebookNames) {
      const regenerated = await Deno.readTextFile(join(dir, `${name}.ipynb`));
      const committed = await Deno.readTextFile(join(notebooksDir, `${name}.ipynb`));
      assert.ok(
        regenerated === committed,
        `notebooks/${name}.ipynb differs from what notebooks/${name}.ts builds: run ./kit task notebooks`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebook sources: --check passes on the tree and names a stale notebook", async () => {
  const check = (dir: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join("tools", "build_notebooks.ts"), "--check", "--notebooks", dir],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const ok = await check(notebooksDir);
  assert.equal(ok.code, 0, text(ok.stderr));
  assert.match(
    text(ok.stdout),
    new RegExp(`${notebookNames.length} notebooks match their sources`),
  );
  const dir = await Deno.makeTempDir({ prefix: "kit-nbcheck-" });
  try {
    const name = notebookNames[0]!;
    const source = await Deno.readTextFile(join(notebooksDir, `${name}.ts`));
    await Deno.writeTextFile(join(dir, `${name}.ts`), source.replace("\n// %%\n", "\n// %%\nx;\n"));
    await Deno.copyFile(join(notebooksDir, `${name}.ipynb`), join(dir, `${name}.ipynb`));
    const stale = await check(dir);
    assert.equal(stale.code, 1);
    assert.match(text(stale.stderr), new RegExp(`differ from their sources.*${name}\\.ipynb`));
    // a source that is not percent format: one line naming the file and line, no stack
    await Deno.writeTextFile(join(dir, "99_bad.ts"), "// %% [markdown]\nprose without // \n");
    const bad = await check(dir);
    assert.equal(bad.code, 1);
    assert.match(text(bad.stderr), /99_bad\.ts:2: a markdown cell's lines start with "\/\/ "/);
    assert.doesNotMatch(text(bad.stderr), /internal error|\bat file:/);
    assert.equal(
      await Deno.readTextFile(join(dir, `${name}.ipynb`)),
      await Deno.readTextFile(join(notebooksDir, `${name}.ipynb`)),
      "--check wrote",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("percentNotebookCells: preamble dropped, cells kept line for line, round trip", () => {
  const source = [
    "// header",
    '/// <reference lib="deno.unstable" />',
    "",
    "// %% [markdown]",
    "// # Title",
    "//",
    "//   indented `code` and a // comment",
    "",
    "// %%",
    "const a = 1;",
    "",
    "// a comment inside code stays code",
    "console.log(a);",
    "",
    "",
    "// %% [markdown]",
    "// last",
    "",
  ].join("\n");
  const cells = percentNotebookCells(source, "demo.ts");
  assert.deepEqual(cells, [
    { md: "# Title\n\n  indented `code` and a // comment" },
    { code: "const a = 1;\n\n// a comment inside code stays code\nconsole.log(a);" },
    { md: "last" },
  ]);
  assert.deepEqual(percentNotebookCells(percentNotebookSource(cells, "// header"), "x.ts"), cells);
});

Deno.test("percentNotebookCells: a bad source is an error naming the file and line", () => {
  const bad: [string, RegExp][] = [
    ["// %% [markdown]\nprose without its prefix\n", /^nb\.ts:2: a markdown cell's lines start/],
    ["// %% [markdown]\n// one\n\n// two\n", /^nb\.ts:3: a blank line inside a markdown cell/],
    ["// %% [raw]\n// x\n", /^nb\.ts:1: expected "\/\/ %%" or "\/\/ %% \[markdown\]"/],
    ["// %%\nconst a = 1;\n\n// %%\n\n// %%\nx;\n", /^nb\.ts:4: empty cell/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => percentNotebookCells(text, "nb.ts"), (err: unknown) => {
      assert.ok(err instanceof PercentSourceError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
});
