/**
 * Paper K's dry run: `reproduce --profile paper --smoke --only 02,03,04` on tiny random-weight model
 * folders of the real architecture families (an XLM-R folder with a SentencePiece tokenizer and a
 * ViT folder with its preprocessor config, written here), the mirror's COCO images and a
 * translations file in K's caption-record format (written here). Notebook 02 trains K's four
 * setups with the TF.js towers and writes K-TRAIN and K-F2; each setup is a model folder that
 * notebooks 03/04 (K-T1 on the mirror's SIB-200 copy of FLORES, K-T2 on its XNLI dev) and
 * `task embed --projection` read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  parseEncoderConfig,
  saveSafetensorsWeights,
  type VitConfig,
  VitEncoder,
  type XlmRobertaConfig,
  XlmRobertaEncoder,
} from "../lib/encoders/mod.ts";
import { loadCocoCaptions } from "../lib/sources/coco_captions.ts";
import { readNpy } from "../lib/io/npy.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { runPaperSmoke } from "./helpers/paper_smoke_run.ts";
import {
  K_TRAINED_SETUPS,
  kSetupFolderEncoder,
  loadKSetupEncoders,
  paperKCaptions,
  parseKTranslations,
  readKTextProjection,
} from "../lib/models/mod.ts";
import { embedTextsFile } from "../tools/embed.ts";
import { writeXlmrTokenizerFiles, XLMR_VOCAB } from "./fixtures/tiny_pretrained_models.ts";

await initBackend("wasm");

const MIRROR = join(PROJECT_ROOT, "..", "shared", "data");

/** Writes the tiny XLM-R and ViT folders under `models/` in Hugging Face's layout. */
async function writeTinyFolders(models: string): Promise<{ text: string; image: string }> {
  const text = join(models, "FacebookAI", "xlm-roberta-large");
  const image = join(models, "google", "vit-base-patch16-224-in21k");
  await Deno.mkdir(text, { recursive: true });
  await Deno.mkdir(image, { recursive: true });
  const tc = {
    model_type: "xlm-roberta",
    architectures: ["XLMRobertaForMaskedLM"],
    vocab_size: XLMR_VOCAB.length,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    hidden_act: "gelu",
    max_position_embeddings: 514,
    type_vocab_size: 1,
    pad_token_id: 1,
    bos_token_id: 0,
    eos_token_id: 2,
    layer_norm_eps: 1e-5,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
  };
  await Deno.writeTextFile(join(text, "config.json"), JSON.stringify(tc));
  const t = new XlmRobertaEncoder(parseEncoderConfig(tc) as XlmRobertaConfig, { seed: 3 });
  await saveSafetensorsWeights(t, join(text, "model.safetensors"));
  t.dispose();
  await writeXlmrTokenizerFiles(text);
  const ic = {
    model_type: "vit",
    architectures: ["ViTModel"],
    hidden_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    intermediate_size: 24,
    hidden_act: "gelu",
    image_size: 32,
    patch_size: 16,
    num_channels: 3,
    layer_norm_eps: 1e-12,
    qkv_bias: true,
    hidden_dropout_prob: 0.0,
    attention_probs_dropout_prob: 0.0,
  };
  await Deno.writeTextFile(join(image, "config.json"), JSON.stringify(ic));
  await Deno.writeTextFile(
    join(image, "preprocessor_config.json"),
    JSON.stringify({
      do_resize: true,
      size: { height: 32, width: 32 },
      resample: 2,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    }),
  );
  const v = new VitEncoder(parseEncoderConfig(ic) as VitConfig, { seed: 4 });
  await saveSafetensorsWeights(v, join(image, "model.safetensors"));
  v.dispose();
  return { text, image };
}

/**
 * A translations file over the mirror's COCO subset: each image's first English caption and
 * stand-in es/ja/hi/qu captions (tagged copies; the dry run checks the code path, not MT).
 */
async function writeTranslations(path: string): Promise<number> {
  const coco = await loadCocoCaptions(join(MIRROR, "coco", "captions_subset.json"));
  const lines = coco.images.map((im) => {
    const en = im.captions[0]!.caption;
    return JSON.stringify({
      image_id: im.id,
      captions: { en, es: `es ${en}`, ja: `ja ${en}`, hi: `hi ${en}`, qu: `qu ${en}` },
    });
  });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return lines.length;
}

