import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import sharp from "sharp";
import { DataRegistry } from "../lib/data/registry.ts";
import { kT1InDomainBenchmark } from "../lib/bitext_eval/in_domain_bitext.ts";
import { PAPER_COUNTS } from "../lib/plan/paper_estimate.ts";
import {
  assignPartitions,
  buildDataset,
  buildMiniDataset,
  type CandidateSample,
  captionLengthFigure,
  cldrEmojiSource,
  cocoSource,
  D_WIT_BUILD,
  dataT1Rows,
  decodeTar,
  dMiniItems,
  encodeTar,
  iterateDataset,
  MINI_LANGUAGES,
  MINI_SMOKE_LIMIT,
  readManifest,
  readSampleIndex,
  readShard,
  sampleKey,
  trainEmojiNames,
  tuxPaintSource,
  verifyDataset,
  witSource,
} from "../lib/dataset_build/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { installedFontsDigest } from "../lib/util/installed_fonts.ts";
import { checkBitextBenchmark, inDomainBitextBenchmark } from "../lib/bitext_eval/mod.ts";
import { clipPreprocess } from "../lib/images/mod.ts";
import {
  D_LANGUAGES,
  downloadWitImages,
  loadWitCaptions,
  WIT_COLUMNS,
} from "../lib/sources/mod.ts";

const registry = new DataRegistry({
  mirror: Deno.env.get("KIT_DATA_MIRROR") ?? "../shared/data",
  quiet: true,
});
const stampsRoot = (await registry.resolve("tuxpaint-stamps")).root;
const cocoRoot = (await registry.resolve("coco-subset")).root;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const enc = new TextEncoder();

/** File name → mtime and size of every file in a folder (to see what a rerun touched). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const s = await Deno.stat(join(dir, e.name));
    out.set(e.name, `${s.mtime?.getTime()}:${s.size}`);
  }
  return out;
}

Deno.test("encodeTar() writes ustar archives that tar(1) lists and decodeTar() reads back", async () => {
  const entries = [
    { name: "0123456789abcdef0123.png", data: new Uint8Array(700).fill(7) },
    { name: "0123456789abcdef0123.json", data: enc.encode('{"a":1}') },
    { name: `${"d/".repeat(60)}long.txt`, data: enc.encode("deep") },
  ];
  const tar = encodeTar(entries);
  assert.equal(tar.length % 512, 0);
  const back = decodeTar(tar);
  assert.deepEqual(
    back.map((e) => [e.name, sha(e.data)]),
    entries.map((e) => [e.name, sha(e.data)]),
  );
  assert.equal(sha(encodeTar(entries)), sha(tar), "deterministic bytes");
  const p = await Deno.makeTempFile({ suffix: ".tar" });
  await Deno.writeFile(p, tar);
  const out = await new Deno.Command("tar", { args: ["-tvf", p], stdout: "piped", stderr: "piped" })
    .output().catch(() => null);
  if (out) {
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const listing = new TextDecoder().decode(out.stdout);
    assert.match(listing, /0123456789abcdef0123\.png/);
    assert.match(listing, /700/);
    assert.match(listing, /long\.txt/);
  }
  const corrupt = tar.slice();
  corrupt[10] = 0x41;
  assert.throws(
    () => decodeTar(corrupt),
    (e: unknown) => e instanceof KitError && /checksum/.test(e.message),
  );
  assert.throws(
    () => decodeTar(tar.subarray(0, 1024)),
    (e: unknown) => e instanceof KitError && /truncated|cut off/.test(e.message),
  );
});

Deno.test("assignPartitions() is seeded, exact in size, order-free and stable when items are removed", () => {
  const keys = Array.from({ length: 1000 }, (_, i) => sampleKey("s", String(i)));
  const opts = { seed: 7, fractions: { train: 0.8, val: 0.1, test: 0.1 } };
  const a = assignPartitions(keys, opts);
  const b = assignPartitions([...keys].reverse(), opts);
  assert.deepEqual([...a].sort(), [...b].sort());
  const count = (m: Map<string, string>, p: string) =>
    [...m.values()].filter((x) => x === p).length;
  assert.deepEqual([count(a, "train"), count(a, "val"), count(a, "test")], [800, 100, 100]);
  const c = assignPartitions(keys, { ...opts, seed: 8 });
  const same = keys.filter((k) => a.get(k) === c.get(k)).length;
  assert.ok(same < 800, `seed 8 should give a different split (${same} equal)`);
  const fewer = assignPartitions(keys.slice(0, 990), opts);
  const moved = keys.slice(0, 990).filter((k) => fewer.get(k) !== a.get(k)).length;
  assert.ok(moved <= 20, `removing 10 items moved ${moved}`);
  assert.throws(
    () => assignPartitions(keys, { seed: 7, fractions: { train: 0.5, val: 0.1, test: 0.1 } }),
    KitError,
  );
});

/** A direct count of the emoji images, straight from the npm packages' files (not via the kit). */
async function countEmojiFromPackages(): Promise<
  { key: string; concept: string; langs: Set<string>; signature: string }[]
