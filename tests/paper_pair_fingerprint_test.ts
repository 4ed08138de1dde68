/**
 * Paper D's ONNX pair carries a content fingerprint (issue 27), so notebook 05's embeddings
 * (`embedDatasetForImagePivot`, the call `profileImagePivotEmbeddings` makes) come from the
 * result cache on a rerun, and any change of a model file's bytes — even one that keeps its
 * size — embeds again. Tiny model folders in D's layouts (tests/fixtures/tiny_pretrained_models.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { initBackend } from "../lib/backend/mod.ts";
import { buildDataset, type CandidateSample, sampleKey } from "../lib/dataset_build/mod.ts";
import type { ImageEncoder, SentenceEncoder } from "../lib/encoders/encoder.ts";
import {
  clipImageEncoder,
  modelFileHashCachePath,
  multilingualClipTextEncoder,
} from "../lib/encoders/pretrained/mod.ts";
import { embedDatasetForImagePivot } from "../lib/image_pivot/dataset_embeddings.ts";
import { loadClipSpacePair } from "../lib/models/mod.ts";
import * as fx from "./fixtures/tiny_pretrained_models.ts";

await initBackend("wasm"); // part of the result-cache key, as in the notebook

const TMP = await Deno.makeTempDir({ prefix: "kit-pair-fp-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(TMP, { recursive: true });
  } catch { /* already gone */ }
});