Deno.test({
  name:
    "reproduce --profile paper --smoke --only 02,03,04 trains K's four setups from tiny model folders, writes K-TRAIN, K-F2, K-T1, K-T2 and setup folders that task embed --projection reads",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "kit-k-paper-" });
    try {
      const models = join(root, "models"), cache = join(root, "cache"), out = join(root, "figs");
      const folders = await writeTinyFolders(models);
      const translations = join(root, "coco_translations.jsonl");
      const nRecords = await writeTranslations(translations);
      const env = {
        KIT_MODELS_DIR: models,
        KIT_CACHE_DIR: cache,
        KIT_K_TRANSLATIONS: translations,
        KIT_ARTIFACT_DIR: out,
        KIT_QUIET: "1",
      };
      await runPaperSmoke("02,03,04", env);

      const ktrain = JSON.parse(await Deno.readTextFile(join(out, "K-TRAIN.json")));
      assert.equal(ktrain.rows.length, 1 + K_TRAINED_SETUPS.length);
      // 26 train2017 records of the mirror, 4 a batch, 2 epochs → 7 batches an epoch (the last of
      // 2 records: drop_last=False), 14 steps
      for (const row of ktrain.rows.slice(1)) assert.equal(row.steps, 14, JSON.stringify(row));
      const pivot = ktrain.rows.find((x: { model: string }) => x.model === "Eng-Pivot");
      assert.equal(pivot.images, 0, "Eng-Pivot is text only");
      const f2 = JSON.parse(await Deno.readTextFile(join(out, "K-F2.json")));
      assert.equal(JSON.stringify(f2).includes("Multilingual+Quechua train"), true);
      assert.ok(nRecords === 51);
      // notebooks 03/04 evaluated the untuned folder and the four trained setup folders
      const t1 = JSON.parse(await Deno.readTextFile(join(out, "K-T1.json")));
      const t2 = JSON.parse(await Deno.readTextFile(join(out, "K-T2.json")));
      for (const [id, t] of [["K-T1", t1], ["K-T2", t2]] as const) {
        const setups = new Set(t.rows.map((x: { setup: string }) => x.setup));
        assert.deepEqual([...setups].sort(), [
          "eng-only",
          "eng-pivot",
          "multilingual",
          "multilingual-qu",
          "xlmr",
        ], id);
      }
      assert.ok(
        t1.notes.some((n: string) => n.includes("Paper profile, smoke")),
        "K-T1 says what it ran on",
      );

      // the setup folders: read by the paper profile's loader and by task embed --projection
      const dirs: string[] = [];
      for await (const e of Deno.readDir(join(cache, "models"))) {
        if (e.name.startsWith("k-paper-")) dirs.push(join(cache, "models", e.name));
      }
      assert.equal(dirs.length, 4);
      const setupDir = dirs.find((d) => d.includes("k-paper-multilingual@"))!;
      for (
        const f of [
          "config.json",
          "model.safetensors",
          "tokenizer.json",
          "projection.safetensors",
          "image/model.safetensors",
          "image/preprocessor_config.json",
          "training.json",
        ]
      ) {
        await Deno.stat(join(setupDir, f));
      }
      // K's dropout in training mode, from each folder's config (the tiny XLM-R 0.1, the ViT 0)
      const rec = JSON.parse(await Deno.readTextFile(join(setupDir, "training.json")));
      assert.deepEqual(rec.data.dropout, {
        text: { hidden: 0.1, attention: 0.1 },
        image: { hidden: 0, attention: 0 },
      });
      const texts = ["hello world", "the cat sat", "a b hello the cat sat world a b"];
      const textsPath = join(root, "texts.txt");
      await Deno.writeTextFile(textsPath, texts.join("\n") + "\n");
      const npy = join(root, "x.npy");
      assert.deepEqual(
        await embedTextsFile({
          model: setupDir,
          texts: textsPath,
          out: npy,
          projection: true,
          silent: true,
          batchSize: 2,
        }),
        [3, 16],
      );
      const cli = await readNpy(npy);
      // library path: the setup folder as the paper profile's sentence encoder
      const enc = await kSetupFolderEncoder(setupDir, {
        id: "t",
        maxLength: 500,
        projection: true,
      });
      const lib = await enc.embed(texts, "en");
      enc.dispose();
      assert.deepEqual(Array.from(cli.data as Float32Array), Array.from(lib.data));
      // independent oracle: unprojected rows · Wᵀ + b in float64
      const raw = join(root, "raw.npy");
      await embedTextsFile({ model: setupDir, texts: textsPath, out: raw, silent: true });
      const x = (await readNpy(raw)).data as Float32Array;
      const p = await readKTextProjection(setupDir);
      for (let i = 0; i < 3; i++) {
        for (let o = 0; o < p.outDim; o++) {
          let s = p.bias[o]!;
          for (let k = 0; k < p.inDim; k++) s += x[i * p.inDim + k]! * p.weight[o * p.inDim + k]!;
          assert.ok(Math.abs(s - lib.data[i * p.outDim + o]!) < 1e-5, `row ${i} col ${o}`);
        }
      }
      // KIT_K_SETUPS_DIR: setup folders made elsewhere are read as they are (here: links to these)
      const given = join(root, "given");
      await Deno.mkdir(given);
      for (const s of K_TRAINED_SETUPS) {
        await Deno.symlink(dirs.find((d) => d.includes(`k-paper-${s}@`))!, join(given, s));
      }
      const saved = Object.fromEntries(
        ["KIT_PROFILE", "KIT_MODELS_DIR", "KIT_K_SETUPS_DIR"].map((k) => [k, Deno.env.get(k)]),
      );
      Object.entries({ KIT_PROFILE: "paper", KIT_MODELS_DIR: models, KIT_K_SETUPS_DIR: given })
        .forEach(([k, v]) => Deno.env.set(k, v));
      try {
        const k = await loadKSetupEncoders({ quiet: true });
        assert.equal(k.xlmr.dim, 16);
        assert.equal(k.multilingual.dim, 16);
        assert.deepEqual(
          Array.from((await k.multilingual.embed(texts, "en")).data),
          Array.from(lib.data),
        );
        for (const e of Object.values(k)) e.dispose();
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
        }
      }
      // the untrained folder has no projection: --projection is an error naming it
      await assert.rejects(
        () =>
          embedTextsFile({
            model: folders.text,
            texts: textsPath,
            out: npy,
            projection: true,
            silent: true,
          }),
        (e: unknown) => e instanceof KitError && /no projection\.safetensors/.test(e.message),
      );
      assert.equal(tf.memory().numTensors >= 0, true);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("parseKTranslations() names the file and line of a bad record", () => {
  const ok = parseKTranslations(
    '{"image_id": 139, "captions": {"en": "A cat.", "es": "Un gato."}}\n\n',
    "t.jsonl",
  );
  assert.deepEqual(ok.map((l) => [l.line, l.image_id, l.captions.es, l.origin.es?.kind]), [
    [1, "139", "Un gato.", "machine"],
  ]);
  for (
    const [text, msg] of [
      ['{"image_id": 1, "captions": {"en": "a"}}\nnot json', /t\.jsonl:2: not JSON/],
      [
        '{"image_id": "x1", "captions": {"en": "a"}}',
        /t\.jsonl:1: "image_id" must be a COCO image id/,
      ],
      ['{"image_id": 1, "captions": {"es": "a"}}', /t\.jsonl:1: captions\.en .* missing/],
      ['{"image_id": 1, "captions": {"en": "a", "fr": "b"}}', /t\.jsonl:1: caption language "fr"/],
      [
        '{"image_id": 1, "captions": {"en": ""}}',
        /t\.jsonl:1: captions\.en must be a non-empty string/,
      ],
      ["\n", /t\.jsonl: no records/],
    ] as const
  ) {
    assert.throws(
      () => parseKTranslations(text, "t.jsonl"),
      (e: unknown) => e instanceof KitError && msg.test(e.message),
      text,
    );
  }
});