> {
  const nm = new URL("../node_modules/", import.meta.url).pathname;
  const fromHex = (seq: string) =>
    seq.split(/[-_]/).map((h) => parseInt(h, 16)).filter((cp) => cp !== 0xfe0f)
      .map((cp) => cp.toString(16)).join("-");
  const fromChars = (chars: string) =>
    [...chars].map((c) => c.codePointAt(0)!).filter((cp) => cp !== 0xfe0f)
      .map((cp) => cp.toString(16)).join("-");
  // CLDR: concept → locales with a tts name.
  const names = new Map<string, Set<string>>();
  const annDir = join(nm, "cldr-annotations-full", "annotations");
  for await (const e of Deno.readDir(annDir)) {
    const j = JSON.parse(await Deno.readTextFile(join(annDir, e.name, "annotations.json")));
    const loc = e.name === "ca-ES-valencia" ? "ca@valencia" : e.name.replaceAll("-", "_");
    for (const [chars, v] of Object.entries(j.annotations.annotations ?? {})) {
      if (((v as { tts?: string[] }).tts ?? []).length === 0) continue;
      const c = fromChars(chars);
      names.set(c, (names.get(c) ?? new Set()).add(loc));
    }
  }
  // Drawings: set → concept → a signature equal for equal SVG bytes.
  const drawings: [string, Map<string, string>][] = [];
  const tw = new Map<string, string>();
  const twDir = join(nm, "@twemoji", "svg");
  for (
    const f of [...Deno.readDirSync(twDir)].map((e) => e.name).filter((f) => f.endsWith(".svg"))
      .sort()
  ) {
    const c = fromHex(f.slice(0, -4));
    if (!tw.has(c)) tw.set(c, sha(await Deno.readFile(join(twDir, f))));
  }
  drawings.push(["twemoji", tw]);
  for (const [set, pkg] of [["noto", "noto"], ["fluent-emoji-flat", "fluent-emoji-flat"]]) {
    const dir = join(nm, "@iconify-json", pkg!);
    const icons = JSON.parse(await Deno.readTextFile(join(dir, "icons.json")));
    const chars = JSON.parse(await Deno.readTextFile(join(dir, "chars.json")));
    const m = new Map<string, string>();
    for (const seq of Object.keys(chars).sort()) {
      const c = fromHex(seq);
      if (m.has(c)) continue;
      const alias = icons.aliases?.[chars[seq]];
      const icon = icons.icons[chars[seq]] ?? icons.icons[alias?.parent];
      if (!icon?.body || alias?.rotate) continue;
      m.set(
        c,
        JSON.stringify([icon.body, icon.width, icon.height, !!alias?.hFlip, !!alias?.vFlip]),
      );
    }
    drawings.push([set!, m]);
  }
  const out: { key: string; concept: string; langs: Set<string>; signature: string }[] = [];
  for (const [set, m] of drawings) {
    for (const [concept, signature] of m) {
      const langs = names.get(concept);
      if (!langs) continue;
      const key = createHash("sha256").update(`cldr-emoji:${set}/${concept}`).digest("hex").slice(
        0,
        20,
      );
      out.push({ key, concept, langs, signature: `${set}:${signature}` });
    }
  }
  return out;
}

