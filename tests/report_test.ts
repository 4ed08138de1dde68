import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildReport,
  cellArtifactIds,
  PlotCounter,
  renderInline,
  renderMarkdown,
  renderOutput,
} from "../lib/report/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { writeSyntheticRun } from "./report_fixture.ts";
import { deviationsHtml } from "../lib/report/build_report.ts";
import { DEVIATIONS } from "../lib/deviations/mod.ts";

Deno.test("renderMarkdown() renders headings, lists, tables, code, quotes and rules", () => {
  const html = renderMarkdown([
    "## Title *x*",
    "",
    "Text with **bold**, _it_, `a<b>` and snake_case_name.",
    "",
    "- one",
    "- two",
    "  - nested",
    "- three",
    "",
    "3. c",
    "4. d",
    "",
    "| a | b |",
    "|:--|--:|",
    "| 1 | x \\| y |",
    "",
    "> quoted",
    "",
    "```ts",
    "if (a < b) {}",
    "```",
    "",
    "---",
  ].join("\n"));
  assert.match(html, /<h2>Title <em>x<\/em><\/h2>/);
  assert.match(
    html,
    /<strong>bold<\/strong>, <em>it<\/em>, <code>a&lt;b&gt;<\/code> and snake_case_name\./,
  );
  assert.match(
    html,
    /<ul>\n<li>one<\/li>\n<li>two\n<ul>\n<li>nested<\/li>\n<\/ul>\n?<\/li>\n<li>three<\/li>\n<\/ul>/,
  );
  assert.match(html, /<ol start="3">\n<li>c<\/li>\n<li>d<\/li>\n<\/ol>/);
  assert.match(html, /<th style="text-align:left">a<\/th>\n<th style="text-align:right">b<\/th>/);
  assert.match(html, /<td style="text-align:right">x \| y<\/td>/);
  assert.match(html, /<blockquote>\n<p>quoted<\/p>\n<\/blockquote>/);
  assert.match(html, /<pre><code class="language-ts">if \(a &lt; b\) \{\}\n<\/code><\/pre>/);
  assert.match(html, /<hr>/);
});

Deno.test("renderInline() escapes HTML but keeps safe tags, and neutralises unsafe links", () => {
  assert.equal(
    renderInline("<script>x</script> <sub>sig</sub>"),
    "&lt;script&gt;x&lt;/script&gt; <sub>sig</sub>",
  );
  assert.equal(
    renderInline("[a](https://x.org/?a=1&b=2)"),
    '<a href="https://x.org/?a=1&amp;b=2">a</a>',
  );
  assert.equal(renderInline("[a](javascript:alert)"), '<a href="#">a</a>');
  assert.equal(renderInline("[f](../D-T1.md)"), '<a href="../D-T1.md">f</a>');
  assert.equal(renderInline("![alt](x.png)"), '<img src="x.png" alt="alt">');
  assert.equal(renderInline("a \\*b\\* c"), "a *b* c");
  // a link whose target has parentheses (the hand renderer cut it at the first ")")
  assert.equal(
    renderInline("[w](https://en.wikipedia.org/wiki/Foo_(bar))"),
    '<a href="https://en.wikipedia.org/wiki/Foo_(bar)">w</a>',
  );
});

Deno.test("renderOutput() shows each MIME type, streams and errors", () => {
  const plots = new PlotCounter();
  const fig = renderOutput({
    output_type: "display_data",
    data: {
      "application/vnd.plotly.v1+json": { data: [{ x: [1], name: "</script><b>" }], layout: {} },
      "image/png": "AAAA",
    },
  }, plots);
  assert.match(
    fig,
    /^<div class="plotly-figure" id="plot-1"><\/div>\n<script type="application\/json" id="plot-1-spec">/,
  );
  assert.ok(!fig.includes("</script><b>"), "the JSON cannot close the script element");
  assert.ok(!fig.includes("data:image/png"), "the interactive figure wins over its PNG");
  assert.match(
    renderOutput(
      { output_type: "execute_result", data: { "text/plain": "\x1b[33m2\x1b[39m" } },
      plots,
    ),
    /<pre class="text-output">2<\/pre>/,
  );
  assert.match(
    renderOutput({ output_type: "display_data", data: { "image/png": "AA\nBB" } }, plots),
    /src="data:image\/png;base64,AABB"/,
  );
  assert.match(
    renderOutput({ output_type: "display_data", data: { "text/markdown": ["# h\n", "x"] } }, plots),
    /<h1>h<\/h1>/,
  );
  assert.match(
    renderOutput({ output_type: "stream", name: "stderr", text: ["a<b\n"] }, plots),
    /<pre class="stream stderr">a&lt;b\n<\/pre>/,
  );
  assert.equal(renderOutput({ output_type: "stream", name: "stdout", text: "" }, plots), "");
  assert.match(
    renderOutput({
      output_type: "error",
      ename: "Error",
      evalue: "x<y",
      traceback: ["\x1b[31mError\x1b[0m"],
    }, plots),
    /<strong>Error<\/strong>: x&lt;y<pre>Error<\/pre>/,
  );
  assert.match(
    renderOutput({ output_type: "display_data", data: { "application/x-odd": 1 } }, plots),
    /not shown/,
  );
  assert.equal(plots.count, 1);
});