Deno.test("paperKCaptions() (smoke: the mirror's COCO subset) takes one record per translations line and names the line of an unknown image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const coco = await loadCocoCaptions(join(MIRROR, "coco", "captions_subset.json"));
    const train = coco.images.find((im) => im.split === "train2017")!;
    const path = join(dir, "t.jsonl");
    const line = (id: number) =>
      JSON.stringify({ image_id: id, captions: { en: "A dog.", es: "Un perro." } });
    await Deno.writeTextFile(path, `${line(train.id)}\n${line(999999999)}\n`);
    await assert.rejects(
      () => paperKCaptions({ smoke: true, translations: path }),
      (e: unknown) =>
        e instanceof KitError &&
        e.message.includes(`${path}:2: image_id 999999999 is not an image`),
    );
    await Deno.writeTextFile(path, `${line(train.id)}\n`);
    const withFile = await paperKCaptions({ smoke: true, translations: path });
    assert.deepEqual(withFile.records.map((r) => [r.image_id, r.partition, r.captions.es]), [
      [String(train.id), "train", "Un perro."],
    ]);
    // without a file: one English record per COCO caption, partitions from the split
    const en = await paperKCaptions({ smoke: true, translations: null });
    const nCaptions = coco.images.reduce((a, im) => a + im.captions.length, 0);
    assert.equal(en.records.length, nCaptions);
    assert.ok(en.records.every((r) => Object.keys(r.captions).join() === "en"));
    assert.equal(
      en.records.filter((r) => r.partition === "train").length,
      coco.images.filter((im) => im.split === "train2017").reduce(
        (a, im) => a + im.captions.length,
        0,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
