/**
 * A small synthetic run for the report tests: an artifact folder with a table artifact, a
 * figure artifact (JSON only) and two executed notebooks (Markdown, a table output, a plotly
 * output, a PNG, stdout/stderr streams, and one with an error).
 */
import { join } from "node:path";
import { PLOTLY_FILE, plotlyBundlePath } from "../lib/artifacts/chromium_renderer.ts";

/** A 2×2 PNG with four different colours (base64). */
export const TINY_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFElEQVR4nGP4z8DAAMIM////ZwAAHu8E/KPItPcAAAAASUVORK5CYII=";

const FIGURE = {
  data: [{ type: "scatter", mode: "markers", x: [1, 2, 3], y: [3, 1, 2], name: "points" }],
  layout: { title: { text: "D-F1: synthetic" } },
};

const lines = (s: string) => s.split(/(?<=\n)/);

function notebook(cells: unknown[]): string {
  return JSON.stringify({
    cells,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** Writes the synthetic run into `dir` (which becomes the artifact folder). */
export async function writeSyntheticRun(
  dir: string,
  opts: { plotly?: boolean } = {},
): Promise<void> {
  await Deno.mkdir(join(dir, "notebooks"), { recursive: true });
  const tableMd =
    "### D-T1: Text-to-image retrieval\n\n| metric | identity | mlp |\n| --- | ---: | ---: |\n| R@1 | 0.47 | 0.50 |\n";
  await Deno.writeTextFile(
    join(dir, "D-T1.json"),
    JSON.stringify({
      id: "D-T1",
      kind: "table",
      title: "Text-to-image retrieval",
      rows: [{ metric: "R@1" }],
      provenance: { signature: "profile:mini|smoke:1" },
    }),
  );
  await Deno.writeTextFile(join(dir, "D-T1.md"), tableMd);
  await Deno.writeTextFile(join(dir, "D-T1.csv"), "metric\nR@1\n");
  await Deno.writeTextFile(
    join(dir, "D-F1.json"),
    JSON.stringify({ id: "D-F1", kind: "figure", title: "Micro-corrections", figure: FIGURE }),
  );
  await Deno.writeTextFile(
    join(dir, "CLAIMS.json"),
    JSON.stringify({ id: "CLAIMS", kind: "table", title: "Claims", rows: [] }),
  );
  if (opts.plotly !== false) await Deno.copyFile(plotlyBundlePath(), join(dir, PLOTLY_FILE));
  await Deno.writeTextFile(
    join(dir, "notebooks", "00_intro.ipynb"),
    notebook([
      {
        cell_type: "markdown",
        id: "cell-0",
        metadata: {},
        source: lines(
          "# 00 · Intro\n\nSome **bold**, `code` and a [link](https://example.org).\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        ),
      },
      {
        cell_type: "markdown",
        id: "cell-1",
        metadata: {},
        source: "### D-T1: what the table holds",
      },
      {
        cell_type: "code",
        id: "cell-2",
        metadata: {},
        execution_count: 1,
        source: lines(
          'await writeTableArtifact({\n  id: "D-T1",\n  title: "Text-to-image retrieval",\n});',
        ),
        outputs: [
          { output_type: "stream", name: "stdout", text: ["3 folds done\n"] },
          { output_type: "stream", name: "stderr", text: "warning: slow\n" },
          {
            output_type: "execute_result",
            execution_count: 1,
            metadata: {},
            data: {
              "text/html":
                "<h4>D-T1: Text-to-image retrieval</h4><table><tr><td>R@1</td><td>0.47</td></tr></table>",
              "text/markdown": lines(tableMd),
              "text/plain": tableMd,
            },
          },
        ],
      },
      {
        cell_type: "code",
        id: "cell-3",
        metadata: {},
        execution_count: 2,
        source: 'await writeFigureArtifact({ id: "D-F1", title: "Micro-corrections", figure });',
        outputs: [{
          output_type: "execute_result",
          execution_count: 2,
          metadata: {},
          data: {
            "application/vnd.plotly.v1+json": FIGURE,
            "image/png": TINY_PNG,
            "text/plain": "D-F1: Micro-corrections (D-F1.json)",
          },
        }],
      },
      {
        cell_type: "code",
        id: "cell-4",
        metadata: {},
        execution_count: 3,
        source: "1 + 1",
        outputs: [
          {
            output_type: "execute_result",
            execution_count: 3,
            metadata: {},
            data: { "text/plain": "\x1b[33m2\x1b[39m" },
          },
          { output_type: "display_data", metadata: {}, data: { "image/png": TINY_PNG } },
          {
            output_type: "display_data",
            metadata: {},
            data: {
              "image/svg+xml":
                '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="red"/></svg>',
            },
          },
        ],
      },
    ]),
  );
  await Deno.writeTextFile(
    join(dir, "notebooks", "01_broken.ipynb"),
    notebook([
      {
        cell_type: "markdown",
        id: "cell-0",
        metadata: {},
        source: "# 01 · Broken\n\nThis one <script>alert(1)</script> fails.",
      },
      {
        cell_type: "code",
        id: "cell-1",
        metadata: {},
        execution_count: 1,
        source: 'throw new Error("planted")',
        outputs: [{
          output_type: "error",
          ename: "Error",
          evalue: "planted <failure>",
          traceback: ["\x1b[31mError: planted\x1b[0m", "    at <anonymous>:1:7"],
        }],
      },
    ]),
  );
}
