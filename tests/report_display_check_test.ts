import assert from "node:assert/strict";
import { join } from "node:path";
import { artifactDisplayProblems, buildReport } from "../lib/report/mod.ts";
import { writeSyntheticRun } from "./report_fixture.ts";

Deno.test("artifactDisplayProblems() names artifacts no cell displays and links that miss them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-display-check-" });
  try {
    await writeSyntheticRun(dir);
    const nbDir = join(dir, "notebooks");
    let report = await buildReport({ artifactDir: dir });
    // D-T1 and D-F1 are displayed by their cells; CLAIMS is written but shown nowhere.
    assert.deepEqual(await artifactDisplayProblems(report, nbDir), [
      "CLAIMS: no notebook cell shows it",
    ]);
    // The cell that writes D-T1 loses its display: the link falls back to a cell that only
    // writes it, which the check names.
    const path = join(nbDir, "00_intro.ipynb");
    const nb = JSON.parse(await Deno.readTextFile(path));
    nb.cells[2].outputs = nb.cells[2].outputs.filter((o: { output_type: string }) =>
      o.output_type === "stream"
    );
    await Deno.writeTextFile(path, JSON.stringify(nb));
    report = await buildReport({ artifactDir: dir });
    const problems = await artifactDisplayProblems(report, nbDir);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0]!, /^D-T1: 00_intro\.ipynb cell 2 .* does not display it/);
    // A page whose anchor section lacks the figure is caught too.
    const page = report.pages.find((p) => p.notebook === "00_intro.ipynb")!.path;
    const html = await Deno.readTextFile(page);
    await Deno.writeTextFile(page, html.replace(/class="plotly-figure"/g, 'class="gone"'));
    const again = await artifactDisplayProblems(report, nbDir);
    assert.ok(
      again.some((p) => /^D-F1: the report's link .*#cell-3 does not land/.test(p)),
      again.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