Deno.test("cellArtifactIds() finds artifacts by output, code and Markdown heading", () => {
  assert.deepEqual(
    cellArtifactIds({
      cell_type: "code",
      source:
        'await writeTableArtifact({ id: "K-T1", rows });\nawait writeFigureArtifact({ id: "K-F1" })',
      outputs: [
        {
          output_type: "execute_result",
          data: { "text/markdown": "### K-T1: Bitext\n", "text/plain": "x" },
        },
        {
          output_type: "execute_result",
          data: { "application/vnd.plotly.v1+json": {}, "text/plain": "K-F1: t-SNE (K-F1.json)" },
        },
      ],
    }),
    { output: ["K-T1", "K-F1"], code: ["K-T1", "K-F1"], markdown: [] },
  );
  assert.deepEqual(
    cellArtifactIds({ cell_type: "markdown", source: "### D-T6: diagnostics\ntext" }).markdown,
    ["D-T6"],
  );
});

Deno.test("buildReport() writes an index linking each artifact to its cell and files, and one page per notebook", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-report-" });
  try {
    await writeSyntheticRun(dir, { plotly: false });
    const r = await buildReport({ artifactDir: dir });
    assert.equal(r.indexPath, join(dir, "report", "index.html"));
    assert.deepEqual(r.pages.map((p) => [p.notebook, p.failed]), [["00_intro.ipynb", false], [
      "01_broken.ipynb",
      true,
    ]]);
    // SPEC order: D-T1, D-F1, CLAIMS. D-T1's output cell (2) wins over its Markdown heading (cell 1).
    assert.deepEqual(r.artifacts.map((a) => [a.id, a.cell?.anchor ?? null]), [["D-T1", "cell-2"], [
      "D-F1",
      "cell-3",
    ], ["CLAIMS", null]]);
    const index = await Deno.readTextFile(r.indexPath);
    assert.match(index, /<a href="00_intro\.html#cell-2">00_intro, cell 2<\/a>/);
    assert.match(
      index,
      /<a href="\.\.\/D-T1\.json">json<\/a> <a href="\.\.\/D-T1\.md">md<\/a> <a href="\.\.\/D-T1\.csv">csv<\/a>/,
    );
    assert.match(index, /stopped with an error/);
    assert.match(index, /profile:mini\|smoke:1/);
    assert.match(index, /<h2>Deviations from the authors' code<\/h2>/);
    const page = await Deno.readTextFile(join(dir, "report", "00_intro.html"));
    for (let i = 0; i < 5; i++) assert.ok(page.includes(`id="cell-${i}"`), `anchor cell-${i}`);
    assert.match(page, /<script src="\.\.\/plotly\.min\.js"><\/script>/);
    assert.doesNotMatch(page + index, /<script src="https?:/, "no CDN");
    assert.match(page, /<div class="plotly-figure" id="plot-1">/);
    assert.match(page, /artifact <strong>D-T1<\/strong>: <a href="\.\.\/D-T1\.json">/);
    assert.match(page, /<pre class="stream stdout">3 folds done/);
    assert.match(page, /<svg xmlns/);
    // The plotly bundle was copied beside the artifacts (none was there).
    assert.ok((await Deno.stat(join(dir, "plotly.min.js"))).size > 100_000);
    const broken = await Deno.readTextFile(join(dir, "report", "01_broken.html"));
    assert.match(broken, /<strong>Error<\/strong>: planted &lt;failure&gt;/);
    assert.doesNotMatch(broken, /<script>alert/);
    assert.doesNotMatch(broken, /plotly\.min\.js/, "no plotly on a page without figures");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildReport() says what to run when there is nothing to report, and names a broken notebook", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      buildReport({ artifactDir: dir }),
      (e) => e instanceof KitError && /no executed notebooks/.test(e.message),
    );
    await Deno.mkdir(join(dir, "notebooks"));
    await Deno.writeTextFile(join(dir, "notebooks", "00_x.ipynb"), "{");
    await assert.rejects(buildReport({ artifactDir: dir }), /00_x\.ipynb: not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deviationsHtml() lists each deviation with escaped text and links the artifacts this run wrote", () => {
  const html = deviationsHtml([{
    id: "k-x",
    paper: "K",
    topic: "a <b> topic",
    authors: "their code",
    kit: "our code",
    reason: "because",
    profiles: ["mini"],
    affects: ["K-T1", "K-T2"],
  }], new Set(["K-T1"]));
  assert.match(html, /<h2>Deviations from the authors' code<\/h2>/);
  assert.match(html, /<tr id="deviation-k-x"><td>K<\/td><td>a &lt;b&gt; topic<\/td>/);
  assert.match(html, /<a href="#artifact-K-T1">K-T1<\/a>, K-T2<\/td>/);
  assert.equal(deviationsHtml([], new Set()), "");
  // the real list is on the index page
  assert.match(deviationsHtml(DEVIATIONS, new Set()), /t-SNE settings/);
});