/** Runs `f` with every cache (results, model file hashes) in a folder of its own, quietly. */
async function withOwnCache(name: string, f: () => Promise<void>): Promise<void> {
  const old = { cache: Deno.env.get("KIT_CACHE_DIR"), quiet: Deno.env.get("KIT_QUIET") };
  Deno.env.set("KIT_CACHE_DIR", join(TMP, `cache-${name}`));
  Deno.env.set("KIT_QUIET", "1");
  try {
    await f();
  } finally {
    for (const [k, v] of [["KIT_CACHE_DIR", old.cache], ["KIT_QUIET", old.quiet]] as const) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

// onnxruntime-node keeps native handles open across tests
const OPTS = { sanitizeOps: false, sanitizeResources: false };
const S = 8, D = 3, HIDDEN = 4;
const LANGS = ["en", "de"];

function projection(seed: number): Float32Array {
  return Float32Array.from({ length: 3 * S * S * D }, (_, i) => Math.sin(0.37 * i + seed));
}

async function writeTextFolder(dir: string, denseSeed = 0): Promise<void> {
  const w = fx.tinyDenseWeight(D, HIDDEN).map((v, i) => v + (i === 0 ? denseSeed : 0));
  await fx.writeTinyMultilingualClipFolder(
    dir,
    fx.tinyTextWeights(fx.WORDPIECE_VOCAB.length, HIDDEN),
    { outFeatures: D, weight: w },
  );
}

/** A built dataset of 12 images, captions in en and de (words of the tiny WordPiece vocab). */
async function tinyDataset(): Promise<string> {
  const src = join(TMP, "src");
  await Deno.mkdir(src, { recursive: true });
  const words = fx.WORDPIECE_VOCAB.filter((t) => /^[a-z]+$/.test(t));
  const candidates: CandidateSample[] = [];
  for (let i = 0; i < 12; i++) {
    const p = join(src, `${i}.png`);
    await sharp({
      create: { width: 10, height: 9, channels: 3, background: { r: 20 * i, g: 7 * i, b: 99 } },
    }).png().toFile(p);
    candidates.push({
      key: sampleKey("t", String(i)),
      source: "t",
      sourceId: String(i),
      imagePath: p,
      imageFile: `${i}.png`,
      captions: {
        en: [`${words[i % words.length]} ${words[(i + 1) % words.length]}`],
        de: [`${words[(i + 2) % words.length]}`],
      },
    });
  }
  const source = {
    name: "t",
    load: () =>
      Promise.resolve({
        name: "t",
        dataset: null,
        root: src,
        candidates,
        issues: [],
        inputFiles: [],
        options: {},
      }),
  };
  return (await buildDataset({
    sources: [source],
    outRoot: join(TMP, "datasets"),
    profile: "t",
    quiet: true,
    partition: { seed: 1, fractions: { train: 0.5, val: 0.25, test: 0.25 } },
  })).dir;
}

/** Counts the rows each encoder is asked to embed. */
function counting<E extends ImageEncoder | SentenceEncoder>(e: E, calls: { rows: number }): E {
  return {
    ...e,
    embed: (...args: Parameters<E["embed"]>) => {
      calls.rows += (args[0] as readonly unknown[]).length;
      return (e.embed as (...a: unknown[]) => ReturnType<E["embed"]>)(...args);
    },
  } as E;
}

/** One "notebook run": load the pair from its folders and embed the dataset as notebook 05 does. */
async function run(imageDir: string, textDir: string, datasetDir: string) {
  const image = await clipImageEncoder(imageDir);
  const text = await multilingualClipTextEncoder(textDir);
  const calls = { rows: 0 };
  try {
    const emb = await embedDatasetForImagePivot(datasetDir, {
      image: counting(image, calls),
      text: counting(text, calls),
    }, { langs: LANGS, partitions: ["train", "val", "test"] });
    return { emb, calls: calls.rows, fp: { image: image.fingerprint, text: text.fingerprint } };
  } finally {
    image.dispose();
    text.dispose();
  }
}

Deno.test(
  "paper D's ONNX pair: a rerun takes the embeddings from the cache; a same-size change of the ONNX or Dense bytes embeds again",
  OPTS,
  () =>
    withOwnCache("rerun", async () => {
      const imageDir = join(TMP, "clip-vision"), textDir = join(TMP, "mclip-text");
      await fx.writeTinyClipVisionFolder(imageDir, S, projection(0), D);
      await writeTextFolder(textDir);
      const datasetDir = await tinyDataset();

      const first = await run(imageDir, textDir, datasetDir);
      const n = first.emb.keys.length;
      assert.ok(n >= 10);
      assert.equal(first.calls, n * (1 + LANGS.length)); // every image and caption embedded
      assert.match(first.fp.image!, /^[0-9a-f]{64}$/);
      assert.match(first.fp.text!, /^[0-9a-f]{64}$/);
      // the ONNX files' hashes are remembered by real path
      const hashes = JSON.parse(await Deno.readTextFile(modelFileHashCachePath()));
      for (
        const f of [join(imageDir, "onnx/vision_model.onnx"), join(textDir, "onnx/model.onnx")]
      ) {
        assert.ok(hashes[await Deno.realPath(f)], `${f} not in the hash cache`);
      }

      // second run, encoders loaded afresh: nothing embedded, the same rows
      const second = await run(imageDir, textDir, datasetDir);
      assert.equal(second.calls, 0);
      assert.deepEqual(second.fp, first.fp);
      assert.deepEqual(second.emb.images.data, first.emb.images.data);
      for (const l of LANGS) {
        assert.deepEqual(second.emb.textByLang[l]!.data, first.emb.textByLang[l]!.data);
      }

      // the CLIP ONNX file rewritten with other weights of the same size: another key, embedded
      const onnx = join(imageDir, "onnx/vision_model.onnx");
      const size = (await Deno.stat(onnx)).size;
      await fx.writeTinyClipVisionFolder(imageDir, S, projection(1), D);
      assert.equal((await Deno.stat(onnx)).size, size);
      const third = await run(imageDir, textDir, datasetDir);
      assert.notEqual(third.fp.image, first.fp.image);
      assert.equal(third.fp.text, first.fp.text);
      assert.equal(third.calls, n * (1 + LANGS.length));
      assert.notDeepEqual(third.emb.images.data, first.emb.images.data);

      // the Dense weights changed, same size: the text fingerprint changes too
      const dense = join(textDir, "2_Dense/model.safetensors");
      const denseSize = (await Deno.stat(dense)).size;
      await writeTextFolder(textDir, 0.5);
      assert.equal((await Deno.stat(dense)).size, denseSize);
      const fourth = await run(imageDir, textDir, datasetDir);
      assert.notEqual(fourth.fp.text, first.fp.text);
      assert.equal(fourth.fp.image, third.fp.image);
      assert.equal(fourth.calls, n * (1 + LANGS.length));
    }),
);

Deno.test(
  "paper D's pair fingerprints: equal for a copy of a folder elsewhere, different for another tokenizer, max length or dtype-relevant option",
  OPTS,
  () =>
    withOwnCache("fingerprints", async () => {
      const a = join(TMP, "fp-a"), b = join(TMP, "fp-b");
      await writeTextFolder(a);
      await writeTextFolder(b);
      const fp = async (dir: string, o: { maxLength?: number } = {}) => {
        const e: SentenceEncoder = await multilingualClipTextEncoder(dir, o);
        e.dispose();
        return e.fingerprint;
      };
      const base = await fp(a);
      assert.equal(await fp(b), base); // same content, other path
      assert.notEqual(await fp(a, { maxLength: 7 }), base);
      const tok = join(b, "tokenizer_config.json");
      const cfg = JSON.parse(await Deno.readTextFile(tok));
      await Deno.writeTextFile(tok, JSON.stringify({ ...cfg, do_lower_case: true }));
      assert.notEqual(await fp(b), base);

      const ia = join(TMP, "img-a"), ib = join(TMP, "img-b");
      await fx.writeTinyClipVisionFolder(ia, S, projection(0), D);
      await fx.writeTinyClipVisionFolder(ib, S, projection(0), D);
      const ifp = async (dir: string, o: { batchSize?: number } = {}) => {
        const e: ImageEncoder = await clipImageEncoder(dir, o);
        e.dispose();
        return e.fingerprint;
      };
      const ibase = await ifp(ia);
      assert.equal(await ifp(ib), ibase);
      assert.notEqual(await ifp(ia, { batchSize: 3 }), ibase);
      const pre = join(ib, "preprocessor_config.json");
      const p = JSON.parse(await Deno.readTextFile(pre));
      await Deno.writeTextFile(pre, JSON.stringify({ ...p, image_mean: [0.5, 0.5, 0.5] }));
      assert.notEqual(await ifp(ib), ibase);
    }),
);

Deno.test(
  "loadClipSpacePair() in the paper profile (notebook 05's loader) gives the ONNX pair its content fingerprints",
  OPTS,
  () =>
    withOwnCache("loader", async () => {
      const models = join(TMP, "models");
      const imageDir = join(models, "openai/clip-vit-base-patch32");
      const textDir = join(models, "sentence-transformers/clip-ViT-B-32-multilingual-v1");
      await fx.writeTinyClipVisionFolder(imageDir, S, projection(0), D);
      await writeTextFolder(textDir);
      const old = { p: Deno.env.get("KIT_PROFILE"), m: Deno.env.get("KIT_MODELS_DIR") };
      Deno.env.set("KIT_PROFILE", "paper");
      Deno.env.set("KIT_MODELS_DIR", models);
      try {
        const pair = await loadClipSpacePair();
        pair.image.dispose();
        pair.text.dispose();
        const image = await clipImageEncoder(imageDir);
        const text = await multilingualClipTextEncoder(textDir);
        image.dispose();
        text.dispose();
        assert.match(pair.image.fingerprint!, /^[0-9a-f]{64}$/);
        assert.equal(pair.image.fingerprint, image.fingerprint);
        assert.equal(pair.text.fingerprint, text.fingerprint);
        assert.notEqual(pair.image.fingerprint, pair.text.fingerprint);
      } finally {
        for (const [k, v] of [["KIT_PROFILE", old.p], ["KIT_MODELS_DIR", old.m]] as const) {
          if (v === undefined) Deno.env.delete(k);
          else Deno.env.set(k, v);
        }
      }
    }),
);
