/**
 * Notebooks 03/04 at paper scale are resumable (issue 27): paper K's encoders carry a content
 * fingerprint (computed without loading weights), so their bitext and XNLI results are cached;
 * and a run killed midway resumes at the language / embedding chunk / probe / test language it
 * was in, with the same result as an uninterrupted run. On tiny XLM-R setup folders written
 * here, through the paper profile's own encoder (`kPaperSetupFolderEncoder`, the resident pool).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import type { SentenceEncoder } from "../lib/encoders/mod.ts";
import {
  kPaperEncoderPoolStats,
  kPaperOnnxXlmrEncoder,
  kPaperSetupFolderEncoder,
  kSetupFolderFingerprint,
} from "../lib/models/mod.ts";
import {
  type BitextBenchmark,
  evaluateBitext,
  floresBenchmarkFrom,
} from "../lib/bitext_eval/mod.ts";
import { embedDistinct, evaluateNliSetup, type NliBenchmark } from "../lib/xnli/mod.ts";
import {
  cachedResultWithCheckpoints,
  cacheUsage,
  recordCompleteRun,
} from "../lib/eval_cache/mod.ts";
import { FileHashCache } from "../lib/util/file_hash_cache.ts";
import { syntheticNliPairs } from "./helpers/synthetic_nli.ts";
import { functionEncoder } from "./helpers/test_encoders.ts";
import { TINY_K_PROJECTION, writeTinyKSetupFolder } from "./fixtures/tiny_k_setup_folder.ts";
import {
  tinyTextWeights,
  writeTinyXlmrFolder,
  XLMR_VOCAB,
} from "./fixtures/tiny_pretrained_models.ts";

await initBackend("wasm");

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "k-resumable-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Rewrites `path` with one byte flipped (or as `bytes`), with a new mtime `bump` s ahead. */
async function rewrite(path: string, bytes: Uint8Array, bump: number): Promise<void> {
  await Deno.writeFile(path, bytes);
  const t = new Date(Date.now() + bump * 1000);
  await Deno.utime(path, t, t);
}

function flipped(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length >> 1]! ^= 1;
  return out;
}

/** One `embed` call seen by {@link counting}. */
interface EmbedCall {
  lang: string;
  texts: string[];
}

/**
 * `encoder` with its `embed` calls recorded; the call numbered `killAt` (0-based) throws before
 * embedding anything — a process killed then, as far as the evaluation can tell.
 */