Deno.test("buildMiniDataset() from the mirror and the npm emoji packages: DATA-T1 (≥ 5,000 images, ≥ 120 locales with ≥ 500 captions, qu ≥ 1,500, the ten languages on ≥ 1,500 concepts) agrees with a direct count; partitions split by concept; a rerun is a no-op; a lost shard is rebuilt", async () => {
  const outRoot = await Deno.makeTempDir();
  const r = await buildMiniDataset({ registry, outRoot, smoke: false, quiet: true });
  assert.equal(r.status, "built");
  const all = await readSampleIndex(r.dir);

  // Independent count, stamps: scan every .txt with a regex; image = same stem .png or .svg.
  const found: { key: string; concept: string; langs: Set<string>; signature: string }[] = [];
  const walk = async (d: string): Promise<void> => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".txt")) {
        const stem = p.slice(0, -4);
        const img = (await Deno.readFile(`${stem}.png`).catch(() => null)) ??
          (await Deno.readFile(`${stem}.svg`).catch(() => null));
        if (!img) continue;
        const langs = new Set(["en"]);
        for (const m of (await Deno.readTextFile(p)).matchAll(/^([a-zA-Z_@]+)\.utf8=\s*\S/gm)) {
          langs.add(m[1] === "zh_CN" ? "zh" : m[1]!);
        }
        const id = stem.slice(join(stampsRoot, "stamps").length + 1);
        const key = createHash("sha256").update(`tuxpaint-stamps:${id}`).digest("hex").slice(0, 20);
        found.push({ key, concept: key, langs, signature: sha(img) });
      }
    }
  };
  await walk(join(stampsRoot, "stamps"));
  const stampCount = found.length;
  // ... emoji: straight from the npm packages' JSON and SVG files.
  found.push(...(await countEmojiFromPackages()));
  // Drop byte-identical images except the smallest key (the documented dedupe rule).
  found.sort((a, b) => (a.key < b.key ? -1 : 1));
  const seen = new Set<string>();
  const unique = found.filter((
    f,
  ) => (seen.has(f.signature) ? false : (seen.add(f.signature), true)));
  const uniqueStamps = unique.filter((f) => f.key === f.concept);

  const rows = dataT1Rows(r.manifest);
  const row = (section: string, item: string) =>
    rows.find((x) => x.section === section && x.item === item);
  assert.equal(row("dataset", "images")!.count, unique.length);
  assert.ok(unique.length >= 5000, `${unique.length} images`);
  assert.equal(row("source", "tuxpaint-stamps")!.count, uniqueStamps.length);
  assert.equal(row("source", "cldr-emoji")!.count, unique.length - uniqueStamps.length);
  const langCount = new Map<string, number>();
  for (const f of unique) for (const l of f.langs) langCount.set(l, (langCount.get(l) ?? 0) + 1);
  const langRows = rows.filter((x) => x.section === "language");
  assert.deepEqual(
    Object.fromEntries(langRows.map((x) => [x.item, x.count]).sort()),
    Object.fromEntries([...langCount].sort()),
  );
  const rich = [...langCount].filter(([, n]) => n >= 500).length;
  assert.ok(rich >= 120, `${rich} locales with ≥ 500 captions`);
  assert.ok((langCount.get("qu") ?? 0) >= 1500, `qu: ${langCount.get("qu")} captions`);
  for (const l of [...MINI_LANGUAGES, ...D_LANGUAGES]) {
    const concepts = new Set(unique.filter((f) => f.langs.has(l)).map((f) => f.concept)).size;
    assert.ok(concepts >= 1500, `${l}: ${concepts} concepts`);
  }
  for (const x of r.manifest.intersections) {
    assert.equal(
      row("intersection", x.name)!.count,
      unique.filter((f) => x.languages.every((l) => f.langs.has(l))).length,
      x.name,
    );
  }
  assert.equal(row("rejected", "duplicate image")!.count, found.length - unique.length);
  assert.ok(stampCount - uniqueStamps.length <= 2); // the one known stamp twin (fireman240a)
  assert.equal(row("rejected", "description without image")!.count, 2);
  assert.equal(row("skipped", "mirror variant")!.count, 11);
  const parts = r.manifest.partitions;
  assert.equal(parts.train + parts.val + parts.test, unique.length);
  assert.equal(
    rows.filter((x) => x.section === "rejected").reduce((s, x) => s + x.count, 0),
    r.manifest.rejects.rejected,
  );

  // Partitions split by concept: every image of a concept in one partition, 50/10/40 of concepts.
  const partOf = new Map<string, Set<string>>();
  for (const s of all) {
    const g = s.group ?? s.key;
    partOf.set(g, (partOf.get(g) ?? new Set()).add(s.partition));
    if (s.source === "cldr-emoji") {
      assert.equal(s.group, `emoji:${s.meta!.concept}`);
      assert.ok(s.sourceId.endsWith(`/${s.meta!.concept}`));
    }
  }
  assert.deepEqual([...partOf.values()].filter((p) => p.size > 1), []);
  const concepts = new Set(unique.map((f) => f.concept));
  assert.equal(partOf.size, concepts.size);
  const nTrain = [...partOf.values()].filter((p) => p.has("train")).length;
  const nVal = [...partOf.values()].filter((p) => p.has("val")).length;
  assert.equal(nTrain, Math.round(concepts.size * 0.5));
  assert.equal(nVal, Math.round(concepts.size * 0.1));

  // D's mini items: val + test concepts in all nine languages, one image each, key-sorted.
  const items = dMiniItems(all, { minItems: 1000 });
  const heldNine = new Set(
    all.filter((s) => s.partition !== "train" && D_LANGUAGES.every((l) => s.captions[l]?.[0]))
      .map((s) => s.group ?? s.key),
  );
  assert.equal(items.length, heldNine.size);
  assert.equal(new Set(items.map((i) => i.concept)).size, items.length);
  assert.ok(items.every((it, i) => i === 0 || items[i - 1]!.key < it.key));
  assert.ok(items.every((it) => it.partition !== "train"));

  // Monolingual CLDR names of train concepts only: per locale, exactly the names the train emoji
  // records carry (as a multiset, one per concept), in an order that is not the concept order.
  const mono = await trainEmojiNames(all, { seed: 11, registry });
  const trainEmoji = new Map<string, Record<string, string[]>>();
  for (const s of all) {
    if (s.source === "cldr-emoji" && s.partition === "train") trainEmoji.set(s.group!, s.captions);
  }
  for (const l of ["en", "qu", "ja"]) {
    const want = [...trainEmoji.values()].flatMap((c) => c[l] ?? []).sort();
    assert.deepEqual([...mono[l]!].sort(), want, l);
  }
  assert.ok(Object.keys(mono).length >= 120);

  // K's in-domain bitext: test concepts only, one unit per concept, qu among the locales.
  const b = inDomainBitextBenchmark(all, { minNames: 50 });
  checkBitextBenchmark(b);
  const testConcepts = new Set(
    all.filter((s) => s.partition === "test" && s.captions.en?.[0]).map((s) => s.group ?? s.key),
  );
  assert.equal(b.pivot.length, testConcepts.size);
  assert.ok(b.sets.find((x) => x.lang === "qu")!.groups.includes("quechua"));
  assert.ok(b.sets.filter((x) => x.groups.includes("not-in-xlmr")).length >= 10);

  // Caption-length figure: one box trace per language with one length per caption.
  const fig = captionLengthFigure(all);
  assert.deepEqual(fig.data.map((t) => t.name), [...MINI_LANGUAGES]);
  assert.equal((fig.data[0]!.y as number[]).length, row("language", "en")!.captions);

  // The paper plan prices notebook 03's in-domain rows by this dataset's count (K-T1's
  // in-domain benchmark: the English pivot and every language's held-out captions)
  const inDomain = kT1InDomainBenchmark(all);
  assert.equal(
    inDomain.pivot.length + inDomain.sets.reduce((n, s) => n + s.texts.length, 0),
    PAPER_COUNTS.inDomainTexts,
  );

  // Idempotent: nothing in the folder changes.
  const before = await snapshot(r.dir);
  const manifestBytes = await Deno.readTextFile(join(r.dir, "manifest.json"));
  const again = await buildMiniDataset({ registry, outRoot, smoke: false, quiet: true });
  assert.equal(again.status, "up-to-date");
  assert.equal(again.dir, r.dir);
  assert.deepEqual(again.filesWritten, []);
  assert.deepEqual(await snapshot(r.dir), before);
  assert.equal(await Deno.readTextFile(join(r.dir, "manifest.json")), manifestBytes);

  // Resumable: a deleted shard and a corrupted one are rebuilt; the manifest is unchanged.
  const [s0, s1] = r.manifest.shards;
  await Deno.remove(join(r.dir, s0!.name));
  const f = await Deno.open(join(r.dir, s1!.name), { write: true });
  await f.truncate(1000);
  f.close();
  assert.equal((await verifyDataset(r.dir)).ok, false);
  const fixed = await buildMiniDataset({ registry, outRoot, smoke: false, quiet: true });
  assert.equal(fixed.status, "resumed");
  assert.equal(fixed.shardsWritten, 2);
  assert.equal(await Deno.readTextFile(join(r.dir, "manifest.json")), manifestBytes);
  assert.deepEqual(await verifyDataset(r.dir), { ok: true, problems: [] });

  // A shard read back: every sample has a 64×64 PNG and its record.
  const samples = await readShard(join(r.dir, s0!.name));
  assert.equal(samples.length, s0!.samples);
  const meta = await sharp(samples[0]!.png).metadata();
  assert.deepEqual([meta.width, meta.height, meta.channels], [64, 64, 3]);
  assert.deepEqual(samples[0]!.record, all.find((s) => s.key === samples[0]!.key));
  assert.ok(samples.every((s, i) => i === 0 || samples[i - 1]!.key < s.key));
  await Deno.remove(outRoot, { recursive: true });
});

