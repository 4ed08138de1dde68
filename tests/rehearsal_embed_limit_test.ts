/**
 * The rehearsal's embed limit (`--rehearse-embed-limit N`): the wrapper embeds the first N texts
 * of a call for real and repeats those rows, logging each call; the extrapolation adds
 * seconds × (requested / embedded − 1) per call; nothing changes when the variable is unset; the
 * table states the rule and N and keeps the extrapolated time out of the measured column.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { KSetupId, SentenceEncoder } from "../lib/encoders/encoder.ts";
import {
  applyRehearsalEmbedLimit,
  embedExtrapolationNote,
  type EmbedLimitLogEntry,
  embedLimitNote,
  extrapolatedEmbedSeconds,
  readEmbedLimitLog,
  rehearsalEmbedLimit,
  rehearsalMarkdown,
  type RehearsalRecord,
  withEmbedLimit,
} from "../lib/rehearsal/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

/** An encoder whose row for text t is [length of t, code of its first char, call number]. */
function recordingEncoder(): SentenceEncoder & { calls: string[][]; disposed: number } {
  const calls: string[][] = [];
  const e = {
    id: "test/len",
    dim: 3,
    fingerprint: "abc",
    calls,
    disposed: 0,
    embed(texts: readonly string[]) {
      calls.push([...texts]);
      const data = new Float32Array(texts.length * 3);
      texts.forEach((t, i) => data.set([t.length, t.charCodeAt(0), calls.length], i * 3));
      return Promise.resolve({ data, rows: texts.length, cols: 3 });
    },
    dispose() {
      e.disposed++;
    },
  };
  return e;
}

const row = (m: { data: Float32Array; cols: number }, i: number) =>
  Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));

Deno.test("withEmbedLimit embeds the first N texts, repeats their rows cyclically, and logs each call", async () => {
  const inner = recordingEncoder();
  const log: EmbedLimitLogEntry[] = [];
  const e = withEmbedLimit(inner, 3, (x) => void log.push(x), "03_bitext_retrieval");
  assert.equal(e.id, inner.id);
  assert.equal(e.dim, 3);
  assert.equal(e.fingerprint, undefined, "no fingerprint: result caches never keep these rows");
  const texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"];
  const m = await e.embed(texts, "en");
  assert.deepEqual(inner.calls, [["a", "bb", "ccc"]], "only the first 3 embedded");
  assert.deepEqual([m.rows, m.cols], [7, 3]);
  for (let r = 0; r < 7; r++) {
    const src = r % 3;
    assert.deepEqual(row(m, r), [texts[src]!.length, texts[src]!.charCodeAt(0), 1], `row ${r}`);
  }
  // a call within the limit is passed through unchanged
  const small = await e.embed(["xy", "z"], "de");
  assert.deepEqual(inner.calls[1], ["xy", "z"]);
  assert.deepEqual([row(small, 0), row(small, 1)], [[2, 120, 2], [1, 122, 2]]);
  assert.equal(log.length, 2);
  assert.deepEqual(
    log.map(({ seconds: _, ...x }) => x),
    [
      { notebook: "03_bitext_retrieval", encoder: "test/len", requested: 7, embedded: 3 },
      { notebook: "03_bitext_retrieval", encoder: "test/len", requested: 2, embedded: 2 },
    ],
  );
  assert.ok(log.every((x) => x.seconds >= 0 && Number.isFinite(x.seconds)));
  e.dispose();
  assert.equal(inner.disposed, 1);
  assert.throws(() => withEmbedLimit(inner, 0, () => {}), KitError);
});

Deno.test("withEmbedLimit passes onRows to the encoder: progress counts the embedded rows once", async () => {
  const seen: number[] = [];
  const inner: SentenceEncoder = {
    id: "test/progress",
    dim: 1,
    embed(texts, _lang, opts) {
      for (let i = 0; i < texts.length; i += 2) opts?.onRows?.(Math.min(2, texts.length - i));
      return Promise.resolve({ data: new Float32Array(texts.length), rows: texts.length, cols: 1 });
    },
    dispose() {},
  };
  const e = withEmbedLimit(inner, 5, () => {});
  const m = await e.embed(["a", "b", "c", "d", "e", "f", "g", "h"], "en", {
    onRows: (k) => seen.push(k),
  });
  assert.equal(m.rows, 8);
  // the first 5 texts are embedded (in batches of 2); the caller counts the other 3 on return
  assert.deepEqual(seen, [2, 2, 1]);
});

