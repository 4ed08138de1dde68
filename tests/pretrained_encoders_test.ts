import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import type { ImageEncoder, SentenceEncoder } from "../lib/encoders/encoder.ts";
import {
  applyDenseLayer,
  cachedEmbeddings,
  clipImageEncoder,
  type DenseLayer,
  type EmbeddingCacheManifest,
  kProjectedSetupEncoder,
  loadTransformers,
  meanPoolRealTokens,
  multilingualClipTextEncoder,
  xlmrMeanPooledEncoder,
} from "../lib/encoders/pretrained/mod.ts";
import type { RowMatrix } from "../lib/retrieval/row_matrix.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { cacheDir } from "../lib/util/paths.ts";
import { sha256Hex } from "../lib/util/sha256.ts";
import { encodeSafetensors } from "../lib/io/safetensors.ts";
import {
  CLIP_MEAN,
  CLIP_STD,
  tinyDenseWeight,
  tinyTextWeights,
  tinyTokenState,
  WORDPIECE_VOCAB,
  writeTinyClipVisionFolder,
  writeTinyMultilingualClipFolder,
  writeTinyXlmrFolder,
  XLMR_VOCAB,
} from "./fixtures/tiny_pretrained_models.ts";

const TMP = await Deno.makeTempDir({ prefix: "kit-pretrained-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(TMP, { recursive: true });
  } catch { /* already gone */ }
});
let folderCounter = 0;
function freshDir(name: string): string {
  folderCounter += 1;
  return join(TMP, `${folderCounter}-${name}`);
}

// onnxruntime-node keeps native handles open across tests; transformers.js loads lazily.
const OPTS = { sanitizeOps: false, sanitizeResources: false };

/** Naive mean of the hand-computed token states of `ids` (all real tokens). */
function naiveMeanPool(wts: ReturnType<typeof tinyTextWeights>, ids: number[]): number[] {
  const acc = new Array(wts.hidden).fill(0);
  for (const id of ids) tinyTokenState(wts, id, 1).forEach((v, j) => acc[j] += v);
  return acc.map((v) => v / ids.length);
}

function rowOf(m: RowMatrix, r: number): number[] {
  return Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) =>
    assert.ok(
      Math.abs(v - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)),
      `${what}[${i}]: ${v} vs ${expected[i]}`,
    )
  );
}

async function rejectsKit(fn: () => Promise<unknown>, ...patterns: (RegExp | string)[]) {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof KitError, `expected a KitError, got ${String(err)}`);
    const text = err.describe();
    for (const p of patterns) {
      if (typeof p === "string") assert.ok(text.includes(p), `"${p}" not in:\n${text}`);
      else assert.match(text, p);
    }
    return true;
  });
}

const xid = (t: string) => XLMR_VOCAB.indexOf(t as typeof XLMR_VOCAB[number]);
const wid = (t: string) => WORDPIECE_VOCAB.indexOf(t as typeof WORDPIECE_VOCAB[number]);

// Token ids worked out by hand from the fixture vocabularies.
const XLMR_CASES: [string, number[]][] = [
  ["hello world", [0, xid("▁hello"), xid("▁world"), 2]],
  ["the cat sat", [0, xid("▁the"), xid("▁cat"), xid("▁sat"), 2]],
  ["hello", [0, xid("▁hello"), 2]],
  ["a b", [0, xid("▁"), xid("a"), xid("▁"), xid("b"), 2]],
];

Deno.test(
  "loadTransformers() configures transformers.js offline, with its folders in the kit cache",
  OPTS,
  async () => {
    const { env } = await loadTransformers();
    assert.equal(env.allowRemoteModels, false);
    assert.equal(env.useBrowserCache, false);
    assert.ok(env.cacheDir!.startsWith(cacheDir()), env.cacheDir!);
    assert.ok(
      env.localModelPath.startsWith(Deno.env.get("KIT_MODELS_DIR") || cacheDir()),
      env.localModelPath,
    );
    await assert.rejects(() => env.fetch("https://huggingface.co/x"), /offline/);
  },
);