Deno.test("buildDataset() puts every image of a group (concept) in one partition; ungrouped images split as before", async () => {
  const dir = await Deno.makeTempDir();
  const png = async (i: number) => {
    const p = join(dir, `${i}.png`);
    await sharp({
      create: {
        width: 4,
        height: 4,
        channels: 3,
        background: { r: i % 256, g: (i >> 8) * 40, b: 7 },
      },
    })
      .png().toFile(p);
    return p;
  };
  const candidates: CandidateSample[] = [];
  for (let i = 0; i < 120; i++) {
    const group = i < 90 ? `emoji:${i % 30}` : undefined; // 30 concepts × 3 drawings, 30 loners
    candidates.push({
      key: sampleKey("t", String(i)),
      source: "t",
      sourceId: String(i),
      imagePath: await png(i),
      imageFile: `${i}.png`,
      captions: { en: [`c${group ?? i}`] },
      ...(group ? { group } : {}),
    });
  }
  const source = {
    name: "t",
    load: () =>
      Promise.resolve({
        name: "t",
        dataset: null,
        root: dir,
        candidates,
        issues: [],
        inputFiles: [],
        options: {},
      }),
  };
  const partition = { seed: 3, fractions: { train: 0.5, val: 0.1, test: 0.4 } };
  const r = await buildDataset({
    sources: [source],
    outRoot: dir,
    profile: "t",
    quiet: true,
    partition,
  });
  const all = await readSampleIndex(r.dir);
  assert.equal(all.length, 120);
  const byGroup = new Map<string, Set<string>>();
  for (const s of all) {
    byGroup.set(s.group ?? s.key, (byGroup.get(s.group ?? s.key) ?? new Set()).add(s.partition));
  }
  assert.equal(byGroup.size, 60);
  assert.ok([...byGroup.values()].every((p) => p.size === 1));
  // Same ranking as assignPartitions over the 60 group ids.
  const expect = assignPartitions([...byGroup.keys()], partition);
  for (const s of all) assert.equal(s.partition, expect.get(s.group ?? s.key), s.key);
  assert.equal([...expect.values()].filter((p) => p === "train").length, 30);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cldrEmojiSource() yields the same candidates from its load cache; a deleted drawing is written again", async () => {
  const drawingsDir = await Deno.makeTempDir();
  const src = () => cldrEmojiSource({ registry, drawingsDir, sets: ["twemoji"], quiet: true });
  const first = await src().load();
  assert.ok(first.candidates.length >= 1500);
  const cat = first.candidates.find((c) => c.sourceId === "twemoji/1f408")!;
  assert.equal(cat.captions.en![0], "cat");
  assert.equal(cat.group, "emoji:1f408");
  assert.ok(cat.captions.qu![0]!.length > 0);
  // The drawing is Twemoji's file, byte for byte.
  assert.deepEqual(
    await Deno.readFile(cat.imagePath),
    await Deno.readFile(new URL("../node_modules/@twemoji/svg/1f408.svg", import.meta.url)),
  );
  assert.ok([...Deno.readDirSync(drawingsDir)].some((e) => e.name.startsWith(".load-")));
  const again = await src().load();
  assert.equal(JSON.stringify(again), JSON.stringify(first));
  await Deno.remove(cat.imagePath);
  const third = await src().load();
  assert.equal(JSON.stringify(third), JSON.stringify(first));
  assert.ok((await Deno.stat(cat.imagePath)).isFile);
  await Deno.remove(drawingsDir, { recursive: true });
});

