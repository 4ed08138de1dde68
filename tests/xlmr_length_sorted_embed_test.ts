/**
 * Length-sorted batching of the paper profile's K encoders (issue 27): `textBatches` on its own,
 * then `loadSafetensorsTextModel({ sortByLength })` and `kSetupFolderEncoder` on the tiny torch
 * XLM-R fixture — rows in the caller's order and equal to the unsorted (and one-at-a-time) rows,
 * fewer padded tokens counted both by `paddingStats()` and by a spy on the encoder's forward
 * passes, progress, the WASM heap split, empty input, one text, duplicates, no tensor leak.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  loadSafetensorsTextModel,
  paddedTokenCount,
  type SafetensorsTextModel,
  textBatches,
  type TokenBatch,
  xlmrLayerActivationBytes,
} from "../lib/encoders/mod.ts";
import { kSetupFolderEncoder } from "../lib/models/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { writeXlmrTokenizerFiles } from "./fixtures/tiny_pretrained_models.ts";

const FIXTURE = new URL("./fixtures/k_torch/xlmr/", import.meta.url).pathname;

await initBackend("wasm");

/** The torch fixture's XLM-R (2 layers, width 16) with the tiny SentencePiece tokenizer. */
async function withFolder(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of ["config.json", "model.safetensors"]) {
      await Deno.copyFile(join(FIXTURE, f), join(dir, f));
    }
    await writeXlmrTokenizerFiles(dir);
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Long and short texts interleaved (so the caller's order pads every batch to a long one). */
const MIXED = [
  "a b hello the cat sat world a b hello",
  "cat",
  "the cat sat on a b world hello the cat",
  "hello",
  "",
  "b",
  "hello world the cat sat a b a b",
  "a",
  "world",
  "the",
  "hello the cat",
  "sat",
];

/** Each forward pass's `batch × length`, recorded by wrapping the model's encoder. */
function spyPasses(model: SafetensorsTextModel): Array<[number, number]> {
  const passes: Array<[number, number]> = [];
  const enc = model.encoder;
  const embed = enc.embed.bind(enc);
  enc.embed = (b: TokenBatch) => {
    passes.push([b.batch, b.length]);
    return embed(b);
  };
  return passes;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]!))));
  return worst;
}