Deno.test("the embed log is JSON lines in a file; readEmbedLimitLog reads it back and names a bad line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "embed-limit-" });
  try {
    const path = join(dir, "nb.embed.jsonl");
    const e = withEmbedLimit(recordingEncoder(), 2, path, "04_xnli");
    await e.embed(["a", "b", "c", "d", "e"], "en");
    await e.embed(["a"], "en");
    const entries = await readEmbedLimitLog(path);
    assert.deepEqual(entries.map((x) => [x.notebook, x.requested, x.embedded]), [
      ["04_xnli", 5, 2],
      ["04_xnli", 1, 1],
    ]);
    assert.deepEqual(await readEmbedLimitLog(join(dir, "absent.jsonl")), []);
    await Deno.writeTextFile(path, '{"requested": 3, "embedded": 4, "seconds": 1}\n');
    await assert.rejects(() => readEmbedLimitLog(path), /nb\.embed\.jsonl:1: expected/);
    await Deno.writeTextFile(path, "\n{oops\n");
    await assert.rejects(() => readEmbedLimitLog(path), /nb\.embed\.jsonl:2: not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extrapolation: Σ seconds × (requested / embedded − 1); a call embedding everything adds nothing", () => {
  const entries: EmbedLimitLogEntry[] = [
    { notebook: "03", encoder: "a", requested: 1012, embedded: 8, seconds: 4 },
    { notebook: "03", encoder: "a", requested: 5, embedded: 5, seconds: 1.5 },
    { notebook: "03", encoder: "b", requested: 100, embedded: 8, seconds: 2 },
  ];
  const x = extrapolatedEmbedSeconds(entries);
  const expected = 4 * (1012 / 8 - 1) + 0 + 2 * (100 / 8 - 1);
  assert.ok(Math.abs(x.extraSeconds - expected) < 1e-9, `${x.extraSeconds} vs ${expected}`);
  assert.equal(x.embedSeconds, 7.5);
  assert.deepEqual([x.requested, x.embedded, x.calls], [1117, 21, 3]);
  assert.deepEqual(extrapolatedEmbedSeconds([]).extraSeconds, 0);
  assert.throws(
    () =>
      extrapolatedEmbedSeconds([{
        notebook: "",
        encoder: "z",
        requested: 4,
        embedded: 0,
        seconds: 0,
      }]),
    /embedded 0 of 4/,
  );
  const note = embedExtrapolationNote(8, x);
  assert.match(note, /over 3 embed calls/);
  assert.match(note, /21 of 1,117 texts embedded \(limit 8 a call\)/);
});

Deno.test("without KIT_REHEARSE_EMBED_LIMIT the encoders are returned as they are; a bad value is an error", () => {
  const enc = Object.fromEntries(
    (["xlmr", "eng-only"] as KSetupId[]).map((s) => [s, recordingEncoder()]),
  ) as unknown as Record<KSetupId, SentenceEncoder>;
  assert.equal(applyRehearsalEmbedLimit(enc, {}), enc, "unset: the same object");
  assert.equal(applyRehearsalEmbedLimit(enc, { KIT_REHEARSE_EMBED_LIMIT: "" }), enc);
  assert.equal(rehearsalEmbedLimit({}), null);
  const wrapped = applyRehearsalEmbedLimit(enc, {
    KIT_REHEARSE_EMBED_LIMIT: "4",
    KIT_REHEARSE_EMBED_LOG: "/nonexistent/x.jsonl",
    KIT_REHEARSE_NOTEBOOK: "03_bitext_retrieval",
  });
  assert.notEqual(wrapped.xlmr, enc.xlmr);
  assert.equal(wrapped.xlmr.id, enc.xlmr.id);
  assert.deepEqual(
    rehearsalEmbedLimit({ KIT_REHEARSE_EMBED_LIMIT: "4", KIT_REHEARSE_EMBED_LOG: "/l" }),
    { limit: 4, log: "/l", notebook: "" },
  );
  assert.throws(
    () => rehearsalEmbedLimit({ KIT_REHEARSE_EMBED_LIMIT: "2.5", KIT_REHEARSE_EMBED_LOG: "/l" }),
    /KIT_REHEARSE_EMBED_LIMIT=2.5: expected a positive integer/,
  );
  assert.throws(
    () => rehearsalEmbedLimit({ KIT_REHEARSE_EMBED_LIMIT: "4" }),
    /KIT_REHEARSE_EMBED_LOG is not/,
  );
});

Deno.test("the table states the embed limit and its rule, fills the extrapolated column and keeps the measured one measured", () => {
  const x = extrapolatedEmbedSeconds([
    { notebook: "03", encoder: "a", requested: 1000, embedded: 10, seconds: 100 },
  ]);
  const record: RehearsalRecord = {
    scale: "full",
    cocoScale: "full",
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T01:00:00Z",
    machine: { cpu: "CPU", cores: 2, memoryBytes: 24e9, host: "h" },
    backend: "cpu",
    load: { start: 1, end: 2, max: 3 },
    loadNote: "quiet",
    standins: {},
    embedLimit: 10,
    rows: [{
      notebook: "03_bitext_retrieval",
      status: "measured",
      seconds: 1800,
      peakRssBytes: 12e9,
      cpuSeconds: 3000,
      shortened: `${embedLimitNote(10)} FLORES stand-in.`,
      extrapolatedSeconds: 1800 + x.extraSeconds,
      extrapolation: embedExtrapolationNote(10, x),
    }],
  };
  const md = rehearsalMarkdown(record);
  assert.match(md, /Embed limit 10: K's encoders embedded the first 10 texts of each call/);
  assert.match(md, /measured wall \+ Σ over calls of seconds × \(requested \/ embedded − 1\)/);
  const cells = md.split("\n").find((l) => l.startsWith("| 03_bitext_retrieval"))!.split("|")
    .map((c) => c.trim());
  assert.equal(cells[2], "30 min", "measured wall time");
  assert.match(cells[5]!, /^EMBED LIMIT 10: /);
  // 1800 + 100 × 99 = 11,700 s = 3.3 h
  assert.equal(1800 + x.extraSeconds, 11_700);
  assert.match(cells[6]!, /^≈ 3\.3 h \(extrapolated: measured wall \+ Σ over 1 embed calls/);
  // without a limit the header says nothing about it
  const plain = rehearsalMarkdown({ ...record, embedLimit: undefined });
  assert.doesNotMatch(plain, /Embed limit/);
});