Deno.test("meanPoolRealTokens() averages over attention-mask positions only, like a naive loop", () => {
  const B = 3, L = 5, H = 4;
  const hidden = Float32Array.from({ length: B * L * H }, (_, i) => Math.sin(i * 0.91) * 3);
  // XLM-R-style: <s> = id 0 is a real token, padding (id 1) is not.
  const mask = [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
  const got = meanPoolRealTokens(hidden, mask.map(BigInt), B, L, H);
  for (let b = 0; b < B; b++) {
    const want = new Array(H).fill(0);
    let n = 0;
    for (let t = 0; t < L; t++) {
      if (!mask[b * L + t]) continue;
      n++;
      for (let d = 0; d < H; d++) want[d] += hidden[(b * L + t) * H + d]!;
    }
    assertClose(
      Array.from(got.subarray(b * H, (b + 1) * H)),
      want.map((v) => v / n),
      1e-6,
      `row ${b}`,
    );
  }
  assert.throws(() => meanPoolRealTokens(hidden, mask, B, L, H + 1), KitError);
});

Deno.test("applyDenseLayer() computes act(x·Wᵀ + b) like a naive loop (identity and tanh)", () => {
  const n = 5, m = 3, rows = 4;
  const weight = tinyDenseWeight(m, n);
  const bias = Float32Array.from([0.5, -1, 2]);
  const x = Float32Array.from({ length: rows * n }, (_, i) => Math.cos(i));
  for (const activation of ["identity", "tanh"] as const) {
    for (const b of [null, bias]) {
      const layer: DenseLayer = { inFeatures: n, outFeatures: m, weight, bias: b, activation };
      const got = applyDenseLayer(layer, x, rows);
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < m; o++) {
          let s = b ? b[o]! : 0;
          for (let i = 0; i < n; i++) s += x[r * n + i]! * weight[o * n + i]!;
          const want = activation === "tanh" ? Math.tanh(s) : s;
          assert.ok(Math.abs(got[r * m + o]! - want) < 1e-5, `${activation} ${r},${o}`);
        }
      }
    }
  }
});

Deno.test(
  "xlmrMeanPooledEncoder() runs a tiny ONNX XLM-R through transformers.js and mean-pools over real tokens",
  OPTS,
  async () => {
    const dir = freshDir("xlmr");
    const wts = tinyTextWeights(XLMR_VOCAB.length, 6);
    await writeTinyXlmrFolder(dir, wts); // optimum's layout: model.onnx at the top
    const enc = await xlmrMeanPooledEncoder(dir, { batchSize: 3 });
    try {
      assert.equal(enc.dim, 6);
      assert.match(enc.id, /^hf\/.*xlmr@[0-9a-f]{12}\/mean$/);
      const texts = XLMR_CASES.map(([t]) => t);
      const m = await enc.embed(texts, "en");
      assert.equal(m.rows, texts.length);
      assert.equal(m.cols, 6);
      XLMR_CASES.forEach(([text, ids], r) =>
        assertClose(rowOf(m, r), naiveMeanPool(wts, ids), 1e-5, text)
      );
      // Padding never leaks in: each text alone (no padding) gives the same row as in a batch.
      for (const [r, text] of texts.entries()) {
        assertClose(rowOf(await enc.embed([text], "en"), 0), rowOf(m, r), 1e-6, `${text} alone`);
      }
      // The wrong mask (id != 0) would drop <s> and count <pad> (id 1): a different vector.
      const [text, ids] = XLMR_CASES[2]!;
      const padded = [...ids, 1, 1];
      const wrong = naiveMeanPool(wts, padded.filter((id) => id !== 0));
      assert.ok(
        rowOf(m, 2).some((v, j) => Math.abs(v - wrong[j]!) > 1e-3),
        `${text}: id != 0 pooling should differ`,
      );
      assert.equal((await enc.embed([], "en")).rows, 0);
    } finally {
      enc.dispose();
      enc.dispose(); // idempotent
    }
  },
);

Deno.test(
  "xlmrMeanPooledEncoder() truncates at maxLength tokens and reads onnx/ with external data",
  OPTS,
  async () => {
    const dir = freshDir("xlmr-ext");
    const wts = tinyTextWeights(XLMR_VOCAB.length, 4);
    await writeTinyXlmrFolder(dir, wts, { onnxSubfolder: "onnx", externalData: true });
    const enc = await xlmrMeanPooledEncoder(dir, { maxLength: 4 });
    try {
      const m = await enc.embed(["hello world", "the cat sat"], "en");
      assertClose(rowOf(m, 0), naiveMeanPool(wts, XLMR_CASES[0]![1]), 1e-5, "hello world");
      // [<s>, the, cat, sat, </s>] truncated to 4 tokens keeps </s>.
      assertClose(
        rowOf(m, 1),
        naiveMeanPool(wts, [0, xid("▁the"), xid("▁cat"), 2]),
        1e-5,
        "truncated",
      );
    } finally {
      enc.dispose();
    }
  },
);

