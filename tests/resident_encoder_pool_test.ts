/**
 * One residency slot for paper K's five encoders (issue 27): `ResidentEncoderPool` on its own
 * (fake encoders that count how many are loaded), then `loadKSetupEncoders()` in the paper profile
 * on tiny XLM-R setup folders written here (`KIT_K_SETUPS_DIR`), against the eager encoders
 * (`kSetupFolderEncoder`, `xlmrMeanPooledEncoder`) and TF.js's own tensor counts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  K_SETUPS,
  type LazyEncoderSpec,
  ResidentEncoderPool,
  type SentenceEncoder,
  xlmrMeanPooledEncoder,
} from "../lib/encoders/mod.ts";
import {
  K_TRAINED_SETUPS,
  kPaperEncoderPoolStats,
  kSetupFolderEncoder,
  loadKSetupEncoders,
} from "../lib/models/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import {
  tinyTextWeights,
  writeTinyXlmrFolder,
  XLMR_VOCAB,
} from "./fixtures/tiny_pretrained_models.ts";
import {
  TINY_K_HIDDEN as HIDDEN,
  TINY_K_PROJECTION as PROJ,
  writeTinyKSetupFolder as writeTinySetupFolder,
} from "./fixtures/tiny_k_setup_folder.ts";

await initBackend("wasm");

// ---------------------------------------------------------------------------------------------
// the pool on its own

/** Fake encoders whose loads and disposals are counted (`live` = loaded, not yet disposed). */
function countingSpecs(ids: string[], delayMs = 0) {
  const state = { live: 0, maxLive: 0, loads: [] as string[], embeds: [] as string[] };
  const specs = ids.map((id, k): LazyEncoderSpec => ({
    id,
    dim: 2,
    load: async () => {
      await new Promise((r) => setTimeout(r, delayMs));
      state.live++;
      state.maxLive = Math.max(state.maxLive, state.live);
      state.loads.push(id);
      let disposed = false;
      const e: SentenceEncoder = {
        id,
        dim: 2,
        async embed(texts) {
          if (disposed) throw new Error(`${id}: weights read after they were released`);
          await new Promise((r) => setTimeout(r, delayMs));
          if (disposed) throw new Error(`${id}: weights released during embed`);
          state.embeds.push(id);
          return {
            data: Float32Array.from(texts.flatMap((t) => [k, t.length])),
            rows: texts.length,
            cols: 2,
          };
        },
        dispose() {
          if (disposed) return;
          disposed = true;
          state.live--;
        },
      };
      return e;
    },
  }));
  return { state, specs };
}

Deno.test("ResidentEncoderPool: id and dim without loading; one encoder loaded at a time, even for concurrent calls", async () => {
  const { state, specs } = countingSpecs(["a", "b", "c"], 2);
  const pool = new ResidentEncoderPool();
  const [a, b, c] = specs.map((s) => pool.lazy(s)) as [
    SentenceEncoder,
    SentenceEncoder,
    SentenceEncoder,
  ];
  assert.deepEqual([a.id, a.dim, b.id, c.id], ["a", 2, "b", "c"]);
  assert.equal(state.loads.length, 0, "nothing loads before a use");
  assert.equal("fingerprint" in a, false);
  // interleaved, concurrent uses: each eviction waits for the running embed
  const got = await Promise.all([
    a.embed(["x"], "en"),
    b.embed(["yy"], "en"),
    a.embed(["zzz"], "en"),
    c.embed(["w"], "en"),
  ]);
  assert.deepEqual(got.map((m) => Array.from(m.data)), [[0, 1], [1, 2], [0, 3], [2, 1]]);
  assert.equal(state.maxLive, 1, "never two encoders loaded at once");
  assert.deepEqual(state.loads, ["a", "b", "a", "c"]);
  assert.deepEqual(pool.stats(), { resident: "c", loads: 4, releases: 3 });
  // same encoder again: no reload
  await c.embed(["v"], "en");
  assert.equal(pool.stats().loads, 4);
  for (const e of [a, b, c]) e.dispose();
  assert.equal(state.live, 0, "dispose released the resident weights");
  assert.deepEqual(pool.stats(), { resident: null, loads: 4, releases: 4 });
});

