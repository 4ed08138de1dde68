import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  loadSafetensorsWeights,
  readEncoderConfig,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { loadSafetensorsTextModel } from "../lib/encoders/safetensors_text_model.ts";
import { loadTransformers } from "../lib/encoders/pretrained/transformers_runtime.ts";
import { readNpy } from "../lib/io/npy.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { embedTextsFile } from "../tools/embed.ts";
import { xlmrTokenizerJson } from "./fixtures/tiny_pretrained_models.ts";

await initBackend("wasm");

const FIXTURE = new URL("./fixtures/k_torch/xlmr/", import.meta.url).pathname;
const TEXTS = ["hello world", "the cat sat", "", "a b hello the cat sat world a b"];

/** The torch fixture's XLM-R folder plus a SentencePiece tokenizer (written by the test). */
async function modelFolder(dir: string): Promise<string> {
  for (const f of ["config.json", "model.safetensors"]) {
    await Deno.copyFile(join(FIXTURE, f), join(dir, f));
  }
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(xlmrTokenizerJson()));
  await Deno.writeTextFile(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "XLMRobertaTokenizer",
      bos_token: "<s>",
      eos_token: "</s>",
      pad_token: "<pad>",
      unk_token: "<unk>",
      model_max_length: 512,
    }),
  );
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
