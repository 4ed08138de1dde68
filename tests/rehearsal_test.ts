/**
 * The paper rehearsal's wiring at tiny scale (the full rehearsal is not in CI): stand-ins are
 * content-keyed and atomic; the generators' tiny outputs are in the formats the paper path reads
 * (COCO 2017 caption files, WIT v1 shards + images by key, D's ONNX pair loaded by the kit's
 * encoders); the process-tree peak RSS sees a grandchild's memory; the table never shows an
 * extrapolated time as measured.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ensureRehearsalStandins,
  ensureStandin,
  ProcessTreePeakRss,
  rehearsalMarkdown,
  rehearsalPython,
  type RehearsalRecord,
  runRehearsal,
} from "../lib/rehearsal/mod.ts";
import { loadCocoCaptions } from "../lib/sources/coco_captions.ts";
import { D_LANGUAGES, findWitShards, loadWitCaptions, witImageKey } from "../lib/sources/wit.ts";
import { clipImageEncoder } from "../lib/encoders/pretrained/clip_image_encoder.ts";
import { multilingualClipTextEncoder } from "../lib/encoders/pretrained/multilingual_clip_text_encoder.ts";

Deno.test("ensureStandin writes a folder once under a content key, atomically; a failing generator leaves nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "rehearsal-standin-" });
  try {
    let calls = 0;
    const gen = async (tmp: string) => {
      calls++;
      assert.ok(tmp.includes(".tmp-"), "generates under a temporary name");
      await Deno.writeTextFile(join(tmp, "f.txt"), "x");
    };
    const a = await ensureStandin(root, "thing", "tiny", ["v1"], gen);
    const b = await ensureStandin(root, "thing", "tiny", ["v1"], gen);
    assert.equal(a, b);
    assert.equal(calls, 1, "reused, not regenerated");
    const c = await ensureStandin(root, "thing", "tiny", ["v2"], gen);
    assert.notEqual(c, a, "another generator version, another folder");
    assert.equal(calls, 2);
    await assert.rejects(() =>
      ensureStandin(root, "broken", "tiny", ["v1"], async (tmp) => {
        await Deno.writeTextFile(join(tmp, "half"), "x");
        throw new Error("generator crashed");
      })
    );
    const names: string[] = [];
    for await (const e of Deno.readDir(root)) names.push(e.name);
    assert.deepEqual(names.filter((n) => n.startsWith("broken")), [], names.join(", "));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "the tiny stand-ins are in the paper path's formats: COCO 2017 files, WIT shards with nine-language items and their images, D's ONNX pair embedding to 512",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "rehearsal-tiny-" });
    try {
      const s = await ensureRehearsalStandins({ scale: "tiny", root });
      // COCO 2017: both splits, 5+ captions an image, every image file there and distinct
      const hashes = new Set<string>();
      for (const [split, n] of [["train2017", 40], ["val2017", 10]] as const) {
        const coco = await loadCocoCaptions(join(s.coco, "annotations", `captions_${split}.json`));
        assert.equal(coco.images.length, n, split);
        assert.deepEqual(coco.issues, []);
        for (const im of coco.images) {
          assert.ok(im.captions.length >= 5, `${split} ${im.id}`);
          const bytes = await Deno.readFile(join(s.coco, split, im.fileName));
          assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], "a JPEG");
          hashes.add(
            Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))).join(),
          );
        }
      }
      assert.equal(
        hashes.size,
        50,
        "every COCO file distinct in its bytes (the build de-duplicates)",
      );
      // WIT: train, val and test shards; 30 images in all nine languages; images under their key
      const shards = await findWitShards(s.wit.shards);
      assert.equal(shards.length, 3);
      const wit = await loadWitCaptions(shards);
      assert.equal(wit.records.length, 30);
      for (const r of wit.records) {
        assert.deepEqual(Object.keys(r.captions).sort(), [...D_LANGUAGES].sort());
        assert.equal(r.key, witImageKey(r.imageUrl));
        await Deno.stat(join(s.wit.images, `${r.key}.jpg`));
      }
      // D's pair through the kit's ONNX encoders: 512-d rows, distinct inputs give distinct rows
      const text = await multilingualClipTextEncoder(s.mclipText);
      const caps = wit.records.slice(0, 2).map((r) => r.captions.de!);
      const t = await text.embed(caps, "de");
      assert.deepEqual([t.rows, t.cols], [2, 512]);
      const row = (m: typeof t, i: number) =>
        Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
      assert.ok(row(t, 0).every(Number.isFinite));
      assert.notDeepEqual(row(t, 0), row(t, 1));
      text.dispose();
      const image = await clipImageEncoder(s.clipVision);
      const files = wit.records.slice(0, 2).map((r) => join(s.wit.images, `${r.key}.jpg`));
      const im = await image.embed(await Promise.all(files.map((f) => Deno.readFile(f))));
      assert.deepEqual([im.rows, im.cols], [2, 512]);
      assert.ok(row(im, 0).every(Number.isFinite));
      image.dispose();
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("ProcessTreePeakRss counts a grandchild's memory and CPU time", async () => {
  const mb = 300;
  const child = new Deno.Command(rehearsalPython(), {
    args: [
      "-c",
      `import subprocess, sys; subprocess.run([sys.executable, "-c", "import time; b = bytearray(${mb} << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1); t = time.process_time()\\nwhile time.process_time() - t < 1.0: pass\\ntime.sleep(0.5)"])`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const sampler = new ProcessTreePeakRss(child.pid, 100);
  await child.status;
  const { peakBytes, cpuSeconds, samples } = await sampler.stop();
  assert.ok(cpuSeconds >= 0.9 && cpuSeconds < 5, `CPU ${cpuSeconds} s for a 1 s busy loop`);
  assert.ok(samples >= 5, `samples ${samples}`);
  assert.ok(peakBytes >= mb * 2 ** 20, `peak ${peakBytes} < ${mb} MB`);
  assert.ok(peakBytes < (mb + 200) * 2 ** 20, `peak ${peakBytes}: far above the allocation`);
});

Deno.test("the rehearsal table keeps measured and extrapolated times apart and names skipped notebooks", () => {
  const record: RehearsalRecord = {
    scale: "full",
    cocoScale: "full",
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T01:00:00Z",
    machine: { cpu: "CPU", cores: 2, memoryBytes: 8e9, host: "h" },
    backend: "wasm",
    load: { start: 1, end: 2, max: 3 },
    loadNote: "quiet",
    standins: {},
    rows: [
      {
        notebook: "03_bitext_retrieval",
        status: "measured",
        seconds: 600,
        peakRssBytes: 2e9,
        shortened: "10 sentences a language embedded",
        extrapolatedSeconds: 200_000,
        extrapolation: "measured rate × 1,012",
      },
      {
        notebook: "04_xnli",
        status: "skipped",
        seconds: null,
        peakRssBytes: null,
        shortened: "not rehearsed",
        extrapolatedSeconds: null,
      },
    ],
  };
  const md = rehearsalMarkdown(record).split("\n");
  const row03 = md.find((l) => l.startsWith("| 03_bitext_retrieval"))!.split("|").map((c) =>
    c.trim()
  );
  assert.equal(row03[2], "10 min", "the measured column holds the measured time");
  assert.equal(row03[3], "—", "no CPU time recorded");
  assert.match(row03[6]!, /^≈ 2\.3 days \(extrapolated: measured rate × 1,012\)$/);
  const row04 = md.find((l) => l.startsWith("| 04_xnli"))!.split("|").map((c) => c.trim());
  assert.deepEqual([row04[2], row04[4], row04[6]], ["not run", "—", "—"]);
});

Deno.test({
  name:
    "--rehearse-time-limit stops a notebook still running, kills its process tree and still writes the record with the row marked stopped",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const runDir = await Deno.makeTempDir({ prefix: "rehearsal-limit-" });
    try {
      // 01 needs no stand-ins; in a fresh run folder it first builds the mini data (minutes), so
      // a 12 s limit always stops it, after its runner has started a kernel
      const t0 = performance.now();
      const record = await runRehearsal({
        scale: "tiny",
        only: ["01"],
        runDir,
        timeLimitSeconds: 12,
      });
      const wall = (performance.now() - t0) / 1000;
      assert.ok(wall < 12 + 30, `stopped promptly (${wall.toFixed(1)} s)`);
      const row = record.rows.find((r) => r.notebook === "01_translation")!;
      assert.equal(row.status, "stopped");
      assert.ok(row.seconds! >= 12 && row.seconds! < 12 + 30, String(row.seconds));
      assert.ok(row.peakRssBytes! > 0);
      assert.match(row.note ?? "", /time limit/);
      const saved = JSON.parse(await Deno.readTextFile(join(runDir, "rehearsal.json")));
      assert.equal(saved.rows[0].status, "stopped");
      assert.match(await Deno.readTextFile(join(runDir, "rehearsal.md")), /\(stopped\)/);
      // nothing of that notebook's process tree is left (its kernel's arguments name the run folder)
      const left: string[] = [];
      for await (const e of Deno.readDir("/proc")) {
        if (!/^\d+$/.test(e.name)) continue;
        const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
        if (cmd.includes(runDir) && Number(e.name) !== Deno.pid) left.push(cmd);
      }
      assert.deepEqual(left, []);
    } finally {
      await Deno.remove(runDir, { recursive: true });
    }
  },
});