Deno.test("buildDataset() killed after its first shard completes on rerun with the same bytes as an uninterrupted build", async () => {
  const outA = await Deno.makeTempDir(), outB = await Deno.makeTempDir();
  const opts = {
    sources: [tuxPaintSource({ registry })],
    limit: 40,
    samplesPerShard: 8,
    quiet: true,
    profile: "test",
  } as const;
  const ctl = new AbortController();
  let n = 0;
  await assert.rejects(
    () =>
      buildDataset({
        ...opts,
        outRoot: outA,
        signal: ctl.signal,
        onShardWritten: () => (++n === 1 ? ctl.abort() : undefined),
      }),
    KitError,
  );
  assert.equal(n, 1);
  const partial = join(outA, "test");
  const [hashDir] = [...Deno.readDirSync(partial)].map((e) => e.name);
  await assert.rejects(() => readManifest(join(partial, hashDir!)), KitError);
  // A half-written temp file from the kill is cleaned up.
  await Deno.writeFile(join(partial, hashDir!, "train-00001.tar.123.1.tmp"), new Uint8Array(100));
  const resumed = await buildDataset({ ...opts, outRoot: outA });
  assert.equal(resumed.status, "resumed");
  assert.equal(resumed.shardsReused, 1);
  assert.equal(resumed.shardsWritten, resumed.manifest.shards.length - 1);
  assert.deepEqual(await verifyDataset(resumed.dir), { ok: true, problems: [] });
  assert.ok(![...Deno.readDirSync(resumed.dir)].some((e) => e.name.endsWith(".tmp")));
  const clean = await buildDataset({ ...opts, outRoot: outB });
  assert.equal(clean.manifest.configHash, resumed.manifest.configHash);
  assert.deepEqual(clean.manifest.shards, resumed.manifest.shards);
  assert.ok(resumed.manifest.samples.count >= 38 && resumed.manifest.samples.count <= 40);
  let count = 0;
  for await (const s of iterateDataset(resumed.dir, { partition: "val" })) {
    assert.equal(s.record.partition, "val");
    count++;
  }
  assert.equal(count, resumed.manifest.partitions.val);
  await Deno.remove(outA, { recursive: true });
  await Deno.remove(outB, { recursive: true });
});

