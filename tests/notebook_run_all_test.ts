/**
 * Run All in the classic notebook page stops at the first failing cell (lib/setup/stop_on_error_js.ts):
 * a tiny notebook whose second cell throws, run through `./kit task notebook`'s server and the
 * project's Deno kernel in headless Chromium.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromiumPath, closeBrowser, sharedBrowser } from "../lib/artifacts/chromium_renderer.ts";
import { notebookJson } from "../lib/runner/notebook_json.ts";
import {
  liveArtifactDir,
  notebookServerAvailable,
  startNotebookServer,
} from "../lib/setup/notebook_server.ts";
import { NOT_RUN_MESSAGE, STOP_ON_ERROR_JS } from "../lib/setup/stop_on_error_js.ts";

Deno.test("STOP_ON_ERROR_JS is one AMD module that names the not-run message", () => {
  assert.match(STOP_ON_ERROR_JS, /^\/\/ Written by the image-pivot kit/);
  assert.equal(STOP_ON_ERROR_JS.match(/define\(/g)?.length, 1);
  assert.ok(STOP_ON_ERROR_JS.includes(JSON.stringify(NOT_RUN_MESSAGE)));
});

interface PageCell {
  count: number | string | null;
  text: string;
  errors: string[];
}

Deno.test({
  name:
    "notebook page: Run All stops at the first failing cell (later cells say they were not run, and run fine afterwards); artifacts go to the live folder; saving keeps an unchanged notebook file",
  ignore: !chromiumPath() || !notebookServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-run-all-" });
    const nbPath = join(dir, "tiny.ipynb");
    await Deno.writeTextFile(
      nbPath,
      notebookJson([
        {
          code:
            `const first = 41;\nconsole.log("first ran; artifacts in", Deno.env.get("KIT_ARTIFACT_DIR"));`,
        },
        { code: `throw new Error("boom in cell 2");` },
        { code: `const third = first + 1;\nconsole.log("third ran", third);` },
        { code: `console.log("fourth ran", third);` },
      ]),
    );
    const server = await startNotebookServer({ notebooksDir: dir, smoke: true });
    try {
      const page = await (await sharedBrowser()).newPage();
      try {
        await page.goto(server.url("tiny.ipynb"), { waitUntil: "load" });
        await page.waitForFunction(
          // deno-lint-ignore no-explicit-any
          () => (globalThis as any).Jupyter?.notebook?.kernel?.is_connected?.() === true,
          undefined,
          { timeout: 60_000 },
        );
        const cells = () =>
          page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const nb = (globalThis as any).Jupyter.notebook;
            nb.set_autosave_interval(0);
            // deno-lint-ignore no-explicit-any
            return nb.get_cells().map((c: any) => ({
              count: c.input_prompt_number ?? null,
              // deno-lint-ignore no-explicit-any
              text: c.output_area.outputs.map((o: any) => o.text ?? "").join(""),
              // deno-lint-ignore no-explicit-any
              errors: c.output_area.outputs.filter((o: any) => o.output_type === "error").map((
                // deno-lint-ignore no-explicit-any
                o: any,
              ) => `${o.ename}: ${o.evalue}`),
            }));
          }) as Promise<PageCell[]>;
        const waitFor = async (ok: (c: PageCell[]) => boolean, what: string) => {
          const deadline = Date.now() + 60_000;
          let c = await cells();
          while (!ok(c) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
            c = await cells();
          }
          assert.ok(ok(c), `${what}: ${JSON.stringify(c)}`);
          return c;
        };
        // deno-lint-ignore no-explicit-any
        await page.evaluate(() => (globalThis as any).Jupyter.notebook.execute_all_cells());
        await waitFor((c) => c[1]!.errors.length > 0 && c[3]!.text.includes("not run"), "run all");
        await new Promise((r) => setTimeout(r, 2000)); // a cascade would arrive by now
        let c = await cells();
        assert.match(c[0]!.text, /first ran/);
        assert.deepEqual(c[1]!.errors, ["Error: boom in cell 2"]);
        for (const i of [2, 3]) {
          assert.deepEqual(c[i]!.errors, [], `cell ${i + 1} raised`);
          assert.doesNotMatch(c[i]!.text, /ran/, `cell ${i + 1} ran`);
          assert.ok(
            c[i]!.text.includes(NOT_RUN_MESSAGE.replace("N", String(c[1]!.count))),
            c[i]!.text,
          );
          assert.equal(c[i]!.count, null, `cell ${i + 1} has no execution count`);
        }
        // The queue is not stuck: the cells after the failure run when asked (one by one, then
        // both at once), with the first cell's definitions.
        await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const nb = (globalThis as any).Jupyter.notebook;
          nb.get_cell(2).execute();
          nb.get_cell(3).execute();
        });
        c = await waitFor((c) => /fourth ran/.test(c[3]!.text), "cells 3 and 4 after the failure");
        assert.match(c[2]!.text, /third ran 42/);
        assert.match(c[3]!.text, /fourth ran 42/);
        assert.doesNotMatch(c[3]!.text, /not run/);
        // Interactive runs write to the git-ignored live folder, not figures/<profile>/.
        assert.ok(c[0]!.text.includes(`artifacts in ${liveArtifactDir("mini", true)}`), c[0]!.text);
        // Saving the page (outputs and all) leaves the notebook file byte for byte as it was.
        const before = await Deno.readTextFile(nbPath);
        await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).Jupyter.notebook.save_notebook()
        );
        await page.waitForFunction(
          // deno-lint-ignore no-explicit-any
          () => (globalThis as any).Jupyter.notebook.dirty === false,
          undefined,
          { timeout: 30_000 },
        );
        assert.equal(await Deno.readTextFile(nbPath), before, "saving changed the notebook file");
        // An edited notebook is saved as the user made it.
        await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const nb = (globalThis as any).Jupyter.notebook;
          nb.get_cell(3).set_text('console.log("edited");');
          nb.save_notebook();
        });
        const deadline = Date.now() + 30_000;
        while (!(await Deno.readTextFile(nbPath)).includes("edited") && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.match(await Deno.readTextFile(nbPath), /console\.log\(\\"edited\\"\);/);
      } finally {
        await page.close();
      }
    } finally {
      await closeBrowser();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