Deno.test(
  "multilingualClipTextEncoder() = mean pooling over real tokens, then the 2_Dense layer from safetensors",
  OPTS,
  async () => {
    const dir = freshDir("mclip");
    const H = 5, D = 3;
    const wts = tinyTextWeights(WORDPIECE_VOCAB.length, H);
    const weight = tinyDenseWeight(D, H);
    await writeTinyMultilingualClipFolder(dir, wts, { outFeatures: D, weight });
    const cases: [string, number[]][] = [
      ["hello worlds", [wid("[CLS]"), wid("hello"), wid("world"), wid("##s"), wid("[SEP]")]],
      ["Hund im Schnee.", [2, wid("Hund"), wid("im"), wid("Schnee"), wid("."), 3]],
      ["dog", [2, wid("dog"), 3]],
      ["zebra", [2, wid("[UNK]"), 3]],
    ];
    const enc = await multilingualClipTextEncoder(dir, { batchSize: 2 });
    try {
      assert.equal(enc.dim, D);
      assert.match(enc.id, /mean\+dense$/);
      const reported: number[] = [];
      const m = await enc.embed(cases.map(([t]) => t), "de", {
        onRows: (k) => reported.push(k),
      });
      assert.deepEqual(reported, [2, 2], "progress: one call per batch of 2");
      assert.deepEqual(m.data, (await enc.embed(cases.map(([t]) => t), "de")).data);
      cases.forEach(([text, ids], r) => {
        const pooled = naiveMeanPool(wts, ids);
        const want = Array.from({ length: D }, (_, o) => {
          let s = 0;
          for (let i = 0; i < H; i++) s += pooled[i]! * weight[o * H + i]!;
          return s;
        });
        assertClose(rowOf(m, r), want, 1e-5, text);
      });
    } finally {
      enc.dispose();
    }
  },
);

Deno.test(
  "multilingualClipTextEncoder() truncates at sentence_bert_config.json's max_seq_length",
  OPTS,
  async () => {
    const dir = freshDir("mclip-len");
    const wts = tinyTextWeights(WORDPIECE_VOCAB.length, 4);
    const weight = tinyDenseWeight(2, 4);
    await writeTinyMultilingualClipFolder(dir, wts, { outFeatures: 2, weight, maxSeqLength: 4 });
    const enc = await multilingualClipTextEncoder(dir);
    try {
      const got = rowOf(await enc.embed(["Hund im Schnee."], "de"), 0);
      const pooled = naiveMeanPool(wts, [2, wid("Hund"), wid("im"), 3]);
      const want = [0, 1].map((o) => pooled.reduce((s, v, i) => s + v * weight[o * 4 + i]!, 0));
      assertClose(got, want, 1e-5, "truncated");
    } finally {
      enc.dispose();
    }
  },
);