Deno.test("buildDataset() rejects a truncated PNG, HTML saved as .jpg, a zero-byte file and a malformed line, with reasons, while the rest builds", async () => {
  const dir = await Deno.makeTempDir();
  // Tux Paint-style fixture: three good stamps copied from the mirror, a truncated PNG, a zero-byte PNG.
  const s = join(dir, "tux", "stamps", "fixture");
  await Deno.mkdir(s, { recursive: true });
  const badger = await Deno.readFile(join(stampsRoot, "stamps/animals/mammals/badger.png"));
  await Deno.writeFile(join(s, "badger.png"), badger);
  await Deno.writeTextFile(
    join(s, "badger.txt"),
    "A badger.\nes.utf8=Un tejón.\nzh_CN.utf8=獾。\nthis is not LANG.utf8=text\nja.utf8=アナグマ。\n",
  );
  await Deno.copyFile(join(stampsRoot, "stamps/symbols/shapes/heart.svg"), join(s, "heart.svg"));
  await Deno.writeTextFile(join(s, "heart.txt"), "A heart.\nde.utf8=Ein Herz.\n");
  await Deno.writeFile(join(s, "broken.png"), badger.subarray(0, badger.length >> 1));
  await Deno.writeTextFile(join(s, "broken.txt"), "A broken image.\n");
  await Deno.writeFile(join(s, "empty.png"), new Uint8Array());
  await Deno.writeTextFile(join(s, "empty.txt"), "An empty file.\n");
  // COCO-style fixture: a real JPEG, HTML saved as .jpg, a zero-byte .jpg.
  const c = join(dir, "coco");
  await Deno.mkdir(join(c, "images"), { recursive: true });
  await Deno.copyFile(
    join(cocoRoot, "images/000000000790.jpg"),
    join(c, "images/000000000790.jpg"),
  );
  await Deno.writeTextFile(
    join(c, "images/000000000002.jpg"),
    "<!DOCTYPE html>\n<html><body><h1>429 Too Many Requests</h1></body></html>\n",
  );
  await Deno.writeFile(join(c, "images/000000000003.jpg"), new Uint8Array());
  const img = (id: number) => ({
    id,
    file_name: `${String(id).padStart(12, "0")}.jpg`,
    width: 640,
    height: 480,
    license: 4,
  });
  await Deno.writeTextFile(
    join(c, "captions.json"),
    JSON.stringify({
      info: {},
      licenses: [{
        id: 4,
        name: "Attribution License",
        url: "http://creativecommons.org/licenses/by/2.0/",
      }],
      images: [img(790), img(2), img(3)],
      annotations: [
        { image_id: 790, id: 1, caption: "A man on a skateboard." },
        { image_id: 790, id: 2, caption: "Someone skating." },
        { image_id: 2, id: 3, caption: "Never shown." },
        { image_id: 3, id: 4, caption: "Never shown either." },
      ],
    }),
  );
  const outRoot = await Deno.makeTempDir();
  const r = await buildDataset({
    sources: [
      tuxPaintSource({ root: join(dir, "tux") }),
      cocoSource({ root: c, captionsFile: "captions.json", imagesDir: "images" }),
    ],
    outRoot,
    profile: "fixture",
    quiet: true,
  });
  const samples = await readSampleIndex(r.dir);
  assert.deepEqual(samples.map((x) => `${x.source}:${x.sourceId}`).sort(), [
    "coco:790",
    "tuxpaint-stamps:fixture/badger",
    "tuxpaint-stamps:fixture/heart",
  ]);
  const badgerRec = samples.find((x) => x.sourceId === "fixture/badger")!;
  assert.deepEqual(badgerRec.captions, {
    en: ["A badger."],
    es: ["Un tejón."],
    zh: ["獾。"],
    ja: ["アナグマ。"],
  });
  assert.equal(badgerRec.original.sha256, sha(badger));
  assert.equal(samples.find((x) => x.source === "coco")!.captions.en!.length, 2);

  const report = JSON.parse(await Deno.readTextFile(r.rejects.json)) as {
    issues: { source: string; file: string; line?: number; reason: string }[];
  };
  const got = report.issues.map((i) => `${i.source}|${i.file}|${i.line ?? ""}|${i.reason}`).sort();
  assert.deepEqual(got, [
    "coco|images/000000000002.jpg||not an image: HTML",
    "coco|images/000000000003.jpg||empty file",
    "tuxpaint-stamps|stamps/fixture/badger.txt|4|malformed line",
    "tuxpaint-stamps|stamps/fixture/broken.png||truncated image",
    "tuxpaint-stamps|stamps/fixture/empty.png||empty file",
  ]);
  const md = await Deno.readTextFile(r.rejects.markdown);
  for (
    const f of ["000000000002.jpg", "000000000003.jpg", "badger.txt", "broken.png", "empty.png"]
  ) assert.ok(md.includes(f), f);
  assert.match(md, /\| not an image: HTML \| 1 \|/);
  const rows = dataT1Rows(r.manifest);
  assert.equal(rows.find((x) => x.section === "rejected" && x.item === "empty file")!.count, 2);
  assert.equal(rows.find((x) => x.section === "dataset")!.count, 3);
  assert.deepEqual(r.manifest.inputs.map((i) => [i.source, i.kept]), [["tuxpaint-stamps", 2], [
    "coco",
    1,
  ]]);
  assert.deepEqual(await verifyDataset(r.dir), { ok: true, problems: [] });
  // Changing an input makes a new dataset folder (the hash covers config and inputs).
  await Deno.writeTextFile(join(s, "heart.txt"), "A red heart.\n");
  const r2 = await buildDataset({
    sources: [
      tuxPaintSource({ root: join(dir, "tux") }),
      cocoSource({ root: c, captionsFile: "captions.json", imagesDir: "images" }),
    ],
    outRoot,
    profile: "fixture",
    quiet: true,
  });
  assert.notEqual(r2.dir, r.dir);
  assert.equal(r2.status, "built");
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(outRoot, { recursive: true });
});

