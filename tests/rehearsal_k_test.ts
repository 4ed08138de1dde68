/**
 * The rehearsal of notebooks 03 and 04 at tiny scale (wiring; the full-size stand-ins are not made
 * in CI): K's stand-ins (`tools/rehearsal_k.py`) are in the formats the paper path reads — the
 * registry finds FLORES-200, XNLI 1.0 and MultiNLI 1.0 where `prepareRehearsalRun` links them,
 * `loadKSetupEncoders` (paper profile) loads the XLM-R folder and the four setup folders of
 * `KIT_K_SETUPS_DIR` — the embed limit applies there only when its variable is set, and a
 * rehearsal of 04 (its own `reproduce` process) completes with a filled extrapolation.
 * The end-to-end tiny rehearsal of 03 takes several minutes (it builds the mini dataset for its
 * in-domain benchmark): it runs only with KIT_TEST_REHEARSAL_03=1.
 */
import { withEnv } from "./helpers/with_env.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/backend/mod.ts";
import { DataRegistry } from "../lib/data/registry.ts";
import { loadFloresBitextBenchmark } from "../lib/bitext_eval/mod.ts";
import { loadNliBenchmark } from "../lib/xnli/mod.ts";
import { K_SETUPS } from "../lib/encoders/mod.ts";
import { loadKSetupEncoders } from "../lib/models/mod.ts";
import { XNLI_LANGUAGES } from "../lib/sources/xnli.ts";
import {
  ensureKRehearsalStandins,
  type KRehearsalStandins,
  prepareRehearsalRun,
  readEmbedLimitLog,
  runRehearsal,
} from "../lib/rehearsal/mod.ts";

await initBackend("wasm");

const ROOT = await Deno.makeTempDir({ prefix: "rehearsal-k-" });
let standins: Promise<KRehearsalStandins> | null = null;
/** The tiny K stand-ins, made once for this file's tests. */
const tinyK = () => (standins ??= ensureKRehearsalStandins({ scale: "tiny", root: ROOT }));