Deno.test(
  "multilingualClipTextEncoder() names the missing file of an incomplete folder and where to get the model",
  OPTS,
  async () => {
    const wts = tinyTextWeights(WORDPIECE_VOCAB.length, 4);
    const make = async (name: string) => {
      const dir = freshDir(name);
      await writeTinyMultilingualClipFolder(dir, wts, {
        outFeatures: 2,
        weight: tinyDenseWeight(2, 4),
      });
      return dir;
    };
    const hf = "sentence-transformers/clip-ViT-B-32-multilingual-v1";
    await rejectsKit(
      () => multilingualClipTextEncoder(join(TMP, "no-such-model")),
      "does not exist",
      hf,
      "2_Dense/model.safetensors",
    );
    for (
      const file of [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "onnx/model.onnx",
        "2_Dense/config.json",
        "2_Dense/model.safetensors",
      ]
    ) {
      const dir = await make(file.replace(/\W/g, "_"));
      await Deno.remove(join(dir, file));
      await rejectsKit(() => multilingualClipTextEncoder(dir), `${file} is missing`, hf);
    }
    // Only the pickle: say how to convert it.
    const bin = await make("bin");
    await Deno.rename(
      join(bin, "2_Dense/model.safetensors"),
      join(bin, "2_Dense/pytorch_model.bin"),
    );
    await rejectsKit(
      () => multilingualClipTextEncoder(bin),
      "pytorch_model.bin",
      "safetensors.torch",
      "save_file",
    );
    // A Dense layer that does not fit the transformer.
    const bad = await make("bad-dense");
    const cfg = JSON.parse(await Deno.readTextFile(join(bad, "2_Dense/config.json")));
    await Deno.writeTextFile(
      join(bad, "2_Dense/config.json"),
      JSON.stringify({ ...cfg, in_features: 7 }),
    );
    await rejectsKit(
      () => multilingualClipTextEncoder(bad),
      /linear\.weight.*shape \[2, 4\].*\[2, 7\]/,
    );
    // Corrupt ONNX bytes: transformers.js's error, wrapped.
    const corrupt = await make("corrupt");
    await Deno.writeFile(join(corrupt, "onnx/model.onnx"), new TextEncoder().encode("not onnx"));
    await rejectsKit(
      () => multilingualClipTextEncoder(corrupt),
      "could not load the ONNX model",
      hf,
    );
    // A folder without tokenizer_config.json: the kit's message, not transformers.js's TypeError.
    const noTok = await make("no-tok");
    await Deno.remove(join(noTok, "tokenizer_config.json"));
    await rejectsKit(
      () => xlmrMeanPooledEncoder(noTok),
      "tokenizer_config.json is missing",
      "FacebookAI/xlm-roberta-large",
    );
  },
);

/** A PNG of `w`×`h` pixels with distinct values, and its raw RGB bytes (row-major, HWC). */
async function patternPng(w: number, h: number, seed: number): Promise<[Uint8Array, Uint8Array]> {
  const raw = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + seed * 101) % 256);
  const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  return [new Uint8Array(png), raw];
}

Deno.test(
  "clipImageEncoder() preprocesses (centre crop, CLIP mean/std, channels first) and runs a tiny ONNX vision model",
  OPTS,
  async () => {
    const dir = freshDir("clip");
    const S = 4, D = 3;
    const P = Float32Array.from({ length: 3 * S * S * D }, (_, i) => Math.sin(0.61 * i));
    await writeTinyClipVisionFolder(dir, S, P, D);
    const enc = await clipImageEncoder(dir, { batchSize: 2 });
    try {
      assert.equal(enc.dim, D);
      // Short side already S: no resampling, so every pixel can be checked by hand; 4×6 and 6×4
      // are centre-cropped (offset floor((6 − 4) / 2) = 1).
      const sizes: [number, number][] = [[4, 4], [4, 6], [6, 4]];
      const images = await Promise.all(sizes.map(([w, h], i) => patternPng(w, h, i)));
      const reported: number[] = [];
      const m = await enc.embed(images.map(([png]) => png), { onRows: (k) => reported.push(k) });
      assert.deepEqual(reported, [2, 1], "progress: one call per batch of 2");
      assert.equal(m.rows, 3);
      sizes.forEach(([w, h], r) => {
        const raw = images[r]![1];
        const top = Math.floor((h - S) / 2), left = Math.floor((w - S) / 2);
        // pixel_values[c, y, x] = (v / 255 − mean_c) / std_c, flattened channels first.
        const x = new Float64Array(3 * S * S);
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < S; y++) {
            for (let xx = 0; xx < S; xx++) {
              const v = raw[((y + top) * w + xx + left) * 3 + c]!;
              x[c * S * S + y * S + xx] = (v / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
            }
          }
        }
        const want = Array.from(
          { length: D },
          (_, j) => x.reduce((s, v, i) => s + v * P[i * D + j]!, 0),
        );
        assertClose(rowOf(m, r), want, 1e-4, `image ${w}×${h}`);
      });
      await rejectsKit(
        () => enc.embed([images[0]![0], new TextEncoder().encode("not an image")]),
        "image 1 could not be decoded",
      );
    } finally {
      enc.dispose();
    }
    // Missing files are named.
    for (const file of ["preprocessor_config.json", "onnx/vision_model.onnx", "config.json"]) {
      const d = freshDir("clip-missing");
      await writeTinyClipVisionFolder(d, S, P, D);
      await Deno.remove(join(d, file));
      await rejectsKit(
        () => clipImageEncoder(d),
        file,
        "openai/clip-vit-base-patch32",
        "Xenova/clip-vit-base-patch32",
      );
    }
  },
);

