/**
 * Paper D's dry run (and the paper profile's dataset builds): `reproduce --profile paper --smoke
 * --only 00,05` on fixtures written here — a COCO 2017 folder in the official layout over the
 * mirror's train2017 images (`annotations/captions_train2017.json` + `train2017/`), WIT v1 TSV
 * shards of train, val and test (one gzipped) in WIT's 17-column format, their images downloaded
 * by `downloadPaperWitImages` (the step `./kit task fetch wit-v1` runs; here with a fetch that
 * serves PNGs written by the test, no network) into `<KIT_CACHE_DIR>/wit-images/`, and tiny ONNX
 * folders of D's frozen pair
 * (`openai/clip-vit-base-patch32`, `sentence-transformers/clip-ViT-B-32-multilingual-v1`) under
 * `KIT_MODELS_DIR`, read through transformers.js. Notebook 00 builds K's COCO set and D's WIT set;
 * 05 embeds D's set with the pair, runs the five folds and writes D-T1…D-T6, D-F1 and CLAIMS.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { DataRegistry } from "../lib/data/registry.ts";
import { downloadPaperWitImages, paperWitSource } from "../lib/dataset_build/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { readNpy } from "../lib/io/npy.ts";
import { D_LANGUAGES, WIT_COLUMNS, witImageKey } from "../lib/sources/wit.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { runPaperSmoke } from "./helpers/paper_smoke_run.ts";
import {
  tinyDenseWeight,
  tinyTextWeights,
  tinyTokenState,
  WORDPIECE_VOCAB,
  writeTinyClipVisionFolder,
  writeTinyMultilingualClipFolder,
} from "./fixtures/tiny_pretrained_models.ts";

const MIRROR = join(PROJECT_ROOT, "..", "shared", "data");

/** D's nine languages kept, an image missing one, a row in a tenth, an image not downloaded. */
const N_WIT = 40;
const DIM = 8;

/** `annotations/captions_train2017.json` + `train2017/` (links) from the mirror's COCO subset. */
async function writeCoco2017(dir: string): Promise<number> {
  const src = join(MIRROR, "coco", "captions_subset.json");
  const raw = JSON.parse(await Deno.readTextFile(src)) as {
    images: { id: number; file_name: string; split?: string }[];
    annotations: { image_id: number }[];
  };
  const images = raw.images.filter((im) => im.split === "train2017");
  const ids = new Set(images.map((im) => im.id));
  await Deno.mkdir(join(dir, "annotations"), { recursive: true });
  await Deno.mkdir(join(dir, "train2017"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "annotations", "captions_train2017.json"),
    JSON.stringify({
      ...raw,
      images: images.map(({ split: _s, ...im }) => im),
      annotations: raw.annotations.filter((a) => ids.has(a.image_id)),
    }),
  );
  for (const im of images) {
    await Deno.symlink(
      join(MIRROR, "coco", "images", im.file_name),
      join(dir, "train2017", im.file_name),
    );
  }
  return images.length;
}

/** A caption of 2–5 words of the tiny WordPiece vocabulary, different per (image, language). */
function caption(i: number, li: number): string {
  const words = WORDPIECE_VOCAB.slice(4).filter((w) => !w.startsWith("##"));
  const n = 2 + ((i * 7 + li * 3) % 4);
  return Array.from({ length: n }, (_, k) => words[(i * 5 + li * 11 + k * k * 3) % words.length])
    .join(" ") + (i % 2 ? " worlds" : "");
}

function tsvRow(lang: string, url: string, cap: string, page: string): string {
  const v: Record<string, string> = {
    language: lang,
    page_url: `https://${lang}.wikipedia.org/wiki/${page}`,
    image_url: url,
    page_title: page,
    caption_reference_description: cap,
    mime_type: "image/png",
    original_height: "24",
    original_width: "32",
    is_main_image: "false",
  };
  return WIT_COLUMNS.map((c) => v[c] ?? "").join("\t");
}

/**
 * WIT v1 shards (train and val plain, test gzipped): `N_WIT` images with a caption in all nine
 * languages, spread over the three splits, plus an image without `ja` (not kept), a row in `ko`
 * (ignored) and one more nine-language image whose URL answers 404 (kept by the TSV scan, then
 * rejected by the build: not downloaded). Returns the PNG served for each URL and each kept
 * image's captions by key.
 */
