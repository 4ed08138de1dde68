// The source of notebooks/00_dataset_build.ipynb (`./kit task notebooks` builds it).
// Cells: a line `// %% [markdown]` opens prose (lines `// `-prefixed), a line `// %%` code;
// this header is no cell.
// The notebook is thin: markdown, a few calls into lib/dataset_build, then DATA-T1 and DATA-F1.
/// <reference lib="deno.unstable" />

// %% [markdown]
// # 00 · Dataset build (DATA-T1)
//
// Both papers start from images with captions in several languages, keyed by image, so that "the same
// picture" can pull captions of different languages together:
//
// - **K** (Krasner, Lanuzo, Anastasopoulos, ACL 2025, [arXiv:2505.13628](https://arxiv.org/abs/2505.13628))
//   uses MS-COCO 2017 captions machine-translated into es, ja, hi (and Quechua): records
//   `{image_id, captions: {en, es, ja, hi, qu?}}`.
// - **D** (Di Iorio, *Multilingual CLIP Alignment via Image Pivoting*, January 2026) uses WIT v1 reference captions in nine languages (ar de en es fr it ja pt zh), keeps only images
//   with a caption in **all** nine, keys each image by `sha256(image_url)[:20]` and sorts by key.
//
// The **mini profile** uses real, public, human-written data instead, from two sources:
//
// - the **Tux Paint stamps** (Debian package `tuxpaint-stamps-default`, GPL-2): ~950 photo cut-outs and
//   drawings, each with a description in up to ~77 locales (line 1 English, then `LANG.utf8=text` lines;
//   `zh_CN` is read as `zh`; `pt`/`pt_BR`, `en_GB`, `ca@valencia` stay distinct);
// - **emoji with their Unicode CLDR names** (npm `cldr-annotations-full` 48.2.0, Unicode licence v3): every
//   emoji has a human-written short name (`tts`) in ~150 locales, **Quechua (`qu`) included**, and keywords
//   besides. Each emoji is drawn by three open sets, one image per (emoji, set): **Twemoji** 15.0
//   (`@twemoji/svg`, graphics CC-BY 4.0, Twitter, Inc. and contributors), **Noto Emoji** (`@iconify-json/noto`,
//   Apache-2.0, Google) and **Fluent Emoji flat** (`@iconify-json/fluent-emoji-flat`, MIT, Microsoft). The
//   concept id is the emoji's code point sequence without U+FE0F variation selectors (so CLDR's keys and the
//   sets' file names meet); CLDR locales are normalised with the stamps' rules (`pt-PT` → `pt_PT`).
//
// The split is **by concept** (an emoji's three drawings, or one stamp): no drawing of a held-out emoji
// trains anything. The mini split is 50/10/40 (train/val/test, seed 7): the large held-out share gives K's
// in-domain bitext benchmark ~1,000 test concepts and D's item set (val ∪ test, never seen by the frozen
// pair) more than 1,000 concepts in all nine of D's languages. The 51 CC-licensed COCO images of the mirror
// could be added as an English-only source (`buildMiniDataset({ includeCoco: true })`); the mini dataset
// here does **not** add them, so that every image has multilingual captions.
//
// What the build does (all in `lib/dataset_build`): load the sources, pair each description with its
// image (`.png`, else `.svg`), decode and validate every image (HTML/JSON payloads, empty and truncated
// files are rejected with a reason; SVG is rasterised; transparency composited on white), resize to 64×64
// RGB, drop byte-identical duplicates, split train/val/test by concept with a seeded hash ranking,
// and write WebDataset-style tar shards (`<key>.png` + `<key>.json` per sample) with a `manifest.json`
// holding every shard's sha256. The folder is `.cache/datasets/<profile>/<hash of config and inputs>/`: a
// rerun changes nothing, and a killed build completes on rerun.

// %%
import { kitConfig } from "../lib/config/mod.ts";
import {
  buildMiniDataset,
  captionLengthFigure,
  dataT1Rows,
  MINI_LANGUAGES,
  readSampleIndex,
  readShard,
  sourceBreakdownRows,
} from "../lib/dataset_build/mod.ts";
import { writeFigureArtifact, writeTableArtifact } from "../lib/artifacts/mod.ts";
import { projectRelative } from "../lib/util/mod.ts";