Deno.test({
  name:
    "K's tiny stand-ins resolve as the paper datasets (FLORES-200, MultiNLI + XNLI + the mirror's AmericasNLI) and load as K's five encoders; the embed limit wraps them only when set",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const k = await tinyK();
    const run = join(ROOT, "in-process");
    const env = await prepareRehearsalRun(run, null, k);
    assert.equal(env.KIT_K_SETUPS_DIR, k.kSetups);
    const registry = new DataRegistry({ cacheRoot: join(env.KIT_CACHE_DIR!, "data"), quiet: true });
    const paper = { profile: "paper" as const, smoke: false };

    const flores = await loadFloresBitextBenchmark(paper, registry);
    assert.equal(flores.pivotLang, "eng_Latn");
    assert.equal(flores.pivot.length, 16, "tiny devtest: 16 lines");
    assert.deepEqual(
      flores.sets.map((s) => s.lang),
      ["ayr_Latn", "hin_Deva", "quy_Latn", "spa_Latn", "zho_Hans"],
    );
    for (const s of flores.sets) assert.equal(s.texts.length, 16, s.lang);
    assert.ok(flores.sets.find((s) => s.lang === "quy_Latn")!.groups.includes("quechua"));
    assert.match(flores.sets.find((s) => s.lang === "hin_Deva")!.texts[0]!, /[\u0900-\u097f]/);

    const nli = await loadNliBenchmark(paper, registry, { seed: 13 });
    assert.equal(nli.train.premise.length, 120, "MultiNLI train: every line has a gold label");
    assert.equal(nli.select.premise.length, 80 - 4, "dev matched + mismatched less the '-' lines");
    const xnli = nli.tests.filter((t) => t.dataset === "xnli");
    assert.deepEqual(xnli.map((t) => t.lang), [...XNLI_LANGUAGES]);
    for (const t of xnli) {
      assert.equal(t.pairs.premise.length, 30, t.lang);
      assert.deepEqual([...t.units], Array.from({ length: 30 }, (_, i) => i), `${t.lang} aligned`);
    }
    const americas = nli.tests.filter((t) => t.dataset === "americasnli");
    assert.equal(americas.length, 10, "AmericasNLI: the mirror's real test files");

    const texts = flores.sets.find((s) => s.lang === "spa_Latn")!.texts.slice(0, 6);
    const rowsOf = (m: { data: Float32Array; cols: number }) =>
      Array.from(
        { length: 6 },
        (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)),
      );
    const base = { ...env, KIT_PROFILE: "paper", KIT_REHEARSE_EMBED_LIMIT: "" };
    // unset: the encoders embed every text (no repeated rows, no log)
    const plain = await withEnv(base, () => loadKSetupEncoders());
    const full: Record<string, number[][]> = {};
    try {
      assert.deepEqual(Object.keys(plain).sort(), [...K_SETUPS].sort());
      assert.equal(plain.xlmr.dim, 32, "untuned: the tiny XLM-R's hidden width");
      assert.equal(plain.multilingual.dim, 16, "a setup: its projection's width");
      for (const s of K_SETUPS) {
        full[s] = rowsOf(await plain[s].embed(texts, "es"));
        assert.notDeepEqual(full[s]![4], full[s]![0], `${s}: row 4 embedded for real`);
        assert.ok(full[s]!.flat().every(Number.isFinite));
      }
      assert.notDeepEqual(full["eng-only"], full["multilingual"], "own projections");
    } finally {
      for (const e of Object.values(plain)) e.dispose();
    }
    // set: the first 2 texts of each call embedded, the rest repeat them, one log line a call
    const log = join(run, "embed.jsonl");
    const limited = await withEnv({
      ...base,
      KIT_REHEARSE_EMBED_LIMIT: "2",
      KIT_REHEARSE_EMBED_LOG: log,
      KIT_REHEARSE_NOTEBOOK: "03_bitext_retrieval",
    }, () => loadKSetupEncoders());
    try {
      for (const s of K_SETUPS) {
        const r = rowsOf(await limited[s].embed(texts, "es"));
        for (let i = 0; i < 6; i++) {
          const want = full[s]![i % 2]!;
          r[i]!.forEach((v, j) => assert.ok(Math.abs(v - want[j]!) < 1e-4, `${s} row ${i}`));
        }
      }
    } finally {
      for (const e of Object.values(limited)) e.dispose();
    }
    const entries = await readEmbedLimitLog(log);
    assert.deepEqual(
      entries.map((e) => [e.notebook, e.encoder, e.requested, e.embedded]),
      K_SETUPS.map((s) => ["03_bitext_retrieval", plain[s].id, 6, 2]),
    );
  },
});

Deno.test({
  name:
    "a tiny rehearsal of 04 with --rehearse-embed-limit runs its own reproduce process to the end and fills the extrapolated time from its embed log",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await tinyK();
    const only = Deno.env.get("KIT_TEST_REHEARSAL_03") === "1" ? ["03", "04"] : ["04"];
    const record = await runRehearsal({
      scale: "tiny",
      only,
      standinRoot: ROOT,
      runDir: join(ROOT, "run"),
      embedLimit: 3,
      backend: "wasm",
    });
    assert.deepEqual(record.rows.map((r) => r.notebook.slice(0, 2)), only);
    assert.equal(record.embedLimit, 3);
    for (const row of record.rows) {
      assert.equal(row.status, "measured", `${row.notebook}: ${row.note}`);
      assert.ok(row.seconds! > 0 && row.peakRssBytes! > 0);
      const entries = await readEmbedLimitLog(row.embedLog!);
      assert.ok(entries.length >= 5, `${row.notebook}: ${entries.length} embed calls logged`);
      assert.ok(entries.every((e) => e.notebook === row.notebook && e.embedded <= 3));
      assert.ok(entries.some((e) => e.requested > e.embedded), "some calls were cut");
      assert.ok(row.extrapolatedSeconds! > row.seconds!, "extrapolated beyond the measured time");
      assert.match(row.extrapolation!, /limit 3 a call/);
      assert.match(row.shortened, /^TINY stand-ins .*EMBED LIMIT 3/);
    }
    const md = await Deno.readTextFile(join(ROOT, "run", "rehearsal.md"));
    assert.match(md, /Embed limit 3/);
    const artifact = JSON.parse(await Deno.readTextFile(join(ROOT, "run", "figures", "K-T2.json")));
    assert.ok(artifact.rows.length > 0, "04 wrote K-T2");
  },
});

Deno.test("cleanup of the tiny K stand-ins", async () => {
  await Deno.remove(ROOT, { recursive: true });
});
