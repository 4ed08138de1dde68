import assert from "node:assert/strict";
import { join } from "node:path";
import {
  chromiumPath,
  closeBrowser,
  writeFigureArtifact,
  writeTableArtifact,
} from "../lib/artifacts/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { PROVENANCE_PACKAGES } from "../lib/artifacts/provenance.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { KitError } from "../lib/util/kit_error.ts";

const display = Symbol.for("Jupyter.display");

Deno.test("writeTableArtifact() writes json with provenance, md, tex and csv, and displays as a table", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const rows = [{ language: "en", "R@1": 0.51234, n: 554 }, {
    language: "es",
    "R@1": 0.25,
    n: 553,
  }];
  const t = await writeTableArtifact({
    id: "TEST-T1",
    title: "t2i R@1",
    rows,
    formats: { "R@1": 3 },
    seeds: { fold: 7 },
    outDir: dir,
    notes: ["a note"],
  });
  const json = JSON.parse(await Deno.readTextFile(join(dir, "TEST-T1.json")));
  assert.deepEqual(json.columns, ["language", "R@1", "n"]);
  assert.deepEqual(json.rows[0], { language: "en", "R@1": 0.51234, n: 554 });
  for (const k of ["profile", "seeds", "data", "versions", "backend", "git", "signature"]) {
    assert.ok(k in json.provenance, k);
  }
  assert.equal(json.provenance.backend.name, "wasm");
  assert.deepEqual(json.provenance.seeds, { fold: 7 });
  const lock = JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "package-lock.json")));
  for (const name of PROVENANCE_PACKAGES) {
    assert.equal(
      json.provenance.versions[name],
      lock.packages[`node_modules/${name}`].version,
      `provenance.versions["${name}"]`,
    );
  }
  assert.match(
    json.provenance.signature,
    /^profile:(mini|paper)\|smoke:[01]\|backend:wasm\|seeds:fold=7\|tfjs:4\.22\.0\|git:/,
  );
  const md = await Deno.readTextFile(join(dir, "TEST-T1.md"));
  assert.match(
    md,
    /\| language \| R@1 \| n \|\n\| --- \| ---: \| ---: \|\n\| en \| 0\.512 \| 554 \|/,
  );
  assert.match(md, /> a note/);
  assert.match(
    await Deno.readTextFile(join(dir, "TEST-T1.tex")),
    /\\begin\{tabular\}\{lrr\}[\s\S]*en & 0\.512 & 554 \\\\/,
  );
  assert.equal(
    await Deno.readTextFile(join(dir, "TEST-T1.csv")),
    "language,R@1,n\nen,0.51234,554\nes,0.25,553\n",
  );
  const bundle = (t as unknown as Record<symbol, () => Record<string, string>>)[display]!();
  assert.ok(bundle["text/markdown"]!.includes("| en | 0.512 | 554 |"));
  assert.ok(bundle["text/html"]!.includes("<table"));
  // No temp files left.
  for await (const e of Deno.readDir(dir)) assert.doesNotMatch(e.name, /\.tmp$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeTableArtifact() rejects a bad id and a row missing a column, naming them", async () => {
  await assert.rejects(
    writeTableArtifact({ id: "t1", title: "x", rows: [{ a: 1 }], outDir: "/nonexistent" }),
    KitError,
  );
  await assert.rejects(
    writeTableArtifact({
      id: "TEST-T2",
      title: "x",
      rows: [{ a: 1, b: 2 }, { a: 3 }],
      columns: ["a", "b"],
      outDir: await Deno.makeTempDir(),
    }),
    (e: unknown) => e instanceof KitError && /TEST-T2 row 1: missing column "b"/.test(e.message),
  );
});

Deno.test("writeFigureArtifact() writes json, an offline interactive html, and png/svg", async () => {
  await initBackend("wasm");
  const dir = await Deno.makeTempDir();
  const f = await writeFigureArtifact({
    id: "TEST-F1",
    title: "caption lengths",
    figure: {
      data: [{ type: "box", name: "en", y: [3, 5, 8, 13] }, {
        type: "box",
        name: "es",
        y: [4, 6, 9],
      }],
    },
    outDir: dir,
  });
  const json = JSON.parse(await Deno.readTextFile(join(dir, "TEST-F1.json")));
  assert.equal(json.figure.data.length, 2);
  assert.ok(json.provenance.signature);
  const html = await Deno.readTextFile(join(dir, "TEST-F1.html"));
  assert.match(html, /<script src="plotly\.min\.js"><\/script>/);
  assert.doesNotMatch(html, /https?:\/\/cdn/);
  assert.ok((await Deno.stat(join(dir, "plotly.min.js"))).size > 1e6);
  const bundle = (f as unknown as Record<symbol, () => Record<string, unknown>>)[display]!();
  assert.ok(bundle["application/vnd.plotly.v1+json"]);
  if (chromiumPath()) {
    assert.equal(f.staticWarning, null);
    const png = await Deno.readFile(join(dir, "TEST-F1.png"));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.ok(png.length > 5000, "a non-trivial image");
    assert.match(await Deno.readTextFile(join(dir, "TEST-F1.svg")), /<svg[\s\S]*<\/svg>/);
    assert.equal(typeof bundle["image/png"], "string");
  } else {
    assert.match(f.staticWarning ?? "", /Chromium not found/);
  }
  await closeBrowser();
  await Deno.remove(dir, { recursive: true });
});