Deno.test(
  "clipImageEncoder() feeds a non-square RGBA image to CLIP as OpenCLIP does (Pillow fixture pixels)",
  OPTS,
  async () => {
    const dir = freshDir("clip224");
    const S = 224, D = 2;
    const P = Float32Array.from({ length: 3 * S * S * D }, (_, i) => Math.sin(0.37 * i));
    await writeTinyClipVisionFolder(dir, S, P, D);
    const enc = await clipImageEncoder(dir);
    try {
      const fx = new URL("./fixtures/clip_preprocess/", import.meta.url);
      const m = await enc.embed([await Deno.readFile(new URL("landscape_input.png", fx))]);
      // Pillow's composite-on-white, shortest side 224 (bicubic), centre crop (make_clip_preprocess.py).
      const { data } = await sharp(
        await Deno.readFile(new URL("landscape_clip224_lossless.png", fx)),
      )
        .removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const want = Array.from({ length: D }, (_, j) => {
        let s = 0;
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < S * S; p++) {
            s += ((data[p * 3 + c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!) *
              P[(c * S * S + p) * D + j]!;
          }
        }
        return s;
      });
      assertClose(rowOf(m, 0), want, 1e-2, "224×224 CLIP input");
    } finally {
      enc.dispose();
    }
  },
);

/** A deterministic fake text encoder that counts its calls and can fail after `failAfter` calls. */
function countingTextEncoder(id: string, dim: number, failAfter = Infinity) {
  const stats = { calls: 0, rows: 0 };
  const enc: SentenceEncoder = {
    id,
    dim,
    embed(texts, lang) {
      if (stats.calls >= failAfter) return Promise.reject(new Error("simulated kill"));
      stats.calls += 1;
      stats.rows += texts.length;
      const data = new Float32Array(texts.length * dim);
      texts.forEach((t, r) => {
        const h = sha256Hex(`${lang}:${t}`);
        for (let c = 0; c < dim; c++) {
          data[r * dim + c] = parseInt(h.slice(2 * c, 2 * c + 2), 16) / 255;
        }
      });
      return Promise.resolve({ data, rows: texts.length, cols: dim });
    },
    dispose() {},
  };
  return { enc, stats };
}

const ITEMS = Array.from({ length: 23 }, (_, i) => ({ id: `s${i}`, text: `sentence number ${i}` }));

Deno.test("cachedEmbeddings() embeds in batches, writes .npy chunks + manifest, and a second call makes no encoder call", async () => {
  const root = freshDir("cache");
  const { enc, stats } = countingTextEncoder("fake/text@1", 4);
  const opts = { lang: "de", batchSize: 4, chunkSize: 8, cacheRoot: root, silent: true };
  const first = await cachedEmbeddings(enc, ITEMS, opts);
  assert.equal(stats.calls, Math.ceil(8 / 4) * 2 + Math.ceil(7 / 4)); // chunks of 8, 8, 7 rows
  assert.equal(first.rows, 23);
  assert.deepEqual(first.data, (await enc.embed(ITEMS.map((i) => i.text), "de")).data);
  stats.calls = 0;
  const second = await cachedEmbeddings(enc, ITEMS, opts);
  assert.equal(stats.calls, 0);
  assert.deepEqual(second.data, first.data);
  // Manifest: encoder id, lang, count, dims, chunk checksums that match the files.
  const [dir] = [...Deno.readDirSync(join(root, "fake_text@1"))].map((e) =>
    join(root, "fake_text@1", e.name)
  );
  const manifest = JSON.parse(
    await Deno.readTextFile(join(dir!, "manifest.json")),
  ) as EmbeddingCacheManifest;
  assert.equal(manifest.encoderId, "fake/text@1");
  assert.equal(manifest.lang, "de");
  assert.equal(manifest.count, 23);
  assert.equal(manifest.dim, 4);
  assert.equal(manifest.complete, true);
  assert.deepEqual(manifest.chunks.map((c) => c.rows), [8, 8, 7]);
  for (const c of manifest.chunks) {
    assert.equal(sha256Hex(await Deno.readFile(join(dir!, c.file))), c.sha256);
  }
  const items = JSON.parse(await Deno.readTextFile(join(dir!, "items.json")));
  assert.equal(items.itemHashes.length, 23);
  // Another language is another cache.
  stats.calls = 0;
  await cachedEmbeddings(enc, ITEMS, { ...opts, lang: "fr" });
  assert.equal(stats.calls, 6);
});

