/**
 * Every committed notebook is bound to the code that writes it: tools/notebooks/<name>.ts,
 * run into a temporary file, must reproduce notebooks/<name>.ipynb byte for byte.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const notebookNames = [...Deno.readDirSync(join(PROJECT_ROOT, "notebooks"))]
  .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
  .map((e) => e.name.replace(/\.ipynb$/, ""))
  .sort();

Deno.test("notebook generators: every notebook has a generator in tools/notebooks", () => {
  const missing = notebookNames.filter((n) => {
    try {
      Deno.statSync(join(PROJECT_ROOT, "tools", "notebooks", `${n}.ts`));
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(
    missing,
    [],
    `notebooks without tools/notebooks/<name>.ts: ${missing.join(", ")}`,
  );
  assert.ok(notebookNames.length >= 6, `only ${notebookNames.length} notebooks found`);
});

Deno.test("notebook generators: each generator reproduces its committed notebook byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-nbgen-" });
  try {
    for (const name of notebookNames) {
      const out = join(dir, `${name}.ipynb`);
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join("tools", "notebooks", `${name}.ts`), out],
        cwd: PROJECT_ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, `${name}: ${new TextDecoder().decode(run.stderr)}`);
      const regenerated = await Deno.readTextFile(out);
      const committed = await Deno.readTextFile(join(PROJECT_ROOT, "notebooks", `${name}.ipynb`));
      assert.ok(
        regenerated === committed,
        `notebooks/${name}.ipynb differs from what tools/notebooks/${name}.ts writes: rerun the generator`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