Deno.test("ResidentEncoderPool: dispose is idempotent, waits for its running embed, and use after it is a KitError naming the encoder", async () => {
  const { state, specs } = countingSpecs(["a", "b"], 5);
  const pool = new ResidentEncoderPool();
  const a = pool.lazy(specs[0]!), b = pool.lazy(specs[1]!);
  const running = a.embed(["x"], "en");
  const queued = a.embed(["y"], "en");
  await new Promise((r) => setTimeout(r, 1)); // a's first embed is under way
  a.dispose();
  a.dispose();
  // the running call completes on its weights; the one queued behind it is refused
  assert.deepEqual(Array.from((await running).data), [0, 1]);
  await assert.rejects(() => queued, (e: unknown) => {
    assert.ok(e instanceof KitError, String(e));
    assert.match(e.message, /encoder a: used after dispose\(\)/);
    return true;
  });
  assert.equal(state.live, 0, "released once its embed ended");
  await assert.rejects(() => a.embed(["z"], "en"), /encoder a: used after dispose/);
  // a disposed, never-loaded encoder loads nothing
  b.dispose();
  await assert.rejects(() => b.embed(["z"], "en"), /encoder b: used after dispose/);
  assert.deepEqual(state.loads, ["a"]);
});

Deno.test("ResidentEncoderPool: a failed load leaves the slot empty and the next use tries again; an encoder that loads as another is an error", async () => {
  const pool = new ResidentEncoderPool();
  let fail = true, live = 0;
  const ok: SentenceEncoder = {
    id: "e",
    dim: 1,
    embed: (t) => Promise.resolve({ data: new Float32Array(t.length), rows: t.length, cols: 1 }),
    dispose: () => void live--,
  };
  const e = pool.lazy({
    id: "e",
    dim: 1,
    load: () => {
      if (fail) return Promise.reject(new KitError("folder gone"));
      live++;
      return Promise.resolve(ok);
    },
  });
  await assert.rejects(() => e.embed(["x"], "en"), /folder gone/);
  assert.equal(pool.stats().resident, null);
  fail = false;
  assert.equal((await e.embed(["x"], "en")).rows, 1);
  assert.equal(pool.stats().resident, "e");
  const wrong = pool.lazy({
    id: "w",
    dim: 3,
    load: () => {
      live++;
      return Promise.resolve(ok);
    },
  });
  await assert.rejects(() => wrong.embed(["x"], "en"), (err: unknown) => {
    assert.ok(err instanceof KitError);
    assert.match(err.message, /encoder w \(3-d\) loaded as e \(1-d\)/);
    return true;
  });
  assert.equal(pool.stats().resident, null, "e was evicted before w's load");
  assert.equal(live, 0);
  e.dispose();
  wrong.dispose();
});

// ---------------------------------------------------------------------------------------------
// loadKSetupEncoders() in the paper profile, on tiny folders

/**
 * The peak of `tf.memory().numBytes` while `fn` runs, sampled at every tensor the backend is
 * given (`backend.write`: the weights a load creates, which `tf.profile` does not see, as it
 * samples after kernels only) and after every kernel (`tf.profile`).
 */
async function peakBytesDuring(fn: () => Promise<void>): Promise<number> {
  const backend = tf.backend();
  const write = backend.write;
  let peak = tf.memory().numBytes;
  backend.write = function (this: typeof backend, ...args: Parameters<typeof write>) {
    const [values] = args;
    const incoming = values && "byteLength" in values ? values.byteLength : 0;
    peak = Math.max(peak, tf.memory().numBytes + incoming);
    return write.apply(this, args);
  };
  try {
    const prof = await tf.profile(fn);
    return Math.max(peak, prof.peakBytes);
  } finally {
    backend.write = write;
  }
}

/** Tiny K folders: `models/FacebookAI/xlm-roberta-large` and `given/<setup>/`. */
async function withPaperKFolders(
  fn: (f: { models: string; text: string; given: string }) => Promise<void>,
  opts: { onnxText?: boolean } = {},
) {
  const root = await Deno.makeTempDir({ prefix: "k-lazy-" });
  const models = join(root, "models"), given = join(root, "given");
  const text = join(models, "FacebookAI", "xlm-roberta-large");
  if (opts.onnxText) {
    await writeTinyXlmrFolder(text, tinyTextWeights(XLMR_VOCAB.length, HIDDEN), {
      onnxSubfolder: "onnx",
    });
  } else await writeTinySetupFolder(text, 11, false);
  for (const [i, s] of K_TRAINED_SETUPS.entries()) {
    await writeTinySetupFolder(join(given, s), 21 + i, true);
  }
  const keys = [
    "KIT_PROFILE",
    "KIT_MODELS_DIR",
    "KIT_K_SETUPS_DIR",
    "KIT_K_TEXT_MODEL",
    "KIT_CACHE_DIR",
  ];
  const saved = keys.map((k) => Deno.env.get(k));
  Deno.env.set("KIT_PROFILE", "paper");
  // the encoders' content fingerprints remember file hashes under the cache: a temporary one
  Deno.env.set("KIT_CACHE_DIR", join(root, "cache"));
  Deno.env.set("KIT_MODELS_DIR", models);
  Deno.env.set("KIT_K_SETUPS_DIR", given);
  Deno.env.delete("KIT_K_TEXT_MODEL");
  try {
    await fn({ models, text, given });
  } finally {
    keys.forEach((k, i) =>
      saved[i] === undefined ? Deno.env.delete(k) : Deno.env.set(k, saved[i]!)
    );
    await Deno.remove(root, { recursive: true });
  }
}