const cfg = kitConfig();
if (cfg.profile === "paper") {
  // The paper profile needs K's MS-COCO and D's WIT: without them the run stops here, naming the
  // missing dataset (URL, checksum, folder), instead of writing mini data signed "profile:paper".
  const paperSources = await import("../lib/dataset_build/mod.ts");
  await paperSources.paperCocoSource();
  await paperSources.paperWitSource();
}
const result = await buildMiniDataset();
const m = result.manifest;
console.log(
  `${result.status} in ${
    result.seconds.toFixed(1)
  } s: ${m.samples.count} images, ${m.shards.length} shards`,
);
console.log(`folder: ${projectRelative(result.dir)}`);
console.log(
  `partitions (images): ${JSON.stringify(m.partitions)}${
    cfg.smoke ? "  (smoke run: first 60 images by key only)" : ""
  }`,
);
for (const i of m.inputs) {
  console.log(`  ${i.source}: ${i.kept} images kept of ${i.candidates} candidates`);
}

// %% [markdown]
// ### A few samples
//
// Each sample is one image with its captions; here the first shard's first eight, with four of their
// languages (K's) and Quechua where the image has it.

// %%
const shard = await readShard(`${result.dir}/${m.shards[0]!.name}`);
const cards = shard.slice(0, 8).map((s) => {
  const b64 = btoa(String.fromCharCode(...s.png));
  const caps = ["en", "es", "ja", "hi", "qu"].map((l) =>
    `<div><b>${l}</b> ${s.record.captions[l]?.[0] ?? "—"}</div>`
  ).join("");
  return `<div style="display:inline-block;width:180px;vertical-align:top;margin:4px;font-size:12px">
    <img src="data:image/png;base64,${b64}" width="64" height="64" style="image-rendering:pixelated"/>
    <div style="color:#666">${s.record.sourceId}</div>${caps}</div>`;
});
await Deno.jupyter.display({ "text/html": cards.join("") }, { raw: true });

// %% [markdown]
// ### Rejected and skipped items
//
// Nothing is dropped silently: every description without an image, undecodable or duplicate image and
// malformed description line is listed with its file (and line) and reason in `rejects.md` /
// `rejects.json` beside the shards. Tux Paint's pre-mirrored `*_mirror.png` copies are *skipped* (they are
// the same stamp flipped), not rejected; so are emoji drawings CLDR does not name (skin-tone and other
// variants: one line per drawing set, with their count) and CLDR names no set draws (symbols such as `→`).

// %%
const md = await Deno.readTextFile(result.rejects.markdown);
console.log(`full report: ${projectRelative(result.rejects.markdown)}`);
await Deno.jupyter.md`${md.split("\n## ")[0]}`;

// %% [markdown]
// ### DATA-T1: what the dataset holds
//
// Images and captions in total, per source and per partition, per language (the ten languages of the two
// papers first, then every other locale), the sizes of the language intersections the papers need (K: en ∩
// es ∩ ja ∩ hi; D: its nine), rejected/skipped items by reason, and then the same broken down by source
// (`source: <name>` sections: images, concepts, locales, locales with ≥ 500 images, the ten languages and
// Quechua). The tests recount these numbers independently from the stamps' `.txt` files and the emoji
// packages' JSON and SVG files.

// %%
const samples = await readSampleIndex(result.dir);
// paper profile: DATA-T1 and DATA-F1 describe the COCO and WIT builds (last cell), not this mini data
if (cfg.profile !== "paper") {
  const table = await writeTableArtifact({
    id: "DATA-T1",
    title:
      "Mini dataset (Tux Paint stamps + CLDR-named emoji): images, captions per language, intersections, rejects, by source",
    rows: [...dataT1Rows(m), ...sourceBreakdownRows(samples)],
    columns: ["section", "item", "count", "captions"],
    caption:
      "count = images (dataset, source, partition, language, intersection rows) or items (rejected/skipped rows).",
    seeds: { partition: m.config.partition ? (m.config.partition as { seed: number }).seed : 7 },
    inputs: {
      dataset: m.configHash,
      ...Object.fromEntries(m.inputs.map((i) => [`${i.source}.fingerprint`, i.fingerprint])),
    },
    notes: [
      "Mini profile: human-written Tux Paint stamp descriptions and Unicode CLDR emoji names stand in for K's machine-translated COCO captions and D's WIT captions.",
      "Emoji: one image per (emoji, drawing set): Twemoji 15.0 (CC-BY 4.0), Noto Emoji (Apache-2.0), Fluent Emoji flat (MIT); names from CLDR 48 (Unicode licence v3). Partitions split by concept.",
      "zh = Tux Paint's zh_CN (simplified Chinese); zh_TW is listed separately. Duplicate images (same bytes) keep the first by key.",
    ],
  });
  // displayed explicitly (awaited): the page then has it before the cell ends
  await Deno.jupyter.display(table);
} else console.log("paper profile: DATA-T1 describes the COCO and WIT builds (last cell)");

