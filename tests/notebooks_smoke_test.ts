/**
 * Every notebook, executed end to end in smoke mode (tiny sizes) by the same runner as
 * `./kit task reproduce`, one test per notebook. Artifacts go to a temp folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifactDisplayProblems, buildReport } from "../lib/report/mod.ts";
import { listNotebooks } from "../lib/runner/run_notebooks.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const notebooks = await listNotebooks(join(PROJECT_ROOT, "notebooks"));

Deno.test("the kit ships its notebooks", () => {
  assert.ok(notebooks.length > 0, "no notebooks/NN_*.ipynb found");
});

const artifactDir = await Deno.makeTempDir({ prefix: "kit-smoke-" });
const ran = new Set<string>();
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
      assert.ok(
        code.every((c: { execution_count: number | null }) => c.execution_count !== null),
        "every code cell ran",
      );
      await checkNoCheckoutPaths(join(artifactDir, "notebooks", name));
      await checkQuietNotices(join(artifactDir, "notebooks", name));
      await checkNoCheckoutPaths(join(artifactDir, "report", name.replace(/\.ipynb$/, ".html")));
      if (nn === "05") await checkBeforeOnlyAgrees(artifactDir);
      ran.add(name);
    },
  });
}

Deno.test({
  name: "every artifact of the smoke run is displayed in the cell the report links to",
  sanitizeResources: false,
  fn: async () => {
    const missing = notebooks.filter((n) => !ran.has(n));
    assert.deepEqual(missing, [], "run after every notebook's smoke test (they passed)");
    const outDir = join(artifactDir, "report-display-check");
    const report = await buildReport({ artifactDir, outDir });
    assert.ok(report.artifacts.length >= 15, `${report.artifacts.length} artifacts in the index`);
    assert.deepEqual(await artifactDisplayProblems(report, join(artifactDir, "notebooks")), []);
  },
});

/**
 * What a student reads matches their own clone: the executed notebook and its report page print
 * no absolute path of this checkout (tools/nbrun.py makes them relative to the project, or ~).
 */
async function checkNoCheckoutPaths(path: string): Promise<void> {
  const text = await Deno.readTextFile(path);
  for (const root of new Set([PROJECT_ROOT, Deno.realPathSync(PROJECT_ROOT)])) {
    const at = text.indexOf(root);
    assert.equal(
      at,
      -1,
      `${path} prints the checkout's path: …${text.slice(Math.max(0, at - 80), at + 120)}…`,
    );
  }
}

/**
 * Live output stays quiet (issue 23): no cache-hit notices (`kind: cached result …`, progress
 * bars of fully cached work) in any cell without KIT_VERBOSE, and no stderr stream in a cell
 * whose work all came from caches.
 */
async function checkQuietNotices(path: string): Promise<void> {
  const nb = JSON.parse(await Deno.readTextFile(path));
  const noisy: string[] = [];
  nb.cells.forEach(
    (c: { outputs?: { output_type: string; text?: string | string[] }[] }, i: number) => {
      for (const o of c.outputs ?? []) {
        if (o.output_type !== "stream") continue;
        const text = Array.isArray(o.text) ? o.text.join("") : o.text ?? "";
        for (const line of text.split("\n")) {
          if (/: cached result |\(all done before, cached\)/.test(line)) {
            noisy.push(`cell ${i}: ${line}`);
          }
        }
      }
    },
  );
  assert.deepEqual(noisy, [], `${path}: cache notices in live output`);
}

/**
 * Issue 8's acceptance: the identity-head ("Before") numbers of notebook 05 equal those of
 * `deno task align --before-only` on the embeddings the notebook wrote, with the same folds.
 */
async function checkBeforeOnlyAgrees(dir: string): Promise<void> {
  const out = join(dir, "align-before-only");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(PROJECT_ROOT, "tools", "align.ts"),
      "--emb",
      join(dir, "d_embeddings"),
      "--out",
      out,
      "--before-only",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  for (const id of ["D-T1", "D-T2", "D-T3", "D-T4", "D-T5", "D-T6"]) {
    const nb = JSON.parse(await Deno.readTextFile(join(dir, `${id}.json`)));
    const cli = JSON.parse(await Deno.readTextFile(join(out, `${id}.json`)));
    assert.equal(nb.rows.length, cli.rows.length, id);
    nb.rows.forEach((row: Record<string, unknown>, i: number) => {
      const identity = Object.keys(row).filter((k) => /(^|_)identity(_|$)/.test(k));
      assert.ok(identity.length > 0, `${id}: no identity columns`);
      for (const k of identity) assert.equal(cli.rows[i][k], row[k], `${id} row ${i} ${k}`);
    });
  }
}