const ONE_WORD = ["car"];
const TEXTS = ["A red car.", "Un perro pequeño.", "小さい犬", "hello world hello"];

/** The eager encoder of `setup` (as loadKSetupEncoders built them before issue 27). */
function eagerEncoder(setup: string, f: { text: string; given: string }) {
  return setup === "xlmr"
    ? kSetupFolderEncoder(f.text, { id: "eager", maxLength: 500, projection: false })
    : kSetupFolderEncoder(join(f.given, setup), { id: "eager", maxLength: 500, projection: true });
}

Deno.test({
  name:
    "loadKSetupEncoders() (paper): lazy encoders equal the eager ones exactly, hold one encoder's tensors at a time, and dispose frees them all",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withPaperKFolders(async (f) => {
      // eager reference embeddings; each encoder's resident tensors/bytes on its own, and the
      // peak bytes of loading it and embedding with it from nothing
      const base0 = tf.memory();
      const want = new Map<string, Float32Array>();
      const own = new Map<string, { tensors: number; bytes: number; peak: number }>();
      for (const s of K_SETUPS) {
        let tensors = 0, bytes = 0, loaded: SentenceEncoder | null = null;
        const peak = await peakBytesDuring(async () => {
          const e = loaded = await eagerEncoder(s, f);
          const m = tf.memory();
          tensors = m.numTensors - base0.numTensors;
          bytes = m.numBytes - base0.numBytes;
          await e.embed(ONE_WORD, "en");
        });
        own.set(s, { tensors, bytes, peak: peak - base0.numBytes });
        want.set(s, (await loaded!.embed(TEXTS, "en")).data);
        loaded!.dispose();
      }
      assert.equal(tf.memory().numTensors, base0.numTensors, "eager encoders leak nothing");
      for (const [s, o] of own) assert.ok(o.bytes > 20_000, `${s}: ${o.bytes} B of weights`);

      const base = tf.memory();
      const before = kPaperEncoderPoolStats();
      const k = await loadKSetupEncoders({ quiet: true });
      // id/dim known, nothing loaded yet
      assert.equal(tf.memory().numTensors, base.numTensors, "no weights before a use");
      assert.equal(kPaperEncoderPoolStats().loads, before.loads);
      assert.equal(k.xlmr.dim, HIDDEN);
      assert.equal(k.xlmr.id, "hf/xlm-roberta-large/mean");
      for (const s of K_TRAINED_SETUPS) {
        assert.equal(k[s].dim, PROJ, s);
        assert.match(k[s].id, new RegExp(`^kit/k/${s}@.*/projected$`));
      }
      // two passes, as notebook 03 (table loop, then the t-SNE loop): each use of another
      // setup evicts the last one; resident tensors are always one encoder's
      for (const pass of [0, 1]) {
        for (const s of K_SETUPS) {
          // a one-word text, so the activations stay small beside the weights
          const peakAt = await peakBytesDuring(async () => void await k[s].embed(ONE_WORD, "en"));
          const got = await k[s].embed(TEXTS, "en");
          assert.deepEqual(Array.from(got.data), Array.from(want.get(s)!), `${s} pass ${pass}`);
          const m = tf.memory();
          assert.equal(m.numTensors - base.numTensors, own.get(s)!.tensors, `${s}: tensors`);
          assert.equal(m.numBytes - base.numBytes, own.get(s)!.bytes, `${s}: bytes`);
          assert.equal(kPaperEncoderPoolStats().resident, k[s].id);
          // the previous encoder was released before this one loaded: the peak over the
          // baseline is no more than this encoder's own from nothing (else + the previous one's)
          const peak = peakAt - base.numBytes;
          if (pass === 0 && s === "xlmr") assert.equal(peak, own.get(s)!.peak, "from nothing");
          else {
            assert.ok(peak <= own.get(s)!.peak, `${s}: peak ${peak} B > ${own.get(s)!.peak} B`);
          }
        }
      }
      const after = kPaperEncoderPoolStats();
      assert.equal(after.loads - before.loads, 2 * K_SETUPS.length, "a reload a setup a pass");
      // dispose frees everything and is idempotent
      for (const s of K_SETUPS) k[s].dispose();
      for (const s of K_SETUPS) k[s].dispose();
      assert.equal(tf.memory().numTensors, base.numTensors, "no tensor left after dispose");
      assert.equal(tf.memory().numBytes, base.numBytes);
      assert.equal(kPaperEncoderPoolStats().resident, null);
      // use after dispose: a clear error naming the encoder
      await assert.rejects(() => k.multilingual.embed(TEXTS, "en"), (e: unknown) => {
        assert.ok(e instanceof KitError, String(e));
        assert.ok(e.message.includes(k.multilingual.id), e.message);
        assert.match(e.message, /used after dispose/);
        return true;
      });
      assert.equal(tf.memory().numTensors, base.numTensors, "the refused use loaded nothing");
    }),
});