// %% [markdown]
// ### Caption length by language
//
// Length in characters (Unicode code points), so that Japanese and Chinese, written without spaces,
// compare with the others, one box per source. Tux Paint descriptions are short noun phrases (“A badger.”)
// and CLDR names shorter still (“cat face”), much shorter than COCO or WIT captions — one of the ways the
// mini profile differs from the papers' data.

// %%
if (cfg.profile !== "paper") {
  const figure = await writeFigureArtifact({
    id: "DATA-F1",
    title: "Caption length by language and source (mini dataset)",
    figure: captionLengthFigure(samples, { languages: [...MINI_LANGUAGES, "qu"], bySource: true }),
    caption:
      "Box plot per language and source of caption lengths in characters, over all images of the mini dataset: quartiles (numpy's linear percentiles), whiskers from the shortest to the longest caption.",
    inputs: { dataset: m.configHash },
  });
  await Deno.jupyter.display(figure);
} else console.log("paper profile: DATA-F1 describes the COCO and WIT builds (last cell)");

// %% [markdown]
// ### Paper profile
//
// With `--profile paper` this cell builds K's COCO set and D's WIT set from the files you downloaded
// (`./kit task fetch mscoco-2017 wit-v1`: for WIT it also downloads the image of every row kept by D's
// rules from its `image_url` into `.cache/wit-images/`, resumable; the notebook itself never touches the
// network). Without the datasets the run stops at the first code cell, saying what is missing and where to
// put it; without any WIT image, at this cell, naming the fetch step. WIT images that failed to download
// are rejected items of the build (`image not downloaded`, in its `rejects.md`).

// %%
import {
  buildDataset,
  D_WIT_BUILD,
  paperCocoSource,
  paperWitSource,
} from "../lib/dataset_build/mod.ts";

if (cfg.profile !== "paper") {
  console.log(
    "mini profile: the paper-profile datasets (MS-COCO 2017 for K, WIT v1 for D) are not built here.",
  );
} else {
  const builds: { what: string; r: Awaited<ReturnType<typeof buildDataset>> }[] = [];
  for (
    const [what, make] of [["K: MS-COCO 2017 captions", () => paperCocoSource()], [
      "D: WIT v1, nine languages",
      () => paperWitSource(),
    ]] as const
  ) {
    // a missing or incomplete dataset stops the run (the first code cell checked they are there)
    const source = await make();
    const r = await buildDataset({
      sources: [source],
      profile: "paper",
      ...(what.startsWith("D") ? D_WIT_BUILD : {}),
    });
    console.log(`${what}: ${r.manifest.samples.count} images in ${projectRelative(r.dir)}`);
    builds.push({ what, r });
  }
  // DATA-T1 / DATA-F1 of the paper profile: the two builds, each row's section naming its build
  const rows = builds.flatMap(({ what, r }) =>
    dataT1Rows(r.manifest).map((row) => ({
      ...row,
      section: `${what.split(":")[0]} · ${row.section}`,
    }))
  );
  const paperSamples = (await Promise.all(builds.map(async ({ what, r }) =>
    (await readSampleIndex(r.dir)).map((x) => ({ ...x, source: what.split(":")[0] }))
  ))).flat();
  await Deno.jupyter.display(
    await writeTableArtifact({
      id: "DATA-T1",
      title:
        "Paper datasets: K's MS-COCO 2017 build and D's WIT v1 build — images, captions per language, intersections, rejects",
      rows,
      columns: ["section", "item", "count", "captions"],
      caption:
        "count = images (dataset, partition, language, intersection rows) or items (rejected/skipped rows); section = K (COCO 2017) or D (WIT v1, nine languages).",
      inputs: Object.fromEntries(
        builds.map(({ what, r }) => [`${what.split(":")[0]}.dataset`, r.manifest.configHash]),
      ),
      notes: [
        "K's captions: COCO 2017 English (train2017 + val2017); the translated languages come from KIT_K_TRANSLATIONS in notebook 02.",
        "D's set: WIT v1 rows with a reference caption in all nine languages and a decodable image (D's build_webdataset.py rules).",
      ],
    }),
  );
  await Deno.jupyter.display(
    await writeFigureArtifact({
      id: "DATA-F1",
      title: "Caption length by language (paper datasets: K's COCO, D's WIT)",
      figure: captionLengthFigure(paperSamples, {
        languages: ["en", "es", "ja", "hi", "qu", "ar", "de", "fr", "it", "pt", "zh"],
        bySource: true,
      }),
      caption:
        "Box plot per language and build of caption lengths in characters, over all images of each paper build: quartiles (numpy's linear percentiles), whiskers from the shortest to the longest caption.",
      inputs: Object.fromEntries(
        builds.map(({ what, r }) => [`${what.split(":")[0]}.dataset`, r.manifest.configHash]),
      ),
    }),
  );
}