Deno.test("cachedEmbeddings() resumes after a kill: finished chunks are kept, only the rest is embedded", async () => {
  const root = freshDir("cache-resume");
  const opts = { lang: "en", batchSize: 4, chunkSize: 8, cacheRoot: root, silent: true };
  // Dies in its 5th batch: chunks 0 and 1 (4 batches) are finished, chunk 2 is not.
  const dying = countingTextEncoder("fake/text@1", 4, 4);
  await assert.rejects(() => cachedEmbeddings(dying.enc, ITEMS, opts), /simulated kill/);
  const again = countingTextEncoder("fake/text@1", 4);
  const resumed = await cachedEmbeddings(again.enc, ITEMS, opts);
  assert.equal(again.stats.rows, 7); // only chunk 2
  assert.equal(again.stats.calls, 2);
  const fresh = countingTextEncoder("fake/text@1", 4);
  const direct = await fresh.enc.embed(ITEMS.map((i) => i.text), "en");
  assert.deepEqual(resumed.data, direct.data);
});

Deno.test("cachedEmbeddings() re-embeds only a chunk whose items changed or whose file is corrupt", async () => {
  const root = freshDir("cache-change");
  const opts = {
    lang: "en",
    batchSize: 4,
    chunkSize: 8,
    cacheRoot: root,
    silent: true,
    cacheKey: "flores/en",
  };
  const { enc, stats } = countingTextEncoder("fake/text@1", 4);
  await cachedEmbeddings(enc, ITEMS, opts);
  const changed = ITEMS.map((it, i) => i === 10 ? { ...it, text: "an edited sentence" } : it);
  stats.rows = 0;
  const m = await cachedEmbeddings(enc, changed, opts);
  assert.equal(stats.rows, 8); // chunk 1 only
  assert.deepEqual(m.data, (await enc.embed(changed.map((i) => i.text), "en")).data);
  // Corrupt chunk 0 on disk.
  const chunk0 = join(root, "flores/en/chunk-00000.npy");
  const bytes = await Deno.readFile(chunk0);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
  await Deno.writeFile(chunk0, bytes);
  stats.rows = 0;
  const m2 = await cachedEmbeddings(enc, changed, opts);
  assert.equal(stats.rows, 8);
  assert.deepEqual(m2.data, m.data);
  // A different encoder id under the same cacheKey starts over.
  const other = countingTextEncoder("fake/text@2", 4);
  await cachedEmbeddings(other.enc, changed, opts);
  assert.equal(other.stats.rows, 23);
  // Fewer items: stale chunk files are removed.
  await cachedEmbeddings(other.enc, changed.slice(0, 5), opts);
  const files = [...Deno.readDirSync(join(root, "flores/en"))].map((e) => e.name).filter((n) =>
    n.endsWith(".npy")
  );
  assert.deepEqual(files, ["chunk-00000.npy"]);
  await rejectsKit(
    () => cachedEmbeddings(enc, ITEMS, { ...opts, cacheKey: "../escape" }),
    "cacheKey",
  );
  await rejectsKit(() => cachedEmbeddings(enc, ITEMS, { ...opts, lang: "" }), "lang");
});

Deno.test("cachedEmbeddings() rejects an encoder returning NaN or the wrong shape, caching nothing for that chunk", async () => {
  const root = freshDir("cache-bad");
  const bad: SentenceEncoder = {
    id: "fake/nan",
    dim: 2,
    embed: (texts) =>
      Promise.resolve({
        data: new Float32Array(texts.length * 2).fill(NaN),
        rows: texts.length,
        cols: 2,
      }),
    dispose() {},
  };
  await rejectsKit(
    () => cachedEmbeddings(bad, ITEMS, { lang: "en", cacheRoot: root, silent: true }),
    "non-finite",
  );
  const short: SentenceEncoder = {
    ...bad,
    id: "fake/short",
    embed: () => Promise.resolve({ data: new Float32Array(2), rows: 1, cols: 2 }),
  };
  await rejectsKit(
    () => cachedEmbeddings(short, ITEMS, { lang: "en", cacheRoot: root, silent: true }),
    "returned 1×2",
  );
});