Deno.test("buildMiniDataset() in smoke mode keeps the first 60 candidates by key", async () => {
  const outRoot = await Deno.makeTempDir();
  const r = await buildMiniDataset({
    registry,
    outRoot,
    smoke: true,
    quiet: true,
    includeCoco: true,
  });
  assert.equal(r.manifest.profile, "mini-smoke");
  const candidates = r.manifest.inputs.reduce((s, i) => s + i.candidates, 0);
  assert.ok(candidates > MINI_SMOKE_LIMIT);
  assert.ok(
    r.manifest.samples.count <= MINI_SMOKE_LIMIT &&
      r.manifest.samples.count >= MINI_SMOKE_LIMIT - 3,
  );
  assert.deepEqual(r.manifest.inputs.map((i) => i.source), [
    "tuxpaint-stamps",
    "cldr-emoji",
    "coco",
  ]);
  assert.ok(r.seconds < 30);
  await Deno.remove(outRoot, { recursive: true });
});

Deno.test("downloadWitImages() + witSource() build D's set: downloaded images keyed by sha256(url)[:20], HTML replies rejected", async () => {
  const dir = await Deno.makeTempDir();
  const header = WIT_COLUMNS.join("\t");
  const urls = ["a", "b", "c"].map((x) =>
    `https://upload.wikimedia.org/wikipedia/commons/${x}/${x}${x}/${x}.png`
  );
  const lines = [header];
  for (const u of urls) {
    for (const l of D_LANGUAGES) {
      lines.push(
        WIT_COLUMNS.map((c) =>
          ({
            language: l,
            image_url: u,
            caption_reference_description: `${u.slice(-5)} ${l}`,
          } as Record<string, string>)[c] ?? ""
        ).join("\t"),
      );
    }
  }
  await Deno.writeTextFile(
    join(dir, "wit_v1.train.all-00000-of-00010.tsv"),
    lines.join("\n") + "\n",
  );
  const wit = await loadWitCaptions([join(dir, "wit_v1.train.all-00000-of-00010.tsv")]);
  assert.equal(wit.records.length, 3);
  const png = await Deno.readFile(join(stampsRoot, "stamps/animals/mammals/badger.png"));
  const svg = await Deno.readFile(join(stampsRoot, "stamps/symbols/shapes/heart.svg"));
  const requested: string[] = [];
  const fakeFetch = ((input: string | URL | Request) => {
    const url = String(input);
    requested.push(url);
    if (url.endsWith("/c.png")) {
      return Promise.resolve(new Response("<!DOCTYPE html><html>Error</html>", { status: 200 }));
    }
    if (url.endsWith("/b.png") && requested.filter((u) => u === url).length === 1) {
      return Promise.resolve(new Response("busy", { status: 503 }));
    }
    return Promise.resolve(new Response(url.endsWith("/b.png") ? svg : png, { status: 200 }));
  }) as typeof fetch;
  const images = join(dir, "images");
  const dl = await downloadWitImages(wit.records, images, {
    fetchFn: fakeFetch,
    quiet: true,
    retries: 2,
  });
  assert.equal(dl.downloaded, 2);
  assert.deepEqual(dl.issues.map((i) => i.reason), ["not an image: HTML"]);
  const again = await downloadWitImages(wit.records, images, {
    fetchFn: fakeFetch,
    quiet: true,
    retries: 1,
  });
  assert.equal(again.present, 2);
  assert.deepEqual([...Deno.readDirSync(images)].map((e) => e.name.split(".")[1]).sort(), [
    "png",
    "svg",
  ]);
  const outRoot = await Deno.makeTempDir();
  const r = await buildDataset({
    sources: [witSource({ records: wit.records, imagesDir: images })],
    outRoot,
    profile: "wit",
    quiet: true,
    requireLanguages: D_LANGUAGES,
  });
  const samples = await readSampleIndex(r.dir);
  const key = (u: string) => createHash("sha256").update(u).digest("hex").slice(0, 20);
  assert.deepEqual(samples.map((s) => s.key), [urls[0]!, urls[1]!].map(key).sort());
  assert.ok(samples.every((s) => s.languages.length === 9));
  const d = r.manifest.intersections.find((x) => x.name.startsWith("D:"))!;
  assert.equal(d.images, 2);
  assert.deepEqual(r.manifest.rejects.byReason, [{
    reason: "image not downloaded",
    action: "rejected",
    count: 1,
  }]);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(outRoot, { recursive: true });
});

