/**
 * Paper D's dry run (and the paper profile's dataset builds): `reproduce --profile paper --smoke
 * --only 00,05` on fixtures written here — a COCO 2017 folder in the official layout over the
 * mirror's train2017 images (`annotations/captions_train2017.json` + `train2017/`), WIT v1 TSV
 * shards of train, val and test (one gzipped) in WIT's 17-column format, their images pre-seeded
 * in `<KIT_CACHE_DIR>/wit-images/<key>.png` (where `downloadWitImages` puts them; the notebooks
 * never touch the network), and tiny ONNX folders of D's frozen pair
 * (`openai/clip-vit-base-patch32`, `sentence-transformers/clip-ViT-B-32-multilingual-v1`) under
 * `KIT_MODELS_DIR`, read through transformers.js. Notebook 00 builds K's COCO set and D's WIT set;
 * 05 embeds D's set with the pair, runs the five folds and writes D-T1…D-T6, D-F1 and CLAIMS.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { loadCocoCaptions } from "../lib/sources/coco_captions.ts";
import { D_LANGUAGES, WIT_COLUMNS, witImageKey } from "../lib/sources/wit.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import {
  tinyDenseWeight,
  tinyTextWeights,
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
 * (ignored) and a tenth-language-complete image whose file is never seeded (rejected: not
 * downloaded). Images are seeded as `<images>/<key>.png`. Returns the keys kept with images.
 */
async function writeWit(dir: string, images: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.mkdir(images, { recursive: true });
  const header = WIT_COLUMNS.join("\t");
  const rows: string[][] = [[], [], []];
  const url = (i: number) => `https://upload.wikimedia.org/wikipedia/commons/d/dd/Tiny_${i}.png`;
  const seeded: string[] = [];
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
      await Deno.writeFile(join(images, `${witImageKey(url(i))}.png`), new Uint8Array(png));
      seeded.push(witImageKey(url(i)));
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
  return seeded.sort();
}

/** D's frozen pair as tiny ONNX folders under `models/` (their Hugging Face ids). */
async function writeClipPair(models: string): Promise<void> {
  const S = 8, H = 6;
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
      const keys = await writeWit(join(cache, "data", "wit-v1"), join(cache, "wit-images"));
      await writeClipPair(models);
      const t0 = performance.now();
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(PROJECT_ROOT, "tools", "reproduce.ts"),
          "--profile",
          "paper",
          "--smoke",
          "--only",
          "00,05",
          "--backend",
          "wasm",
          "--no-report",
        ],
        env: {
          KIT_MODELS_DIR: models,
          KIT_CACHE_DIR: cache,
          KIT_ARTIFACT_DIR: out,
          KIT_QUIET: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, log.slice(-4000));
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
      void loadCocoCaptions;

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
      const emb = join(out, "d_embeddings");
      for await (const e of Deno.readDir(emb)) assert.ok(e.name.length > 0);
      assert.equal(keys.length, N_WIT);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
