/**
 * Writes notebooks/00_dataset_build.ipynb (run: `./kit run -A tools/notebooks/00_dataset_build.ts [OUT]`).
 * The notebook is thin: markdown, a few calls into lib/dataset_build, then DATA-T1 and DATA-F1.
 */
import { writeNotebook } from "./write_notebook.ts";

const cells = [
  { md: `# 00 · Dataset build (DATA-T1)

Both papers start from images with captions in several languages, keyed by image, so that "the same
picture" can pull captions of different languages together:

- **K** uses MS-COCO 2017 captions machine-translated into es, ja, hi (and Quechua): records
  \`{image_id, captions: {en, es, ja, hi, qu?}}\`.
- **D** uses WIT v1 reference captions in nine languages (ar de en es fr it ja pt zh), keeps only images
  with a caption in **all** nine, keys each image by \`sha256(image_url)[:20]\` and sorts by key.

The **mini profile** uses real, public, human-written data instead: the **Tux Paint stamps** (Debian
package \`tuxpaint-stamps-default\`, GPL-2): ~950 photo cut-outs and drawings, each with a description in up
to ~77 locales (line 1 English, then \`LANG.utf8=text\` lines; \`zh_CN\` is read as \`zh\`; \`pt\`/\`pt_BR\`,
\`en_GB\`, \`ca@valencia\` stay distinct). The 51 CC-licensed COCO images of the mirror could be added as an
English-only source (\`buildMiniDataset({ includeCoco: true })\`); the mini dataset here does **not** add
them, so that every image has multilingual captions.

What the build does (all in \`lib/dataset_build\`): load the sources, pair each description with its
image (\`.png\`, else \`.svg\`), decode and validate every image (HTML/JSON payloads, empty and truncated
files are rejected with a reason; SVG is rasterised; transparency composited on white), resize to 64×64
RGB, drop byte-identical duplicates, split train/val/test with a seeded hash ranking (seed 7, 80/10/10),
and write WebDataset-style tar shards (\`<key>.png\` + \`<key>.json\` per sample) with a \`manifest.json\`
holding every shard's sha256. The folder is \`.cache/datasets/<profile>/<hash of config and inputs>/\`: a
rerun changes nothing, and a killed build completes on rerun.` },
  { code: `import { kitConfig } from "../lib/config/mod.ts";
import { buildMiniDataset, dataT1Rows, captionLengthFigure, readSampleIndex, readShard, MINI_LANGUAGES } from "../lib/dataset_build/mod.ts";
import { writeFigureArtifact, writeTableArtifact } from "../lib/artifacts/mod.ts";

const cfg = kitConfig();
const result = await buildMiniDataset();
const m = result.manifest;
console.log(\`\${result.status} in \${result.seconds.toFixed(1)} s: \${m.samples.count} images, \${m.shards.length} shards\`);
console.log(\`folder: \${result.dir}\`);
console.log(\`partitions: \${JSON.stringify(m.partitions)}\${cfg.smoke ? "  (smoke run: first 60 stamps only)" : ""}\`);` },
  { md: `### A few samples

Each sample is one image with its captions; here the first shard's first eight, with four of their
languages (K's).` },
  { code: `const shard = await readShard(\`\${result.dir}/\${m.shards[0]!.name}\`);
const cards = shard.slice(0, 8).map((s) => {
  const b64 = btoa(String.fromCharCode(...s.png));
  const caps = ["en", "es", "ja", "hi"].map((l) => \`<div><b>\${l}</b> \${s.record.captions[l]?.[0] ?? "—"}</div>\`).join("");
  return \`<div style="display:inline-block;width:180px;vertical-align:top;margin:4px;font-size:12px">
    <img src="data:image/png;base64,\${b64}" width="64" height="64" style="image-rendering:pixelated"/>
    <div style="color:#666">\${s.record.sourceId}</div>\${caps}</div>\`;
});
await Deno.jupyter.display({ "text/html": cards.join("") }, { raw: true });` },
  { md: `### Rejected and skipped items

Nothing is dropped silently: every description without an image, undecodable or duplicate image and
malformed description line is listed with its file (and line) and reason in \`rejects.md\` /
\`rejects.json\` beside the shards. Tux Paint's pre-mirrored \`*_mirror.png\` copies are *skipped* (they are
the same stamp flipped), not rejected.` },
  { code: `const md = await Deno.readTextFile(result.rejects.markdown);
console.log(\`full report: \${result.rejects.markdown}\`);
await Deno.jupyter.md\`\${md.split("\\n## ")[0]}\`;` },
  { md: `### DATA-T1: what the dataset holds

Images and captions in total, per partition and per language (the ten languages of the two papers
first, then every other locale), the sizes of the language intersections the papers need (K: en ∩ es ∩ ja
∩ hi; D: its nine), and rejected/skipped items by reason. The tests recount these numbers
independently from the \`.txt\` files.` },
  { code: `await writeTableArtifact({
  id: "DATA-T1",
  title: "Mini dataset (Tux Paint stamps): images, captions per language, intersections, rejects",
  rows: dataT1Rows(m),
  columns: ["section", "item", "count", "captions"],
  caption: "count = images (dataset, source, partition, language, intersection rows) or items (rejected/skipped rows).",
  seeds: { partition: m.config.partition ? (m.config.partition as { seed: number }).seed : 7 },
  inputs: { dataset: m.configHash, ...Object.fromEntries(m.inputs.map((i) => [\`\${i.source}.fingerprint\`, i.fingerprint])) },
  notes: [
    "Mini profile: human-written Tux Paint stamp descriptions stand in for K's machine-translated COCO captions and D's WIT captions.",
    "zh = Tux Paint's zh_CN (simplified Chinese); zh_TW is listed separately. Duplicate images (same bytes) keep the first by key.",
  ],
});` },
  { md: `### Caption length by language

Length in characters (Unicode code points), so that Japanese and Chinese, written without spaces,
compare with the others. Tux Paint descriptions are short noun phrases (“A badger.”), much shorter than
COCO or WIT captions — one of the ways the mini profile differs from the papers' data.` },
  { code: `const samples = await readSampleIndex(result.dir);
await writeFigureArtifact({
  id: "DATA-F1",
  title: "Caption length by language (mini dataset)",
  figure: captionLengthFigure(samples, { languages: MINI_LANGUAGES }),
  caption: "Box plot per language of caption lengths in characters, over all images of the mini dataset.",
  inputs: { dataset: m.configHash },
});` },
  { md: `### Paper profile

With \`--profile paper\` this cell builds K's COCO set and D's WIT set from the files you downloaded
(\`./kit task fetch mscoco-2017 wit-v1\`; WIT images are fetched from each record's URL with
\`downloadWitImages\`). Without them it says what is missing and where to put it.` },
  { code: `import { buildDataset, D_WIT_BUILD, paperCocoSource, paperWitSource, witSource } from "../lib/dataset_build/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

if (cfg.profile !== "paper") {
  console.log("mini profile: the paper-profile datasets (MS-COCO 2017 for K, WIT v1 for D) are not built here.");
} else {
  for (const [what, make] of [["K: MS-COCO 2017 captions", () => paperCocoSource()], ["D: WIT v1, nine languages", () => paperWitSource()]] as const) {
    try {
      const source = await make();
      const r = await buildDataset({
        sources: [source],
        profile: "paper",
        ...(what.startsWith("D") ? D_WIT_BUILD : {}),
      });
      console.log(\`\${what}: \${r.manifest.samples.count} images in \${r.dir}\`);
    } catch (err) {
      if (!(err instanceof KitError)) throw err;
      console.log(\`\${what}: not available.\\n\${err.describe()}\`);
    }
  }
}` },
];

await writeNotebook("00_dataset_build", cells);