Deno.test("buildDataset() with D_WIT_BUILD keeps byte-identical images under different URLs and stores D's CLIP input", async () => {
  const dir = await Deno.makeTempDir();
  const images = join(dir, "images");
  await Deno.mkdir(images);
  const png = await Deno.readFile(join(stampsRoot, "stamps/animals/mammals/badger.png"));
  const records = ["x", "y"].map((x) => {
    const imageUrl = `https://upload.wikimedia.org/wikipedia/commons/${x}/${x}.png`;
    const key = createHash("sha256").update(imageUrl).digest("hex").slice(0, 20);
    return {
      key,
      imageUrl,
      captions: Object.fromEntries(D_LANGUAGES.map((l) => [l, `${x} ${l}`])),
      pageTitles: {},
      mimeType: "image/png",
    };
  });
  for (const r of records) await Deno.writeFile(join(images, `${r.key}.png`), png);
  const outRoot = await Deno.makeTempDir();
  const build = (dedupe: boolean) =>
    buildDataset({
      sources: [witSource({ records, imagesDir: images })],
      outRoot,
      profile: "wit",
      quiet: true,
      ...D_WIT_BUILD,
      dedupe,
    });
  // D keys images by URL and never compares bytes: both are kept.
  const r = await build(D_WIT_BUILD.dedupe);
  const samples = await readSampleIndex(r.dir);
  assert.equal(samples.length, 2);
  assert.ok(!r.manifest.rejects.byReason.some((x) => x.reason === "duplicate image"));
  const want = await clipPreprocess(png);
  for await (const s of iterateDataset(r.dir)) {
    const { data, info } = await sharp(s.png).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 224);
    assert.deepEqual(new Uint8Array(data), want.data);
  }
  // The kit's byte dedupe (mini profile default) would have dropped one.
  assert.equal((await readSampleIndex((await build(true)).dir)).length, 1);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(outRoot, { recursive: true });
});

Deno.test("buildDataset() keys a build by the installed fonts: another font fingerprint is another dataset, the same one is up to date", async () => {
  // Tux Paint's SVG stamps with <text> rasterise differently once other fonts (fonts-noto) are
  // installed: an old build must not be reused then.
  const outRoot = await Deno.makeTempDir();
  try {
    const opts = {
      sources: [tuxPaintSource({ registry })],
      limit: 6,
      samplesPerShard: 8,
      quiet: true,
      profile: "fonts",
      outRoot,
    };
    const a = await buildDataset({ ...opts, fontsDigest: "a".repeat(64) });
    const b = await buildDataset({ ...opts, fontsDigest: "b".repeat(64) });
    assert.equal(a.status, "built");
    assert.equal(b.status, "built");
    assert.notEqual(b.manifest.configHash, a.manifest.configHash);
    assert.notEqual(b.dir, a.dir);
    assert.equal(a.manifest.config.fonts, "a".repeat(64));
    const again = await buildDataset({ ...opts, fontsDigest: "a".repeat(64) });
    assert.equal(again.status, "up-to-date");
    assert.equal(again.dir, a.dir);
    // by default: the fingerprint the figure-render cache uses
    const installed = await buildDataset(opts);
    assert.equal(installed.manifest.config.fonts, await installedFontsDigest());
  } finally {
    await Deno.remove(outRoot, { recursive: true });
  }
});