Deno.test(
  "cachedEmbeddings() works with image encoders and with the transformers.js encoders",
  OPTS,
  async () => {
    const root = freshDir("cache-img");
    let calls = 0;
    const img: ImageEncoder = {
      id: "fake/image",
      dim: 2,
      embed(images) {
        calls++;
        return Promise.resolve({
          data: Float32Array.from(images.flatMap((b) => [b.length, b[0] ?? 0])),
          rows: images.length,
          cols: 2,
        });
      },
      dispose() {},
    };
    const items = Array.from(
      { length: 5 },
      (_, i) => ({ id: `img${i}`, image: new Uint8Array(i + 1).fill(i) }),
    );
    const m = await cachedEmbeddings(img, items, { batchSize: 2, cacheRoot: root, silent: true });
    assert.deepEqual(Array.from(m.data), [1, 0, 2, 1, 3, 2, 4, 3, 5, 4]);
    assert.equal(calls, 3);
    await cachedEmbeddings(img, items, { batchSize: 2, cacheRoot: root, silent: true });
    assert.equal(calls, 3);
    // A real (tiny) transformers.js encoder through the cache: same rows as embedding directly.
    const dir = freshDir("xlmr-cache");
    await writeTinyXlmrFolder(dir, tinyTextWeights(XLMR_VOCAB.length, 4));
    const enc = await xlmrMeanPooledEncoder(dir);
    try {
      const texts = XLMR_CASES.map(([t], i) => ({ id: `t${i}`, text: t }));
      const cached = await cachedEmbeddings(enc, texts, {
        lang: "en",
        batchSize: 2,
        cacheRoot: root,
        silent: true,
      });
      const direct = await enc.embed(texts.map((t) => t.text), "en");
      assertClose(Array.from(cached.data), Array.from(direct.data), 1e-6, "cached vs direct");
    } finally {
      enc.dispose();
    }
  },
);

Deno.test(
  "kProjectedSetupEncoder() evaluates a tuned K setup on its projection (2_Dense) and names a missing Dense file",
  OPTS,
  async () => {
    const dir = freshDir("k-setup");
    const wts = tinyTextWeights(XLMR_VOCAB.length, 6);
    await writeTinyXlmrFolder(dir, wts);
    await assert.rejects(() => kProjectedSetupEncoder(dir), (e: Error) => {
      assert.ok(e instanceof KitError, String(e));
      assert.ok(e.message.includes(join(dir, "2_Dense", "config.json")), e.message);
      return true;
    });
    const P = 3, weight = tinyDenseWeight(P, 6), bias = Float32Array.from([0.5, -0.25, 0]);
    await Deno.mkdir(join(dir, "2_Dense"), { recursive: true });
    await Deno.writeTextFile(
      join(dir, "2_Dense", "config.json"),
      JSON.stringify({
        in_features: 6,
        out_features: P,
        bias: true,
        activation_function: "torch.nn.modules.linear.Identity",
      }),
    );
    await assert.rejects(() => kProjectedSetupEncoder(dir), (e: Error) => {
      assert.ok(e instanceof KitError, String(e));
      assert.ok(e.message.includes(join(dir, "2_Dense", "model.safetensors")), e.message);
      return true;
    });
    await Deno.writeFile(
      join(dir, "2_Dense", "model.safetensors"),
      encodeSafetensors({
        "linear.weight": { dtype: "F32", shape: [P, 6], data: weight },
        "linear.bias": { dtype: "F32", shape: [P], data: bias },
      }),
    );
    const enc = await kProjectedSetupEncoder(dir);
    try {
      assert.equal(enc.dim, P, "the projection's width");
      const [text, ids] = XLMR_CASES[1]!;
      const m = await enc.embed([text], "en");
      assert.equal(m.cols, P);
      const pooled = naiveMeanPool(wts, ids);
      const expected = Array.from(
        { length: P },
        (_, o) => bias[o]! + pooled.reduce((s, x, i) => s + x * weight[o * 6 + i]!, 0),
      );
      assertClose(rowOf(m, 0), expected, 1e-5, text);
    } finally {
      enc.dispose();
    }
  },
);
