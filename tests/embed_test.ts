import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  loadSafetensorsWeights,
  readEncoderConfig,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import {
  loadSafetensorsImageModel,
  loadSafetensorsTextModel,
} from "../lib/encoders/safetensors_model_folder.ts";
import { loadTransformers } from "../lib/encoders/pretrained/transformers_runtime.ts";
import { readNpy } from "../lib/io/npy.ts";
import { vitProcessorPixels } from "../lib/encoders/vit_image_processor.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { embedImagesDir, embedTextsFile } from "../tools/embed.ts";
import { writeXlmrTokenizerFiles } from "./fixtures/tiny_pretrained_models.ts";

await initBackend("wasm");

const FIXTURE = new URL("./fixtures/k_torch/xlmr/", import.meta.url).pathname;
const TEXTS = ["hello world", "the cat sat", "", "a b hello the cat sat world a b"];

/** The torch fixture's XLM-R folder plus a SentencePiece tokenizer (written by the test). */
async function modelFolder(dir: string): Promise<string> {
  for (const f of ["config.json", "model.safetensors"]) {
    await Deno.copyFile(join(FIXTURE, f), join(dir, f));
  }
  await writeXlmrTokenizerFiles(dir);
  return dir;
}

Deno.test("task embed writes the library path's embeddings: masked mean of the TF.js encoder over the folder tokenizer's ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = await modelFolder(dir);
    const textsPath = join(dir, "texts.txt");
    await Deno.writeTextFile(textsPath, TEXTS.join("\n") + "\n");
    const out = join(dir, "x.npy");
    // batch size 3: the last text is alone in its batch, the others padded together.
    const shape = await embedTextsFile({
      model: folder,
      texts: textsPath,
      out,
      batchSize: 3,
      silent: true,
    });
    assert.deepEqual(shape, [4, 16]);
    const npy = await readNpy(out);
    assert.equal(npy.dtype, "<f4");
    assert.deepEqual(npy.shape, [4, 16]);

    // The library path, written out here: transformers.js tokenizer → ids, each text alone
    // (no padding at all), the kit's encoder loaded from the same folder, mean over all tokens.
    const tjs = await loadTransformers();
    const tok = await tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    const cfg = await readEncoderConfig(join(folder, "config.json")) as XlmRobertaConfig;
    const enc = new XlmRobertaEncoder(cfg);
    await loadSafetensorsWeights(enc, join(folder, "model.safetensors"));
    for (const [i, t] of TEXTS.entries()) {
      const ids = tok.encode(t) as number[];
      assert.equal(ids[0], 0);
      assert.equal(ids[ids.length - 1], 2);
      const h = tf.tidy(() => {
        const b = { ids: Int32Array.from(ids), batch: 1, length: ids.length };
        return tf.mean(enc.encode(b, tf.tensor2d(enc.embeddingInput(b), [ids.length, 16])), 0)
          .dataSync().slice();
      });
      const row = (npy.data as Float32Array).subarray(i * 16, (i + 1) * 16);
      h.forEach((v, j) => assert.ok(Math.abs(v - row[j]!) < 1e-5, `text ${i} dim ${j}`));
    }
    enc.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSafetensorsTextModel() names the missing tokenizer file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await modelFolder(dir);
    await Deno.remove(join(dir, "tokenizer.json"));
    await assert.rejects(
      () => loadSafetensorsTextModel(dir),
      (e: unknown) => e instanceof KitError && e.message.includes("tokenizer.json"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const VIT = new URL("./fixtures/k_torch/vit/", import.meta.url).pathname;

Deno.test("task embed --images: the folder's preprocessing (size, bilinear, its own mean/std) into the TF.js ViT, equal to the library path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = join(dir, "vit");
    await Deno.mkdir(folder);
    for (const f of ["config.json", "model.safetensors"]) {
      await Deno.copyFile(join(VIT, f), join(folder, f));
    }
    // Mean/std other than the config's 0.5 defaults: they must come from this file.
    const pre = JSON.parse(await Deno.readTextFile(join(VIT, "preprocessor_config.json")));
    pre.image_mean = [0.2, 0.3, 0.4];
    pre.image_std = [0.25, 0.5, 0.75];
    await Deno.writeTextFile(join(folder, "preprocessor_config.json"), JSON.stringify(pre));
    const images = join(dir, "images");
    await Deno.mkdir(images);
    const { default: sharp } = await import("sharp");
    const colours = [[255, 0, 0], [10, 200, 30], [120, 120, 250]];
    for (const [i, [r, g, b]] of colours.entries()) {
      // 20×12 with a gradient: resizing to 16×16 must interpolate.
      const raw = new Uint8Array(20 * 12 * 3);
      for (let p = 0; p < 20 * 12; p++) {
        raw.set([r!, (g! + p) % 256, b!], p * 3);
      }
      await sharp(raw, { raw: { width: 20, height: 12, channels: 3 } }).png().toFile(
        join(images, `img${i}.png`),
      );
    }
    await Deno.writeTextFile(join(images, "notes.txt"), "not an image");
    const out = join(dir, "x.npy");
    assert.deepEqual(
      await embedImagesDir({ model: folder, images, out, batchSize: 2, silent: true }),
      [3, 12],
    );
    const npy = await readNpy(out);

    const m = await loadSafetensorsImageModel(folder);
    assert.deepEqual(m.preprocess.image_mean, [0.2, 0.3, 0.4]);
    assert.deepEqual(m.preprocess.image_std, [0.25, 0.5, 0.75]);
    for (let i = 0; i < 3; i++) {
      const bytes = await Deno.readFile(join(images, `img${i}.png`));
      // The library path: Hugging Face's ViTImageProcessor resize (checked against PIL in
      // images_test), then (v/255 − mean)/std from the file.
      const px = await vitProcessorPixels([bytes], m.preprocess);
      const want = tf.tidy(() => m.encoder.embed(px, 1).dataSync().slice());
      const row = (npy.data as Float32Array).subarray(i * 12, (i + 1) * 12);
      want.forEach((v, j) => assert.ok(Math.abs(v - row[j]!) < 1e-5, `image ${i} dim ${j}`));
    }
    m.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
