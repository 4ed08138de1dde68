/**
 * Long work inside a notebook shows progress: a ProgressBar in a cell of the Deno kernel reaches
 * the executed notebook (stderr stream) and, live, the runner's stderr (what `./kit task
 * reproduce` prints).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { notebookJson } from "../lib/runner/notebook_json.ts";
import { jupyterEnv, KERNEL_NAME } from "../lib/setup/kernelspec.ts";
import { DEBIAN_PYTHON } from "../lib/setup/system_packages.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

Deno.test({
  name:
    "ProgressBar in a notebook cell is shown in the executed notebook and on the runner's stderr",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-progress-" });
    try {
      const progress = pathToFileURL(join(PROJECT_ROOT, "lib", "util", "progress.ts")).href;
      await Deno.writeTextFile(
        join(dir, "p.ipynb"),
        notebookJson([{
          code: `import { ProgressBar } from "${progress}";
const bar = new ProgressBar("demo-work", 3, { silent: false, logEverySeconds: 0, unit: "items" });
for (let i = 0; i < 3; i++) { bar.tick(); await new Promise((r) => setTimeout(r, 5)); }
bar.done();`,
        }]),
      );
      const out = await new Deno.Command(DEBIAN_PYTHON, {
        args: [
          join(PROJECT_ROOT, "tools", "nbrun.py"),
          join(dir, "p.ipynb"),
          join(dir, "out.ipynb"),
          KERNEL_NAME,
          "120",
        ],
        env: { ...Deno.env.toObject(), ...jupyterEnv(), KIT_QUIET: "0" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.match(
        stderr,
        /demo-work \[#+\] 3\/3 items/,
        "no progress line on the runner's stderr",
      );
      const nb = JSON.parse(await Deno.readTextFile(join(dir, "out.ipynb")));
      const streams = nb.cells[0].outputs
        .filter((o: { output_type: string; name?: string }) =>
          o.output_type === "stream" && o.name === "stderr"
        )
        .map((o: { text: string | string[] }) => (Array.isArray(o.text) ? o.text.join("") : o.text))
        .join("");
      assert.match(
        streams,
        /demo-work \[#+\] 3\/3 items .*ETA/,
        "no progress line in the executed notebook",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