async function writeWit(dir: string): Promise<{
  served: Map<string, Uint8Array<ArrayBuffer>>;
  captions: Map<string, string[]>;
  missing: string;
}> {
  await Deno.mkdir(dir, { recursive: true });
  const header = WIT_COLUMNS.join("\t");
  const rows: string[][] = [[], [], []];
  const url = (i: number) => `http://upload.wikimedia.org/wikipedia/commons/d/dd/Tiny_${i}.png`;
  const served = new Map<string, Uint8Array<ArrayBuffer>>();
  const captions = new Map<string, string[]>();
  for (let i = 0; i < N_WIT + 2; i++) {
    const split = i % 3;
    D_LANGUAGES.forEach((lang, li) => {
      if (i === N_WIT && lang === "ja") return; // not in all nine: not kept
      rows[split]!.push(tsvRow(lang, url(i), caption(i, li), `Page_${i}`));
    });
    if (i === 0) rows[split]!.push(tsvRow("ko", url(i), "hello world", "Page_0"));
    if (i < N_WIT) {
      const w = 32, h = 24;
      const px = Uint8Array.from(
        { length: w * h * 3 },
        (_, k) => (k * (i + 3) * 37 + i * 101) % 256,
      );
      const png = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
      // D's key hashes the https form of an http://upload.wikimedia.org URL
      served.set(url(i).replace("http://", "https://"), new Uint8Array(png));
      captions.set(witImageKey(url(i)), D_LANGUAGES.map((_, li) => caption(i, li)));
    }
  }
  const body = (k: number) => [header, ...rows[k]!].join("\n") + "\n";
  await Deno.writeTextFile(join(dir, "wit_v1.train.all-00000-of-00010.tsv"), body(0));
  await Deno.writeTextFile(join(dir, "wit_v1.val.all-00000-of-00005.tsv"), body(1));
  const gz = new Blob([body(2)]).stream().pipeThrough(new CompressionStream("gzip"));
  await Deno.writeFile(
    join(dir, "wit_v1.test.all-00000-of-00005.tsv.gz"),
    new Uint8Array(await new Response(gz).arrayBuffer()),
  );
  return { served, captions, missing: witImageKey(url(N_WIT + 1)) };
}

/** WordPiece ids of a caption of `caption()` by hand: `[CLS] words [SEP]`, "worlds" = world ##s. */
function wordpieceIds(text: string): number[] {
  const id = (t: string) => (WORDPIECE_VOCAB as readonly string[]).indexOf(t);
  const ids = [id("[CLS]")];
  for (const w of text.split(" ")) {
    if (w === "worlds") ids.push(id("world"), id("##s"));
    else ids.push(id(w));
  }
  assert.ok(ids.every((x) => x >= 0), text);
  return [...ids, id("[SEP]")];
}

/** D's frozen pair as tiny ONNX folders under `models/` (their Hugging Face ids). */
const H = 6;