function counting(encoder: SentenceEncoder, killAt = Infinity) {
  const calls: EmbedCall[] = [];
  const wrapped: SentenceEncoder = {
    id: encoder.id,
    dim: encoder.dim,
    ...(encoder.fingerprint === undefined ? {} : { fingerprint: encoder.fingerprint }),
    embed(texts, lang, opts) {
      if (calls.length >= killAt) return Promise.reject(new Error("simulated kill"));
      calls.push({ lang, texts: [...texts] });
      return encoder.embed(texts, lang, opts);
    },
    dispose: () => encoder.dispose(),
  };
  return { encoder: wrapped, calls };
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** Every file under `dir`, relative paths. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await names(dir)) {
    const p = join(dir, name);
    if ((await Deno.stat(p)).isDirectory) out.push(...await filesUnder(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the fingerprint

Deno.test("kPaperSetupFolderEncoder(): a content fingerprint of every weight, config, tokenizer and projection byte and the options, without loading weights", async () => {
  await withTemp(async (tmp) => {
    const dir = join(tmp, "multilingual");
    await writeTinyKSetupFolder(dir, 5, true);
    const hashCache = new FileHashCache(join(tmp, "hashes.json"));
    const tensors = tf.memory().numTensors, loads = kPaperEncoderPoolStats().loads;
    const o = { maxLength: 500, projection: true };
    const enc = await kPaperSetupFolderEncoder(dir, { id: "kit/k/a/projected", ...o, hashCache });
    const fp0 = enc.fingerprint!;
    assert.match(fp0, /^[0-9a-f]{64}$/);
    assert.equal(enc.dim, TINY_K_PROJECTION);
    assert.equal(kPaperEncoderPoolStats().loads, loads, "no weights loaded for the fingerprint");
    assert.equal(tf.memory().numTensors, tensors, "no tensor created");
    const fp = (opts: { maxLength: number; projection: boolean; batchSize?: number } = o) =>
      kSetupFolderFingerprint(dir, opts, { hashCache });
    assert.equal(await fp(), fp0);
    // the id names the encoder; it is not content
    const b = await kPaperSetupFolderEncoder(dir, { id: "other", ...o, hashCache });
    assert.equal(b.fingerprint, fp0);
    // the options that decide the rows
    const byOption = [
      await fp({ maxLength: 128, projection: true }),
      await fp({ maxLength: 500, projection: false }),
      await fp({ ...o, batchSize: 8 }),
    ];
    assert.equal(new Set([fp0, ...byOption]).size, 4, "maxLength, projection, batch size");
    const untuned = byOption[1]!;
    // every file: one byte changed → another fingerprint; the bytes back → the same one
    let bump = 10;
    for (
      const f of [
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "projection.safetensors",
      ]
    ) {
      const path = join(dir, f), bytes = await Deno.readFile(path);
      await rewrite(path, flipped(bytes), bump++);
      assert.notEqual(await fp(), fp0, `${f} changed`);
      const untunedNow = await fp({ maxLength: 500, projection: false });
      if (f === "projection.safetensors") assert.equal(untunedNow, untuned, "not read untuned");
      else assert.notEqual(untunedNow, untuned, `${f} changed (untuned)`);
      await rewrite(path, bytes, bump++);
      assert.equal(await fp(), fp0, `${f} restored`);
    }
    // an optional tokenizer file counts once present
    await Deno.writeTextFile(join(dir, "special_tokens_map.json"), "{}");
    assert.notEqual(await fp(), fp0, "special_tokens_map.json");
    await Deno.remove(join(dir, "special_tokens_map.json"));
    assert.equal(await fp(), fp0);
    // stable across processes: a fresh process with its own hash cache gives the same value
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tests/helpers/k_fingerprint_child.ts", dir, join(tmp, "child.json")],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const child = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.equal(child.fingerprint, fp0);
    assert.equal(kPaperEncoderPoolStats().loads, loads, "still nothing loaded");
    enc.dispose();
    b.dispose();
    assert.equal(tf.memory().numTensors, tensors);
  });
});

Deno.test("kPaperOnnxXlmrEncoder(): the fingerprint covers the ONNX file and maxLength, without an ONNX session", async () => {
  await withTemp(async (tmp) => {
    const dir = join(tmp, "xlm-roberta-large");
    await writeTinyXlmrFolder(dir, tinyTextWeights(XLMR_VOCAB.length, 16), {
      onnxSubfolder: "onnx",
    });
    const hashCache = new FileHashCache(join(tmp, "hashes.json"));
    const loads = kPaperEncoderPoolStats().loads;
    const make = (maxLength = 500) => kPaperOnnxXlmrEncoder(dir, { maxLength, hashCache });
    const a = await make();
    assert.match(a.fingerprint!, /^[0-9a-f]{64}$/);
    assert.equal(kPaperEncoderPoolStats().loads, loads, "no ONNX session for the fingerprint");
    const short = await make(128);
    assert.notEqual(short.fingerprint, a.fingerprint);
    assert.equal(short.id, a.id, "the id does not say maxLength; the fingerprint does");
    const onnx = join(dir, "onnx", "model.onnx"), bytes = await Deno.readFile(onnx);
    await rewrite(onnx, flipped(bytes), 10);
    const changed = await make();
    assert.notEqual(changed.fingerprint, a.fingerprint, "the ONNX file's bytes");
    assert.equal(changed.id, a.id, "same size: the id cannot tell");
    await rewrite(onnx, bytes, 11);
    assert.equal((await make()).fingerprint, a.fingerprint);
    for (const e of [a, short, changed]) e.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// bitext (notebook 03)

function syntheticBitext(n: number, langs: string[]): BitextBenchmark {
  const sentences: Record<string, string[]> = {};
  const words = ["car", "dog", "red", "small", "hello", "world", "a", "the"];
  for (const [k, l] of ["eng_Latn", ...langs].entries()) {
    sentences[l] = Array.from(
      { length: n },
      (_, i) => `${words[i % 8]} ${words[(i * 3 + k) % 8]} ${words[(i + 5) % 8]}.`,
    );
  }
  return floresBenchmarkFrom(
    {
      languages: ["eng_Latn", ...langs],
      ids: sentences.eng_Latn!.map((_, i) => `${i}`),
      sentences,
    },
    "synthetic",
  );
}

Deno.test({
  name:
    "evaluateBitext() with a paper K encoder: a run killed after some languages resumes at the next one, equals an uninterrupted run, and a rerun embeds nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTemp(async (tmp) => {
      const dir = join(tmp, "eng-pivot");
      await writeTinyKSetupFolder(dir, 9, true);
      const hashCache = new FileHashCache(join(tmp, "hashes.json"));
      const make = async () =>
        await kPaperSetupFolderEncoder(dir, {
          id: "kit/k/eng-pivot@test/projected",
          maxLength: 500,
          projection: true,
          hashCache,
        });
      const langs = ["spa_Latn", "fra_Latn", "deu_Latn", "quy_Latn", "jpn_Jpan"];
      const bench = syntheticBitext(7, langs);
      const tensors = tf.memory().numTensors;
      const lines: string[] = [];
      const cache = { dir: join(tmp, "results"), log: (l: string) => lines.push(l) };

      const plain = counting(await make());
      const reference = await evaluateBitext(plain.encoder, bench, { cache: false });
      assert.equal(plain.calls.length, 1 + langs.length);

      // killed in the third language: the pivot and two languages are checkpointed
      const killed = counting(await make(), 3);
      await assert.rejects(
        () => evaluateBitext(killed.encoder, bench, { cache }),
        /simulated kill/,
      );
      assert.deepEqual(killed.calls.map((c) => c.lang), ["eng_Latn", "spa_Latn", "fra_Latn"]);
      assert.equal((await names(join(tmp, "results", "bitext-checkpoints"))).length, 1);
      assert.deepEqual(await names(join(tmp, "results", "bitext")), [], "no result yet");

      // the rerun embeds only the languages not done (not even the pivot) and equals the
      // uninterrupted run
      const resumed = counting(await make());
      const r = await evaluateBitext(resumed.encoder, bench, { cache });
      assert.deepEqual(resumed.calls.map((c) => c.lang), langs.slice(2));
      assert.deepEqual(resumed.calls[0]!.texts, bench.sets[2]!.texts);
      assert.deepEqual(r, reference);
      assert.ok(
        lines.some((l) => /^bitext: resuming an interrupted run/.test(l)),
        lines.join("\n"),
      );
      // done: the result is stored, the checkpoints are gone
      assert.equal((await names(join(tmp, "results", "bitext"))).length, 1);
      assert.deepEqual(await names(join(tmp, "results")), ["bitext"], "no checkpoint folder left");

      // a rerun hits the cache: nothing embedded, no weights loaded
      const loads = kPaperEncoderPoolStats().loads;
      const again = counting(await make());
      assert.deepEqual(await evaluateBitext(again.encoder, bench, { cache }), reference);
      assert.equal(again.calls.length, 0);
      assert.equal(kPaperEncoderPoolStats().loads, loads);

      // retrained weights (another seed) are another encoder: everything is embedded again
      await writeTinyKSetupFolder(dir, 10, true);
      const other = counting(await make());
      assert.notEqual(other.encoder.fingerprint, again.encoder.fingerprint);
      await evaluateBitext(other.encoder, bench, { cache });
      assert.equal(other.calls.length, 1 + langs.length);

      for (const e of [plain, killed, resumed, again, other]) e.encoder.dispose();
      assert.equal(tf.memory().numTensors, tensors, "no tensor left");
    }),
});

// ---------------------------------------------------------------------------------------------
// XNLI (notebook 04)

function syntheticNli(): NliBenchmark {
  const units = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const test = (dataset: "xnli" | "americasnli", lang: string, offset: number) => ({
    dataset,
    lang,
    pairs: syntheticNliPairs(lang, 12, offset),
    units: units(12),
  });
  return {
    description: "synthetic",
    train: syntheticNliPairs("en", 30, 0),
    select: syntheticNliPairs("en", 12, 30),
    tests: [test("xnli", "en", 100), test("xnli", "es", 100), test("americasnli", "quy", 200)],
    units: { xnli: 12, americasnli: 12 },
    split: null,
    notes: [],
    inputs: {},
  };
}

Deno.test({
  name:
    "evaluateNliSetup() with a paper K encoder: killed while embedding the training set, then in the test languages, it resumes each time where it was and equals an uninterrupted run",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTemp(async (tmp) => {
      const dir = join(tmp, "multilingual");
      await writeTinyKSetupFolder(dir, 13, true);
      const hashCache = new FileHashCache(join(tmp, "hashes.json"));
      const make = async () =>
        await kPaperSetupFolderEncoder(dir, {
          id: "kit/k/multilingual@test/projected",
          maxLength: 500,
          projection: true,
          hashCache,
        });
      const bench = syntheticNli();
      const tensors = tf.memory().numTensors;
      const epochs: number[] = [];
      const probe = {
        seed: 4,
        hidden: [8],
        epochs: 3,
        onEpoch: (e: { epoch: number }) => void epochs.push(e.epoch),
      };
      const lines: string[] = [];
      const cache = { dir: join(tmp, "results"), log: (l: string) => lines.push(l) };
      const checkpoints = join(tmp, "results", "nli-checkpoints");
      // embed calls of one setup: train premises, train hypotheses, select ×2, 3 tests × 2
      const plain = counting(await make());
      const reference = await evaluateNliSetup(plain.encoder, bench, probe, false);
      assert.equal(plain.calls.length, 10);
      assert.deepEqual(epochs, [1, 2, 3]);

      // 1. killed while embedding the training hypotheses: the premises are checkpointed
      const k1 = counting(await make(), 1);
      await assert.rejects(
        () => evaluateNliSetup(k1.encoder, bench, probe, cache),
        /simulated kill/,
      );
      assert.deepEqual(k1.calls.map((c) => c.texts), [[...new Set(bench.train.premise)]]);

      // 2. resumed, then killed in the second test language (its premises): the probe is
      // checkpointed and the training/selection embeddings it was trained on are removed
      epochs.length = 0;
      const k2 = counting(await make(), 5);
      await assert.rejects(
        () => evaluateNliSetup(k2.encoder, bench, probe, cache),
        /simulated kill/,
      );
      assert.deepEqual(k2.calls.map((c) => c.texts), [
        [...new Set(bench.train.hypothesis)],
        [...new Set(bench.select.premise)],
        [...new Set(bench.select.hypothesis)],
        [...new Set(bench.tests[0]!.pairs.premise)],
        [...new Set(bench.tests[0]!.pairs.hypothesis)],
      ]);
      assert.deepEqual(epochs, [1, 2, 3], "the probe was trained in this run");
      const left = await filesUnder(checkpoints);
      assert.equal(left.length, 2, `the probe and test 0 only: ${left.join(", ")}`);
      assert.ok(
        left.every((f) => /^[0-9a-f]{32}\/nli-step\/[0-9a-f]{32}\.safetensors$/.test(f)),
        left.join(),
      );
      // the probe's sub-steps (training/selection embeddings) left no folder behind
      assert.deepEqual(await names(join(checkpoints, left[0]!.split("/")[0]!)), ["nli-step"]);

      // 3. resumed: only the last two test languages are embedded; the probe is read back (its
      // epochs replayed); the result equals the uninterrupted run's
      epochs.length = 0;
      const k3 = counting(await make());
      const r = await evaluateNliSetup(k3.encoder, bench, probe, cache);
      assert.deepEqual(k3.calls.map((c) => c.lang), ["es", "es", "quy", "quy"]);
      assert.deepEqual(epochs, [1, 2, 3], "onEpoch replayed from the checkpointed probe");
      assert.deepEqual(r, reference);
      assert.ok(lines.some((l) => /^nli: resuming an interrupted run/.test(l)), lines.join("\n"));
      assert.deepEqual(await names(join(tmp, "results")), ["nli"], "checkpoints removed");

      // 4. a rerun hits the cache without embedding or loading anything
      epochs.length = 0;
      const loads = kPaperEncoderPoolStats().loads;
      const k4 = counting(await make());
      assert.deepEqual(await evaluateNliSetup(k4.encoder, bench, probe, cache), reference);
      assert.equal(k4.calls.length, 0);
      assert.equal(kPaperEncoderPoolStats().loads, loads);
      assert.deepEqual(epochs, [1, 2, 3]);

      for (const e of [plain, k1, k2, k3, k4]) e.encoder.dispose();
      assert.equal(tf.memory().numTensors, tensors, "no tensor left");
    }),
});

Deno.test("embedDistinct() with checkpoints resumes at the chunk it was killed in; a damaged checkpoint is reported and recomputed", async () => {
  await withTemp(async (tmp) => {
    const texts = ["a", "b", "a", "c", "d", "e", "b", "f", "g"]; // 7 distinct: chunks of 2
    const lines: string[] = [];
    const opts = { dir: tmp, log: (l: string) => lines.push(l) };
    const run = (enc: SentenceEncoder) =>
      cachedResultWithCheckpoints("demo", { n: 1 }, async (checkpoints) => {
        const { matrix, rowOf } = await embedDistinct(enc, texts, "en", {
          chunk: 2,
          checkpoints,
          name: "demo",
        });
        return { data: matrix.data, rowOf };
      }, opts);
    const vec = (t: string) => [t.charCodeAt(0), t.length];
    const reference = await embedDistinct(functionEncoder("f", 2, vec), texts, "en", { chunk: 2 });
    const killed = counting(functionEncoder("f", 2, vec), 2);
    await assert.rejects(() => run(killed.encoder), /simulated kill/);
    const resumed = counting(functionEncoder("f", 2, vec));
    const r = await run(resumed.encoder);
    assert.deepEqual(resumed.calls.map((c) => c.texts), [["e", "f"], ["g"]]);
    assert.deepEqual(r.data, reference.matrix.data);
    assert.deepEqual(r.rowOf, reference.rowOf);
    assert.deepEqual(await names(join(tmp, "demo-checkpoints")), []);

    // killed again (another key); the first chunk's checkpoint then damaged on disk
    const run2 = (enc: SentenceEncoder) =>
      cachedResultWithCheckpoints("demo", { n: 2 }, async (checkpoints) => {
        const { matrix } = await embedDistinct(enc, texts, "en", { chunk: 2, checkpoints });
        return matrix.data;
      }, opts);
    await assert.rejects(() => run2(counting(functionEncoder("f", 2, vec), 2).encoder));
    const [entry] = await names(join(tmp, "demo-checkpoints"));
    const stepDir = join(tmp, "demo-checkpoints", entry!, "demo-step");
    const files = await names(stepDir);
    assert.equal(files.length, 2);
    const chunk0 = [...files].sort()[0]!;
    const bytes = await Deno.readFile(join(stepDir, chunk0));
    await Deno.writeFile(join(stepDir, chunk0), flipped(bytes));
    lines.length = 0;
    const again = counting(functionEncoder("f", 2, vec));
    assert.deepEqual(await run2(again.encoder), reference.matrix.data);
    // of the two chunks done, the damaged one is embedded again, with the two not done
    assert.equal(again.calls.length, 3, JSON.stringify(again.calls));
    assert.deepEqual(again.calls.slice(1).map((c) => c.texts), [["e", "f"], ["g"]]);
    assert.ok(
      ["a,b", "c,d"].includes(again.calls[0]!.texts.join()),
      JSON.stringify(again.calls[0]),
    );
    assert.ok(lines.some((l) => /^demo-step: cache entry damaged/.test(l)), lines.join("\n"));
  });
});

Deno.test("cacheUsage(): the checkpoints of a run never resumed are stale once a later complete run started", async () => {
  await withTemp(async (root) => {
    const opts = { dir: join(root, "results"), log: () => {} };
    await assert.rejects(() =>
      cachedResultWithCheckpoints("nli", { n: 1 }, async (cp) => {
        await cp.step("one", () => Promise.resolve(new Float32Array([1])));
        throw new Error("simulated kill");
      }, opts)
    );
    const [entry] = await names(join(root, "results", "nli-checkpoints"));
    assert.ok(entry);
    let folder = (await cacheUsage(root)).folders.find((f) =>
      f.folder === "results/nli-checkpoints"
    );
    assert.ok(folder && folder.bytes > 0 && folder.stale.length === 0, "no complete run yet");
    await recordCompleteRun("mini", Date.now() + 60_000, root);
    folder = (await cacheUsage(root)).folders.find((f) => f.folder === "results/nli-checkpoints");
    assert.deepEqual(folder!.stale, [join(root, "results", "nli-checkpoints", entry)]);
  });
});