Deno.test("textBatches(): the caller's order, or by token count with ties in index order; paddedTokenCount", () => {
  const lengths = [5, 2, 5, 9, 2, 2, 7];
  assert.deepEqual(textBatches(lengths, 3, false), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(textBatches(lengths, 3, true), [[1, 4, 5], [0, 2, 6], [3]]);
  // every index exactly once, whatever the batch size
  for (const size of [1, 2, 4, 7, 50]) {
    const flat = textBatches(lengths, size, true).flat().sort((a, b) => a - b);
    assert.deepEqual(flat, lengths.map((_, i) => i));
  }
  assert.equal(paddedTokenCount(lengths, textBatches(lengths, 3, false)), 15 + 27 + 7);
  assert.equal(paddedTokenCount(lengths, textBatches(lengths, 3, true)), 6 + 21 + 9);
  assert.deepEqual(textBatches([], 32, true), []);
  assert.throws(() => textBatches(lengths, 0, true), KitError);
});

Deno.test("loadSafetensorsTextModel({ sortByLength }): rows in the caller's order, equal to the unsorted rows and to each text alone; fewer padded tokens", async () => {
  await withFolder(async (dir) => {
    const plain = await loadSafetensorsTextModel(dir, { batchSize: 3 });
    const sorted = await loadSafetensorsTextModel(dir, { batchSize: 3, sortByLength: true });
    try {
      const h = plain.hiddenSize;
      const plainPasses = spyPasses(plain), sortedPasses = spyPasses(sorted);
      const before = tf.memory().numTensors;
      const done: number[] = [];
      const a = await plain.embed(MIXED);
      const b = await sorted.embed(MIXED, (n) => done.push(n));
      assert.equal(tf.memory().numTensors, before, "no tensor left after embed");
      // rows in the caller's order: each equals the text embedded on its own (no padding)
      for (let i = 0; i < MIXED.length; i++) {
        const alone = await plain.embed([MIXED[i]!]);
        const row = b.subarray(i * h, (i + 1) * h);
        assert.ok(maxAbsDiff(alone, row) < 1e-5, `row ${i} (${JSON.stringify(MIXED[i])})`);
      }
      assert.ok(maxAbsDiff(a, b) < 1e-5, `sorted vs unsorted: ${maxAbsDiff(a, b)}`);
      // progress: after each batch, the texts done so far
      assert.deepEqual(done, [3, 6, 9, 12]);
      // padded tokens: the hook, the spy and the lengths (one text at a time) agree
      const lengths = MIXED.map((t) => plain.tokenize([t]).length);
      const real = lengths.reduce((s, n) => s + n, 0);
      const ps = plain.paddingStats(), ss = sorted.paddingStats();
      // `plain` also embedded the 12 texts one at a time above (no padding)
      assert.deepEqual(ps, {
        texts: 24,
        realTokens: 2 * real,
        paddedTokens: paddedTokenCount(lengths, textBatches(lengths, 3, false)) + real,
        forwardPasses: 16,
      });
      assert.deepEqual(ss, {
        texts: 12,
        realTokens: real,
        paddedTokens: paddedTokenCount(lengths, textBatches(lengths, 3, true)),
        forwardPasses: 4,
      });
      assert.equal(ss.paddedTokens, sortedPasses.reduce((s, [n, len]) => s + n * len, 0));
      assert.equal(
        ps.paddedTokens,
        plainPasses.reduce((s, [n, len]) => s + n * len, 0),
      );
      const plainBatched = plainPasses.slice(0, 4).reduce((s, [n, len]) => s + n * len, 0);
      assert.ok(
        ss.paddedTokens < 0.75 * plainBatched,
        `sorted ${ss.paddedTokens} padded tokens vs ${plainBatched} in the caller's order`,
      );
      // the sorted passes run from the shortest texts to the longest
      const lens = sortedPasses.map(([, len]) => len);
      assert.deepEqual(lens, [...lens].sort((x, y) => x - y));
    } finally {
      plain.dispose();
      sorted.dispose();
    }
  });
});

Deno.test("loadSafetensorsTextModel({ sortByLength }): empty input, one text, duplicates, deterministic", async () => {
  await withFolder(async (dir) => {
    const m = await loadSafetensorsTextModel(dir, { batchSize: 2, sortByLength: true });
    try {
      const h = m.hiddenSize;
      const calls: number[] = [];
      const empty = await m.embed([], (n) => calls.push(n));
      assert.equal(empty.length, 0);
      assert.equal(calls.length, 0);
      assert.deepEqual(m.paddingStats(), {
        texts: 0,
        realTokens: 0,
        paddedTokens: 0,
        forwardPasses: 0,
      });
      const one = await m.embed(["hello the cat"], (n) => calls.push(n));
      assert.equal(one.length, h);
      assert.deepEqual(calls, [1]);
      // duplicates: each copy gets the row of the text (ties keep the caller's order)
      const texts = ["the cat sat", "a", "the cat sat", "hello world a b", "a", "the cat sat"];
      const x = await m.embed(texts);
      const row = (i: number) => x.subarray(i * h, (i + 1) * h);
      for (const [i, j] of [[0, 2], [0, 5], [1, 4]] as const) {
        assert.ok(maxAbsDiff(row(i), row(j)) < 1e-6, `rows ${i} and ${j}`);
      }
      assert.ok(maxAbsDiff(row(0), one) > 1e-3, "different texts, different rows");
      // the same call again: bit-identical rows
      assert.deepEqual(Array.from(await m.embed(texts)), Array.from(x));
    } finally {
      m.dispose();
    }
  });
});

Deno.test("loadSafetensorsTextModel({ sortByLength }): a sorted batch split to fit the WASM heap gives the unsplit rows", async () => {
  await withFolder(async (dir) => {
    const whole = await loadSafetensorsTextModel(dir, { batchSize: 6, sortByLength: true });
    const a = await whole.embed(MIXED);
    const c = whole.encoder.config;
    const length = Math.max(...MIXED.map((t) => whole.tokenize([t]).length));
    // room for two texts' layer of the longest beside what is allocated now
    const limit = (tf.memory().numBytes + 2.5 * xlmrLayerActivationBytes(c, 1, length)) * 8 / 7;
    const split = await loadSafetensorsTextModel(dir, {
      batchSize: 6,
      sortByLength: true,
      wasmHeapLimitBytes: limit,
    });
    try {
      const done: number[] = [];
      const b = await split.embed(MIXED, (n) => done.push(n));
      assert.ok(maxAbsDiff(a, b) < 1e-5, `split rows differ by ${maxAbsDiff(a, b)}`);
      assert.deepEqual(done, [6, 12]);
      const s = split.paddingStats(), w = whole.paddingStats();
      assert.equal(s.texts, 12);
      assert.equal(s.realTokens, w.realTokens);
      assert.ok(s.forwardPasses > w.forwardPasses, `${s.forwardPasses} passes`);
      assert.ok(s.paddedTokens <= w.paddedTokens);
    } finally {
      whole.dispose();
      split.dispose();
    }
  });
});

Deno.test("kSetupFolderEncoder(): sorted by default, rows as the unsorted encoder's, onRows counts every row once", async () => {
  await withFolder(async (dir) => {
    const sorted = await kSetupFolderEncoder(dir, { id: "s", maxLength: 16, projection: false });
    const plain = await kSetupFolderEncoder(dir, {
      id: "p",
      maxLength: 16,
      projection: false,
      batchSize: 5,
      sortByLength: false,
    });
    try {
      const texts = [...MIXED, ...MIXED, ...MIXED.slice(0, 9)]; // 33 texts: 32 + 1
      const before = tf.memory().numTensors;
      const rows: number[] = [];
      const s = await sorted.embed(texts, "en", { onRows: (k) => rows.push(k) });
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(rows, [32, 1]);
      const p = await plain.embed(texts, "en");
      assert.deepEqual([s.rows, s.cols], [33, 16]);
      assert.ok(
        maxAbsDiff(s.data, p.data) < 1e-5,
        `sorted vs unsorted ${maxAbsDiff(s.data, p.data)}`,
      );
    } finally {
      sorted.dispose();
      plain.dispose();
    }
  });
});