async function writeClipPair(models: string): Promise<void> {
  const S = 8;
  const P = Float32Array.from({ length: 3 * S * S * DIM }, (_, i) => Math.sin(0.61 * i + 0.2));
  await writeTinyClipVisionFolder(join(models, "openai", "clip-vit-base-patch32"), S, P, DIM);
  await writeTinyMultilingualClipFolder(
    join(models, "sentence-transformers", "clip-ViT-B-32-multilingual-v1"),
    tinyTextWeights(WORDPIECE_VOCAB.length, H),
    { outFeatures: DIM, weight: tinyDenseWeight(DIM, H) },
  );
}

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test({
  name:
    "reproduce --profile paper --smoke --only 00,05 builds COCO and WIT from the user's files and writes D-T1…D-T6, D-F1 and CLAIMS from tiny ONNX CLIP folders",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "kit-d-paper-" });
    try {
      const models = join(root, "models"), cache = join(root, "cache"), out = join(root, "figs");
      const nCoco = await writeCoco2017(join(cache, "data", "mscoco-2017"));
      const wit = await writeWit(join(cache, "data", "wit-v1"));
      // the network half of the WIT set (`./kit task fetch wit-v1`), with a fetch served here
      const requested: string[] = [];
      const fetchFn = ((input: string | URL | Request) => {
        const u = String(input);
        requested.push(u);
        const png = wit.served.get(u);
        return Promise.resolve(png ? new Response(png) : new Response("gone", { status: 404 }));
      }) as typeof fetch;
      const registry = new DataRegistry({
        cacheRoot: join(cache, "data"),
        mirror: null,
        quiet: true,
      });
      const dl = await downloadPaperWitImages({
        registry,
        imagesDir: join(cache, "wit-images"),
        fetchFn,
        quiet: true,
        retries: 1,
      });
      assert.deepEqual([dl.records, dl.downloaded, dl.present], [N_WIT + 1, N_WIT, 0]);
      assert.deepEqual(dl.issues.map((i) => [i.file, i.reason]), [[
        wit.missing,
        "download failed",
      ]]);
      assert.ok(requested.every((u) => u.startsWith("https://upload.wikimedia.org/")));
      const again = await downloadPaperWitImages({
        registry,
        imagesDir: join(cache, "wit-images"),
        fetchFn,
        quiet: true,
        retries: 1,
      });
      assert.deepEqual(
        [again.downloaded, again.present],
        [0, N_WIT],
        "a rerun skips those present",
      );
      await writeClipPair(models);
      const t0 = performance.now();
      await runPaperSmoke("00,05", {
        KIT_MODELS_DIR: models,
        KIT_CACHE_DIR: cache,
        KIT_ARTIFACT_DIR: out,
      });
      console.log(`reproduce 00,05: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      // notebook 00: both paper datasets built under <cache>/datasets/paper/
      const built: { dir: string; manifest: Record<string, unknown> }[] = [];
      for await (const e of Deno.readDir(join(cache, "datasets", "paper"))) {
        const p = join(cache, "datasets", "paper", e.name, "manifest.json");
        built.push({ dir: e.name, manifest: await readJson(p) });
      }
      assert.equal(built.length, 2, JSON.stringify(built.map((b) => b.dir)));
      const bySource = new Map(
        built.map((b) => [
          (b.manifest.inputs as { source: string }[])[0]!.source,
          b.manifest as { samples: { count: number } },
        ]),
      );
      assert.equal(bySource.get("coco-train2017")?.samples.count, nCoco);
      assert.equal(bySource.get("wit")?.samples.count, N_WIT);
      const witDir = built.find((b) => b.manifest === bySource.get("wit"))!.dir;
      const rejects = await readJson(join(cache, "datasets", "paper", witDir, "rejects.json"));
      assert.ok(
        JSON.stringify(rejects).includes(wit.missing),
        "the image that failed to download is a rejected item of the build",
      );

      // notebook 00's DATA-T1 / DATA-F1 describe the two paper builds, not the mini data
      const t1 = await readJson(join(out, "DATA-T1.json"));
      const imagesOf = (section: string) =>
        t1.rows.find((r: { section: string; item: string }) =>
          r.section === section && r.item === "images"
        )?.count;
      assert.equal(imagesOf("K · dataset"), nCoco);
      assert.equal(imagesOf("D · dataset"), N_WIT);
      assert.ok(!t1.rows.some((r: { section: string }) => r.section === "dataset"));
      assert.match((await readJson(join(out, "DATA-F1.json"))).title, /paper datasets/);

      // notebook 05: D-T1…D-T6, D-F1 and CLAIMS for the tiny pair over the N_WIT items
      for (const id of ["D-T1", "D-T2", "D-T3", "D-T4", "D-T5", "D-T6"]) {
        const t = await readJson(join(out, `${id}.json`));
        assert.ok(t.rows.length > 0, id);
        assert.ok(
          t.notes.some((n: string) => n.startsWith(`paper profile: ${N_WIT} items`)),
          `${id} notes: ${JSON.stringify(t.notes)}`,
        );
      }
      await Deno.stat(join(out, "D-F1.json"));
      const claims = await readJson(join(out, "CLAIMS.json"));
      assert.ok(claims.rows.length > 0);

      // the embeddings 05 analysed: row i = the i-th WIT key, text through the folder's tokenizer,
      // mean pooling over real tokens and 2_Dense (oracle: the tiny graph by hand, float64)
      const emb = join(out, "d_embeddings");
      const images = await readNpy(join(emb, "images.npy"));
      assert.deepEqual(images.shape, [N_WIT, DIM]);
      const keys = [...wit.captions.keys()].sort();
      const wts = tinyTextWeights(WORDPIECE_VOCAB.length, H);
      const dense = tinyDenseWeight(DIM, H);
      for (const [li, lang] of D_LANGUAGES.entries()) {
        const t = await readNpy(join(emb, `text_${lang}.npy`));
        assert.deepEqual(t.shape, [N_WIT, DIM], lang);
        keys.forEach((key, i) => {
          const ids = wordpieceIds(wit.captions.get(key)![li]!);
          const pooled = Array.from(
            { length: H },
            (_, j) => ids.reduce((a, id) => a + tinyTokenState(wts, id, 1)[j]!, 0) / ids.length,
          );
          const want = Array.from(
            { length: DIM },
            (_, o) => pooled.reduce((a, v, k) => a + v * dense[o * H + k]!, 0),
          );
          const got = Array.from(t.data.subarray(i * DIM, (i + 1) * DIM), Number);
          const norm = (v: number[]) => Math.hypot(...v);
          for (let o = 0; o < DIM; o++) {
            assert.ok(
              Math.abs(got[o]! / norm(got) - want[o]! / norm(want)) < 1e-5,
              `${lang} row ${i} col ${o}: ${got} vs ${want}`,
            );
          }
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("paperWitSource() stops naming `./kit task fetch wit-v1` when none of D's WIT images is downloaded", async () => {
  const root = await Deno.makeTempDir({ prefix: "kit-d-wit-" });
  try {
    const wit = await writeWit(join(root, "data", "wit-v1"));
    const registry = new DataRegistry({ cacheRoot: join(root, "data"), mirror: null, quiet: true });
    const images = join(root, "wit-images");
    const src = await paperWitSource({ registry, imagesDir: images });
    await assert.rejects(
      () => src.load(),
      (e: unknown) =>
        e instanceof KitError &&
        e.message.includes(`none of the ${N_WIT + 1} images of D's set`) &&
        e.message.includes(images) && e.hints.some((h) => h.includes("./kit task fetch wit-v1")),
    );
    // one image there: the set loads with it, the others are rejected items (not downloaded)
    const [key] = [...wit.captions.keys()].sort();
    await Deno.mkdir(images);
    await Deno.writeFile(join(images, `${key}.png`), [...wit.served.values()][0]!);
    const loaded = await (await paperWitSource({ registry, imagesDir: images })).load();
    assert.deepEqual(loaded.candidates.map((c) => c.key), [key]);
    assert.equal(
      loaded.issues.filter((i) => i.reason === "image not downloaded").length,
      N_WIT,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
