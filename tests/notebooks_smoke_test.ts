/**
 * Every notebook, executed end to end in smoke mode (tiny sizes) by the same runner as
 * `./kit task reproduce`, one test per notebook. Artifacts go to a temp folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listNotebooks } from "../lib/runner/run_notebooks.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const notebooks = await listNotebooks(join(PROJECT_ROOT, "notebooks"));

Deno.test("the kit ships its notebooks", () => {
  assert.ok(notebooks.length > 0, "no notebooks/NN_*.ipynb found");
});

const artifactDir = await Deno.makeTempDir({ prefix: "kit-smoke-" });
for (const name of notebooks) {
  const nn = name.slice(0, 2);
  Deno.test({
    name: `notebook ${name} runs end to end in smoke mode`,
    sanitizeResources: false,
    fn: async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(PROJECT_ROOT, "tools", "reproduce.ts"), "--smoke", "--only", nn],
        env: { KIT_ARTIFACT_DIR: artifactDir, KIT_QUIET: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `reproduce --smoke --only ${nn} failed:\n${text.slice(-3000)}`);
      const executed = JSON.parse(await Deno.readTextFile(join(artifactDir, "notebooks", name)));
      const code = executed.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
      assert.ok(code.every((c: { execution_count: number | null }) => c.execution_count !== null), "every code cell ran");
    },
  });
}