Deno.test({
  name:
    "loadKSetupEncoders() (paper): two sets share the one slot (notebook 03's try-it cell); a set disposed while the other holds the slot leaves it alone",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withPaperKFolders(async (f) => {
      const one = await eagerEncoder("eng-only", f);
      const single = tf.memory().numBytes;
      one.dispose();
      const base = tf.memory();
      const single0 = single - base.numBytes;
      const k1 = await loadKSetupEncoders({ quiet: true });
      const k2 = await loadKSetupEncoders({ quiet: true });
      await k1["eng-only"].embed(TEXTS, "en");
      assert.equal(tf.memory().numBytes - base.numBytes, single0);
      await k2["eng-only"].embed(TEXTS, "en"); // same folder, another encoder: a reload
      assert.equal(tf.memory().numBytes - base.numBytes, single0, "k1's copy was released");
      for (const s of K_SETUPS) k1[s].dispose(); // k2's resident encoder stays
      assert.equal(kPaperEncoderPoolStats().resident, k2["eng-only"].id);
      assert.equal(tf.memory().numBytes - base.numBytes, single0);
      for (const s of K_SETUPS) k2[s].dispose();
      assert.equal(tf.memory().numTensors, base.numTensors);
    }),
});

Deno.test({
  name:
    "loadKSetupEncoders() (paper): the untuned XLM-R from an ONNX export loads lazily with the eager encoder's id and embeddings",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withPaperKFolders(async (f) => {
      const eager = await xlmrMeanPooledEncoder(f.text, { maxLength: 500 });
      const want = await eager.embed(TEXTS, "en");
      eager.dispose();
      const before = kPaperEncoderPoolStats().loads;
      const k = await loadKSetupEncoders({ quiet: true });
      assert.equal(k.xlmr.id, eager.id);
      assert.equal(k.xlmr.dim, eager.dim);
      assert.equal(kPaperEncoderPoolStats().loads, before, "no ONNX session before a use");
      assert.deepEqual(Array.from((await k.xlmr.embed(TEXTS, "en")).data), Array.from(want.data));
      assert.equal(kPaperEncoderPoolStats().resident, eager.id);
      for (const s of K_SETUPS) k[s].dispose();
      assert.equal(kPaperEncoderPoolStats().resident, null);
    }, { onnxText: true }),
});

Deno.test({
  name:
    "loadKSetupEncoders() (paper): a setup folder without projection.safetensors is a KitError naming it before any weights load",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withPaperKFolders(async (f) => {
      await Deno.remove(join(f.given, "eng-pivot", "projection.safetensors"));
      const base = tf.memory().numTensors;
      await assert.rejects(() => loadKSetupEncoders({ quiet: true }), (e: unknown) => {
        assert.ok(e instanceof KitError, String(e));
        assert.match(e.message, /paper profile, K setups: .*eng-pivot: no projection\.safetensors/);
        assert.ok(e.hints.some((h) => h.includes("KIT_K_TEXT_MODEL")), e.hints.join("\n"));
        return true;
      });
      assert.equal(tf.memory().numTensors, base);
    }),
});
