import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DataRegistry } from "../lib/data/registry.ts";
import sharp from "sharp";
import {
  cocoToCaptionRecords,
  D_LANGUAGES,
  emojiConceptId,
  emojiFromConceptId,
  findWitShards,
  groupCaptionRecords,
  iconifySvg,
  loadAmericasNli,
  loadCaptionRecords,
  loadCldrEmojiAnnotations,
  loadCocoCaptions,
  loadFlores,
  loadIconifyEmojiSet,
  loadMulti30k,
  loadMultiNli,
  loadSib200,
  loadTuxPaintStamps,
  loadTwemojiSvgs,
  loadWitCaptions,
  loadXnliOfficial,
  loadXnliXtreme,
  loadXtd10,
  monolingualEmojiNames,
  normaliseCldrLocale,
  normaliseEmojiSequence,
  normaliseStampLocale,
  parseCocoCaptions,
  parseNliLabel,
  parseStampDescription,
  readLines,
  splitQuotedTsv,
  WIT_COLUMNS,
  witImageKey,
  witShardFileNames,
} from "../lib/sources/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { paperWitSource } from "../lib/dataset_build/dataset_sources.ts";

const registry = new DataRegistry({
  mirror: Deno.env.get("KIT_DATA_MIRROR") ?? "../shared/data",
  quiet: true,
});
const root = async (name: string) => (await registry.resolve(name)).root;

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("readLines() streams plain and gzip text, strips CR, keeps a last line without newline", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "a.txt"), "\uFEFFone\r\ntwo\n\nfour");
  await Deno.writeFile(join(dir, "a.txt.gz"), await gzip("x\ny\n"));
  const plain: string[] = [], gz: string[] = [];
  for await (const l of readLines(join(dir, "a.txt"))) plain.push(`${l.line}:${l.text}`);
  for await (const l of readLines(join(dir, "a.txt.gz"))) gz.push(l.text);
  assert.deepEqual(plain, ["1:one", "2:two", "3:", "4:four"]);
  assert.deepEqual(gz, ["x", "y"]);
  await Deno.writeFile(join(dir, "bad.txt"), new Uint8Array([0x61, 0x0a, 0xff, 0x0a]));
  await assert.rejects(async () => {
    for await (const _ of readLines(join(dir, "bad.txt"))) { /* drain */ }
  }, (e: unknown) => e instanceof KitError && /bad\.txt: not valid UTF-8/.test(e.message));
});

Deno.test("splitQuotedTsv() reads CSV-style quoted fields and reports an open quote", () => {
  assert.deepEqual(splitQuotedTsv('a\t"b\tc"\t"say ""hi"""\t'), ["a", "b\tc", 'say "hi"', ""]);
  assert.equal(splitQuotedTsv('a\t"open'), null);
});

Deno.test("normaliseStampLocale() maps zh_CN to zh and keeps pt/pt_BR, en_GB, ca@valencia distinct", () => {
  assert.equal(normaliseStampLocale("zh_CN"), "zh");
  assert.equal(normaliseStampLocale("zh_TW"), "zh_TW");
  assert.equal(normaliseStampLocale("pt"), "pt");
  assert.equal(normaliseStampLocale("pt_BR"), "pt_BR");
  assert.equal(normaliseStampLocale("en_GB"), "en_GB");
  assert.equal(normaliseStampLocale("ca@valencia"), "ca@valencia");
  assert.equal(normaliseStampLocale("sr@latin"), "sr@latin");
});

Deno.test("parseStampDescription() reads line 1 as English and LANG.utf8= lines; a malformed line is an issue with its line number", () => {
  const text = [
    "A red apple.",
    "es.utf8=Una manzana roja.",
    "zh_CN.utf8=一个红苹果。",
    "pt.utf8=Uma maçã vermelha.",
    "pt_BR.utf8=Uma maçã vermelha (BR).",
    "this line is broken",
    "ca@valencia.utf8=Una poma roja.",
    "en_GB.utf8=A red apple.",
    "de.utf8=",
    "es.utf8=Otra vez.",
    "",
    "fr.utf8=Une pomme rouge.\r",
  ].join("\n");
  const d = parseStampDescription(text, "food/apple.txt");
  assert.deepEqual(Object.keys(d.captions).sort(), [
    "ca@valencia",
    "en",
    "en_GB",
    "es",
    "fr",
    "pt",
    "pt_BR",
    "zh",
  ]);
  assert.equal(d.captions.en, "A red apple.");
  assert.equal(d.captions.es, "Una manzana roja.");
  assert.equal(d.captions.zh, "一个红苹果。");
  assert.equal(d.captions.fr, "Une pomme rouge.");
  assert.equal(d.writtenCodes.zh, "zh_CN");
  const issues = d.issues.map((i) => [i.line, i.reason, i.file]);
  assert.deepEqual(issues, [
    [6, "malformed line", "food/apple.txt"],
    [9, "empty caption", "food/apple.txt"],
    [10, "duplicate language", "food/apple.txt"],
  ]);
  assert.ok(d.issues.every((i) => i.action === "rejected"));
  assert.match(d.issues[0]!.detail!, /this line is broken/);
});

Deno.test("loadTuxPaintStamps() pairs each .txt with its .png (else .svg), rejects orphans, skips _mirror variants", async () => {
  const dir = await Deno.makeTempDir();
  const s = join(dir, "stamps", "animals");
  await Deno.mkdir(s, { recursive: true });
  const w = (name: string, data: string) => Deno.writeTextFile(join(s, name), data);
  await w("cat.txt", "A cat.\nes.utf8=Un gato.\n");
  await w("cat.png", "png bytes (not checked here)");
  await w("cat.svg", "<svg/>");
  await w("cat_mirror.png", "x");
  await w("dog.txt", "A dog.\nja.utf8=犬。\n");
  await w("dog.svg", "<svg/>");
  await w("ghost.txt", "A ghost.\n");
  await w("orphan.png", "x");
  const t = await loadTuxPaintStamps(dir);
  assert.deepEqual(t.stamps.map((x) => [x.id, x.imagePath, x.imageFormat]), [
    ["animals/cat", "stamps/animals/cat.png", "png"],
    ["animals/dog", "stamps/animals/dog.svg", "svg"],
  ]);
  assert.deepEqual(t.stamps[0]!.alternateImages, [
    "stamps/animals/cat.svg",
    "stamps/animals/cat_mirror.png",
  ]);
  assert.equal(t.stamps[0]!.category, "animals");
  const issues = t.issues.map((i) => [i.file, i.reason, i.action]);
  assert.deepEqual(issues.sort(), [
    ["stamps/animals/cat_mirror.png", "mirror variant", "skipped"],
    ["stamps/animals/ghost.txt", "description without image", "rejected"],
    ["stamps/animals/orphan.png", "image without description", "rejected"],
  ]);
  assert.equal(t.descriptionFiles.length, 3);
});

Deno.test("loadTuxPaintStamps() on the mirror agrees with a direct regex scan of the .txt files", async () => {
  const r = await root("tuxpaint-stamps");
  const t = await loadTuxPaintStamps(r);
  // Independent scan: every .txt, its LANG.utf8= lines by regex, its image by file existence.
  const counts = new Map<string, number>();
  let withImage = 0, without = 0;
  const walk = async (d: string): Promise<void> => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.name.endsWith(".txt")) {
        const stem = p.slice(0, -4);
        const hasImage = (await Deno.stat(`${stem}.png`).catch(() => null)) ||
          (await Deno.stat(`${stem}.svg`).catch(() => null));
        if (!hasImage) {
          without++;
          continue;
        }
        withImage++;
        const text = await Deno.readTextFile(p);
        counts.set("en", (counts.get("en") ?? 0) + 1);
        for (const m of text.matchAll(/^([a-zA-Z_@]+)\.utf8=(.+)$/gm)) {
          const code = m[1] === "zh_CN" ? "zh" : m[1]!;
          if (m[2]!.trim() !== "") counts.set(code, (counts.get(code) ?? 0) + 1);
        }
      }
    }
  };
  await walk(join(r, "stamps"));
  assert.equal(t.stamps.length, withImage);
  assert.equal(t.stamps.length, 950);
  assert.equal(t.issues.filter((i) => i.reason === "description without image").length, without);
  assert.equal(t.issues.filter((i) => i.reason === "mirror variant").length, 11);
  assert.equal(t.issues.filter((i) => i.reason === "malformed line").length, 0);
  const got = new Map<string, number>();
  for (const s of t.stamps) {
    for (const l of Object.keys(s.captions)) got.set(l, (got.get(l) ?? 0) + 1);
  }
  assert.deepEqual(new Map([...got].sort()), new Map([...counts].sort()));
  assert.ok(
    got.has("pt") && got.has("pt_BR") && got.has("en_GB") && got.has("ca@valencia") &&
      got.has("zh_TW"),
  );
  assert.ok(!got.has("zh_CN"));
  assert.equal(t.stamps.filter((s) => s.imageFormat === "svg").length, 165);
});

Deno.test("loadCocoCaptions() reads the official COCO format (mirror subset: 51 images, 255 captions)", async () => {
  const r = await root("coco-subset");
  const c = await loadCocoCaptions(join(r, "captions_subset.json"));
  assert.equal(c.images.length, 51);
  assert.equal(c.images.reduce((s, i) => s + i.captions.length, 0), 255);
  assert.ok(c.images.every((i) => i.split === "train2017" || i.split === "val2017"));
  assert.ok(c.images.every((i, k) => k === 0 || c.images[k - 1]!.id < i.id));
  assert.equal(c.issues.length, 0);
  const records = cocoToCaptionRecords(c);
  assert.equal(records.length, 255);
  assert.equal(groupCaptionRecords(records).size, 51);
});

Deno.test("parseCocoCaptions() turns captions of unknown images and empty captions into issues", () => {
  const c = parseCocoCaptions({
    images: [{ id: 5, file_name: "000000000005.jpg", width: 4, height: 3, license: 1 }],
    licenses: [{ id: 1, name: "CC BY", url: "u" }],
    annotations: [
      { image_id: 5, id: 1, caption: "  A bus.\n" },
      { image_id: 6, id: 2, caption: "Nobody's image." },
      { image_id: 5, id: 3, caption: "   " },
    ],
  }, "cap.json");
  assert.deepEqual(c.images[0]!.captions, [{ id: 1, caption: "A bus." }]);
  assert.deepEqual(c.issues.map((i) => i.reason), ["caption of unknown image", "empty caption"]);
  assert.equal(c.licenses.get(1)?.name, "CC BY");
  assert.throws(() => parseCocoCaptions({ images: [] }, "x.json"), KitError);
});

Deno.test("loadCaptionRecords() reads K's {image_id, captions} records from JSON and JSONL", async () => {
  const dir = await Deno.makeTempDir();
  const recs = [
    {
      image_id: 139,
      captions: { en: "A room.", es: "Una habitación.", ja: "部屋。", hi: "एक कमरा।" },
    },
    { image_id: 139, captions: { en: "A table.", es: "Una mesa." } },
    { image_id: 285, captions: { en: "A bear." } },
  ];
  await Deno.writeTextFile(join(dir, "r.json"), JSON.stringify(recs));
  await Deno.writeTextFile(
    join(dir, "r.jsonl"),
    [...recs.map((r) => JSON.stringify(r)), "{oops", JSON.stringify({ captions: {} })].join("\n"),
  );
  const a = await loadCaptionRecords(join(dir, "r.json"));
  assert.equal(a.records.length, 3);
  const g = groupCaptionRecords(a.records);
  assert.deepEqual(g.get("139"), {
    en: ["A room.", "A table."],
    es: ["Una habitación.", "Una mesa."],
    ja: ["部屋。"],
    hi: ["एक कमरा।"],
  });
  const b = await loadCaptionRecords(join(dir, "r.jsonl"));
  assert.equal(b.records.length, 3);
  assert.deepEqual(b.issues.map((i) => [i.line, i.reason]), [[4, "malformed record"], [
    5,
    "malformed record",
  ]]);
});

Deno.test("loadWitCaptions() applies D's rules: reference captions, all nine languages, sha256(url)[:20] keys, sorted", async () => {
  const dir = await Deno.makeTempDir();
  const header = WIT_COLUMNS.join("\t");
  const row = (lang: string, url: string, ref: string, title = "Page") => {
    const f: Record<string, string> = Object.fromEntries(WIT_COLUMNS.map((c) => [c, ""]));
    Object.assign(f, {
      language: lang,
      page_url: `https://${lang}.wikipedia.org/wiki/X`,
      image_url: url,
      page_title: title,
      caption_reference_description: ref,
      caption_attribution_description: "English: attribution",
      mime_type: "image/jpeg",
      original_height: "600",
      original_width: "800",
      is_main_image: "true",
    });
    return WIT_COLUMNS.map((c) => f[c]!).join("\t");
  };
  const A = "https://upload.wikimedia.org/wikipedia/commons/a/aa/Alpha.jpg";
  const B = "https://upload.wikimedia.org/wikipedia/commons/b/bb/Beta.jpg";
  const C = "https://upload.wikimedia.org/wikipedia/commons/c/cc/Gamma.jpg";
  const lines1 = [header];
  for (const l of D_LANGUAGES) lines1.push(row(l, A, `Alpha ${l}`));
  lines1.push(row("en", A, "Alpha en second (not kept)"));
  lines1.push(row("ko", A, "알파"));
  for (const l of D_LANGUAGES) if (l !== "zh") lines1.push(row(l, B, `Beta ${l}`));
  for (const l of D_LANGUAGES) lines1.push(row(l, C, l === "ja" ? "   " : `Gamma ${l}`));
  const lines2 = [header, row("zh", B, ""), row("ja", C, "")];
  // A quoted caption with a tab and a newline inside (pandas-style quoting).
  const D = "https://upload.wikimedia.org/wikipedia/commons/d/dd/Delta.jpg";
  for (const l of D_LANGUAGES) {
    lines2.push(row(l, D, l === "fr" ? '"Delta\tfr ""quoted""\nsecond line"' : `Delta ${l}`));
  }
  await Deno.writeFile(
    join(dir, "wit_v1.train.all-00000-of-00010.tsv.gz"),
    await gzip(lines1.join("\n") + "\n"),
  );
  await Deno.writeTextFile(
    join(dir, "wit_v1.train.all-00001-of-00010.tsv"),
    lines2.join("\n") + "\n",
  );
  const { records, stats } = await loadWitCaptions([
    join(dir, "wit_v1.train.all-00000-of-00010.tsv.gz"),
    join(dir, "wit_v1.train.all-00001-of-00010.tsv"),
  ]);
  const key = (u: string) => createHash("sha256").update(u).digest("hex").slice(0, 20);
  const expected = [A, D].map(key).sort();
  assert.deepEqual(records.map((r) => r.key), expected);
  const a = records.find((r) => r.imageUrl === A)!;
  assert.equal(a.key, witImageKey(A));
  assert.deepEqual(Object.keys(a.captions).sort(), [...D_LANGUAGES].sort());
  assert.equal(a.captions.en, "Alpha en");
  const d = records.find((r) => r.imageUrl === D)!;
  assert.equal(d.captions.fr, 'Delta\tfr "quoted"\nsecond line');
  assert.equal(stats.imagesInAllLanguages, 2);
  assert.equal(stats.duplicateRows, 1);
  assert.equal(stats.images, 4);
  assert.equal(
    witImageKey("http://upload.wikimedia.org/x.jpg"),
    key("https://upload.wikimedia.org/x.jpg"),
  );
});

function witRow(lang: string, url: string, ref: string): string {
  const f: Record<string, string> = Object.fromEntries(WIT_COLUMNS.map((c) => [c, ""]));
  Object.assign(f, { language: lang, image_url: url, page_title: "P", mime_type: "image/jpeg" });
  f.caption_reference_description = ref;
  return WIT_COLUMNS.map((c) => f[c]!).join("\t");
}

/** Train, val and test shards as D reads them: one image per split, one spread over two splits. */
async function writeWitSplits(dir: string, splits = ["train", "val", "test"]): Promise<string[]> {
  const header = WIT_COLUMNS.join("\t");
  const url = (s: string) => `https://upload.wikimedia.org/wikipedia/commons/x/${s}.jpg`;
  const files: Record<string, string[]> = {
    "wit_v1.train.all-00000-of-00010.tsv.gz": D_LANGUAGES.map((l) =>
      witRow(l, url("tr"), `tr ${l}`)
    ),
    "wit_v1.train.all-00001-of-00010.tsv": D_LANGUAGES.slice(0, 4).map((l) =>
      witRow(l, url("split"), `split ${l}`)
    ),
    "wit_v1.val.all-00000-of-00005.tsv.gz": [
      ...D_LANGUAGES.map((l) => witRow(l, url("va"), `va ${l}`)),
      ...D_LANGUAGES.slice(4).map((l) => witRow(l, url("split"), `split ${l}`)),
    ],
    "wit_v1.test.all-00004-of-00005.tsv": D_LANGUAGES.map((l) => witRow(l, url("te"), `te ${l}`)),
  };
  const written: string[] = [];
  for (const [name, rows] of Object.entries(files)) {
    if (!splits.some((s) => name.startsWith(`wit_v1.${s}.`))) continue;
    const text = [header, ...rows].join("\n") + "\n";
    const p = join(dir, name);
    if (name.endsWith(".gz")) await Deno.writeFile(p, await gzip(text));
    else await Deno.writeTextFile(p, text);
    written.push(p);
  }
  await Deno.writeTextFile(join(dir, "wit_v1.train.all-1percent_sample.tsv"), header + "\n");
  await Deno.writeTextFile(join(dir, "notes.txt"), "not a shard");
  return written;
}

Deno.test("findWitShards() reads the train, val and test shards in D's order when all three are present", async () => {
  const dir = await Deno.makeTempDir();
  await writeWitSplits(dir);
  const files = await findWitShards(dir);
  assert.deepEqual(files.map((f) => f.split("/").pop()), [
    "wit_v1.train.all-00000-of-00010.tsv.gz",
    "wit_v1.train.all-00001-of-00010.tsv",
    "wit_v1.val.all-00000-of-00005.tsv.gz",
    "wit_v1.test.all-00004-of-00005.tsv",
  ]);
  const { records, stats } = await loadWitCaptions(files);
  // Every split contributes an image, and an image whose languages span train and val is kept.
  assert.deepEqual(
    records.map((r) => r.captions.en).sort(),
    ["split en", "te en", "tr en", "va en"],
  );
  assert.equal(stats.imagesInAllLanguages, 4);
  assert.equal(stats.rows, 4 * 9);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("findWitShards() names the missing split when val or test shards are absent", async () => {
  const dir = await Deno.makeTempDir();
  await writeWitSplits(dir, ["train", "val"]);
  await assert.rejects(
    () => findWitShards(dir),
    (e: unknown) =>
      e instanceof KitError && /wit_v1\.test\.all-\*/.test(e.message) &&
      !/wit_v1\.val\.all-\*/.test(e.message) && /train, val and test/.test(e.message),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("paperWitSource() builds from the registry's train, val and test shards; the declaration lists all 20", async () => {
  const cacheRoot = await Deno.makeTempDir();
  const witDir = join(cacheRoot, "wit-v1");
  await Deno.mkdir(witDir);
  const written = await writeWitSplits(witDir);
  const reg = new DataRegistry({ cacheRoot, mirror: null, quiet: true });
  // no image downloaded at all: a KitError naming the fetch step, not an empty set
  await assert.rejects(
    async () =>
      await (await paperWitSource({ registry: reg, imagesDir: join(cacheRoot, "img") })).load(),
    (e: unknown) => e instanceof KitError && /none of the 4 images/.test(e.message),
  );
  const img = join(cacheRoot, "img");
  await Deno.mkdir(img);
  await Deno.writeFile(
    join(img, `${witImageKey("https://upload.wikimedia.org/wikipedia/commons/x/te.jpg")}.jpg`),
    new Uint8Array([0xff, 0xd8]),
  );
  const loaded = await (await paperWitSource({ registry: reg, imagesDir: img })).load();
  assert.deepEqual([...loaded.inputFiles].sort(), [...written].sort());
  assert.equal(loaded.stats?.imagesInAllLanguages, 4);
  assert.equal(loaded.candidates.length, 1);
  assert.equal(loaded.issues.filter((i) => i.reason === "image not downloaded").length, 3);
  const decl = reg.declaration("wit-v1");
  assert.ok(decl.upstream.kind === "archives");
  const urls = decl.upstream.archives.map((a) => a.url.split("/").pop());
  assert.deepEqual(urls, witShardFileNames());
  assert.equal(urls.filter((u) => u!.includes(".train.")).length, 10);
  assert.ok(urls.includes("wit_v1.val.all-00004-of-00005.tsv.gz"));
  assert.ok(urls.includes("wit_v1.test.all-00000-of-00005.tsv.gz"));
  await Deno.remove(cacheRoot, { recursive: true });
});

Deno.test("loadMulti30k() aligns gzip captions with the image list (mirror val split)", async () => {
  const r = await root("multi30k");
  const v = await loadMulti30k(r, "val");
  assert.deepEqual(Object.keys(v.captions), ["en", "de", "fr", "cs"]);
  assert.equal(v.images.length, 1014);
  for (const l of Object.keys(v.captions)) assert.equal(v.captions[l]!.length, 1014);
  const t = await loadMulti30k(r, "test_2017_mscoco");
  assert.deepEqual(Object.keys(t.captions), ["en", "de", "fr"]);
  await assert.rejects(() => loadMulti30k(r, "test_2017_mscoco", ["cs"]), KitError);
});

Deno.test("loadXtd10() reads 1000 images × 11 languages (jp file as ja)", async () => {
  const r = await root("xtd10");
  const x = await loadXtd10(r);
  assert.equal(x.images.length, 1000);
  assert.equal(Object.keys(x.captions).length, 11);
  for (const caps of Object.values(x.captions)) assert.equal(caps.length, 1000);
  assert.equal(x.cocoIds[0], 61844);
  const firstJa = (await Deno.readTextFile(join(r, "STAIR", "test_1kcaptions_jp.txt"))).split(
    "\n",
  )[0]!.trim();
  assert.equal(x.captions.ja![0], firstJa);
});

Deno.test("loadFlores() reads the official devtest/<lang>.devtest layout and refuses misaligned files", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "devtest"));
  await Deno.writeTextFile(join(dir, "devtest", "eng_Latn.devtest"), "One.\nTwo.\nThree.\n");
  await Deno.writeTextFile(join(dir, "devtest", "quy_Latn.devtest"), "Huk.\nIskay.\nKimsa.\n");
  await Deno.writeTextFile(join(dir, "devtest", "spa_Latn.devtest"), "Uno.\nDos.\n");
  const f = await loadFlores(dir, { languages: ["eng_Latn", "quy_Latn"] });
  assert.deepEqual(f.sentences.quy_Latn, ["Huk.", "Iskay.", "Kimsa."]);
  assert.deepEqual(f.ids, ["1", "2", "3"]);
  await assert.rejects(
    () => loadFlores(dir),
    (e: unknown) => e instanceof KitError && /line-aligned/.test(e.message),
  );
});

Deno.test("loadSib200() aligns the mirror's languages by index_id (1004 sentences with topics)", async () => {
  const r = await root("sib200");
  const s = await loadSib200(r, { languages: ["eng_Latn", "quy_Latn", "zho_Hans"] });
  assert.equal(s.ids.length, 1004);
  assert.equal(s.issues.length, 0);
  assert.equal(s.labels.split.filter((x) => x === "dev").length, 99);
  // Independent check: the dev file of quy, looked up by index_id.
  const quy = new Map(
    (await Deno.readTextFile(join(r, "quy_Latn", "dev.tsv"))).trim().split("\n").slice(1)
      .map((l) => l.split("\t")).map((f) => [f[0]!, f[2]!]),
  );
  const i = s.labels.split.indexOf("dev");
  assert.equal(s.sentences.quy_Latn![i], quy.get(s.ids[i]!)!.trim());
});

Deno.test("loadXnliOfficial() reads xnli.test.tsv columns; loadXnliXtreme() reads premise/hypothesis/label", async () => {
  const dir = await Deno.makeTempDir();
  const cols = [
    "language",
    "gold_label",
    "sentence1_binary_parse",
    "sentence2_binary_parse",
    "sentence1_parse",
    "sentence2_parse",
    "sentence1",
    "sentence2",
    "promptID",
    "pairID",
    "genre",
    "label1",
    "label2",
    "label3",
    "label4",
    "label5",
    "sentence1_tokenized",
    "sentence2_tokenized",
    "match",
  ];
  const row = (lang: string, label: string, s1: string, s2: string, id: string) =>
    cols.map((c) =>
      ({
        language: lang,
        gold_label: label,
        sentence1: s1,
        sentence2: s2,
        pairID: id,
        genre: "facetoface",
      } as Record<string, string>)[c] ?? ""
    ).join("\t");
  await Deno.writeTextFile(
    join(dir, "xnli.test.tsv"),
    [
      cols.join("\t"),
      row("en", "neutral", '"Well," he said.', "He spoke.", "1"),
      row("de", "contradiction", "Er sprach.", "Er schwieg.", "2"),
      row("en", "maybe", "x", "y", "3"),
      row("en", "entailment", "A man.", "A person.", "4"),
    ].join("\n") + "\n",
  );
  const o = await loadXnliOfficial(join(dir, "xnli.test.tsv"));
  assert.deepEqual(o.byLanguage.en!.map((e) => [e.premise, e.label, e.id]), [[
    '"Well," he said.',
    "neutral",
    "1",
  ], ["A man.", "entailment", "4"]]);
  assert.equal(o.byLanguage.de![0]!.label, "contradiction");
  assert.deepEqual(o.issues.map((i) => [i.line, i.reason]), [[4, "unknown label"]]);
  const only = await loadXnliOfficial(join(dir, "xnli.test.tsv"), { languages: ["de"] });
  assert.deepEqual(Object.keys(only.byLanguage), ["de"]);

  const x = await loadXnliXtreme(join(await root("xnli-dev"), "dev-en.tsv"), "en");
  assert.equal(x.examples.length, 2490);
  for (const l of ["entailment", "neutral", "contradiction"]) {
    assert.equal(x.examples.filter((e) => e.label === l).length, 830);
  }
  assert.equal(parseNliLabel("contradictory"), "contradiction");
});

Deno.test("loadMultiNli() reads jsonl and skips '-' gold labels as issues", async () => {
  const dir = await Deno.makeTempDir();
  const lines = [
    {
      annotator_labels: ["neutral"],
      genre: "government",
      gold_label: "neutral",
      pairID: "31193n",
      promptID: "31193",
      sentence1: "Conceptually cream skimming has two basic dimensions.",
      sentence2: "Product and geography are what make cream skimming work.",
    },
    {
      annotator_labels: ["neutral", "entailment"],
      genre: "telephone",
      gold_label: "-",
      pairID: "2n",
      promptID: "2",
      sentence1: "a",
      sentence2: "b",
    },
    {
      annotator_labels: ["entailment"],
      genre: "fiction",
      gold_label: "entailment",
      pairID: "3e",
      promptID: "3",
      sentence1: "c",
      sentence2: "d",
    },
  ].map((x) => JSON.stringify(x));
  lines.push("not json");
  await Deno.writeTextFile(join(dir, "multinli_1.0_dev_matched.jsonl"), lines.join("\n") + "\n");
  const m = await loadMultiNli(join(dir, "multinli_1.0_dev_matched.jsonl"));
  assert.deepEqual(m.examples.map((e) => [e.id, e.label, e.genre]), [[
    "31193n",
    "neutral",
    "government",
  ], ["3e", "entailment", "fiction"]]);
  assert.deepEqual(m.issues.map((i) => [i.line, i.reason, i.action]), [[
    2,
    "no gold label",
    "skipped",
  ], [4, "malformed line", "rejected"]]);
});

Deno.test("loadAmericasNli() reads the mirror's Quechua dev (743) and test (750) pairs", async () => {
  const r = await root("americasnli");
  const dev = await loadAmericasNli(r, "dev", ["quy"]);
  const test = await loadAmericasNli(r, "test", ["quy"]);
  assert.equal(dev.byLanguage.quy!.length, 743);
  assert.equal(test.byLanguage.quy!.length, 750);
  assert.equal(dev.issues.length + test.issues.length, 0);
  assert.ok(dev.byLanguage.quy!.every((e) => e.language === "quy"));
});

Deno.test("emojiConceptId() and normaliseEmojiSequence() give one id with and without U+FE0F", () => {
  // ☺️ (263A FE0F), 🏳️‍🌈 (1F3F3 FE0F 200D 1F308), keycap #️⃣ (23 FE0F 20E3), © (A9).
  assert.equal(emojiConceptId("\u263A\uFE0F"), "263a");
  assert.equal(emojiConceptId("\u263A"), "263a");
  assert.equal(normaliseEmojiSequence("263a-fe0f"), "263a");
  const rainbow = "\u{1F3F3}\uFE0F\u200D\u{1F308}";
  assert.equal(emojiConceptId(rainbow), "1f3f3-200d-1f308");
  assert.equal(normaliseEmojiSequence("1F3F3-FE0F-200D-1F308"), "1f3f3-200d-1f308");
  assert.equal(normaliseEmojiSequence("1f3f3_200d_1f308"), "1f3f3-200d-1f308");
  assert.equal(emojiConceptId("#\uFE0F\u20E3"), normaliseEmojiSequence("0023-fe0f-20e3"));
  assert.equal(normaliseEmojiSequence("00A9"), "a9");
  assert.equal(emojiFromConceptId("1f3f3-200d-1f308"), "\u{1F3F3}\u200D\u{1F308}");
  assert.throws(() => normaliseEmojiSequence("1f600-xyz"), KitError);
  assert.throws(() => normaliseEmojiSequence("fe0f"), KitError);
});

Deno.test("normaliseCldrLocale() follows the stamps' rules: - to _, zh stays zh, ca-ES-valencia is ca@valencia", () => {
  assert.equal(normaliseCldrLocale("pt-PT"), "pt_PT");
  assert.equal(normaliseCldrLocale("zh"), "zh");
  assert.equal(normaliseCldrLocale("zh-Hant"), "zh_Hant");
  assert.equal(normaliseCldrLocale("ca-ES-valencia"), "ca@valencia");
  assert.equal(normaliseCldrLocale("sr-Cyrl-BA"), "sr_Cyrl_BA");
  assert.equal(normaliseCldrLocale("es-419"), "es_419");
  assert.equal(normaliseCldrLocale("qu"), "qu");
  // The same code written by Tux Paint and by CLDR meets on one key.
  assert.equal(normaliseCldrLocale("pt-BR"), normaliseStampLocale("pt_BR"));
});

Deno.test("loadCldrEmojiAnnotations() reads tts names and keywords per normalised locale; gaps are issues", async () => {
  const dir = await Deno.makeTempDir();
  const write = async (loc: string, body: unknown) => {
    await Deno.mkdir(join(dir, "annotations", loc), { recursive: true });
    await Deno.writeTextFile(
      join(dir, "annotations", loc, "annotations.json"),
      typeof body === "string" ? body : JSON.stringify(body),
    );
  };
  const file = (entries: Record<string, unknown>) => ({
    annotations: { identity: {}, annotations: entries },
  });
  await write(
    "en",
    file({
      "\u{1F408}": { default: ["cat", "pet"], tts: ["cat"] },
      "\u263A\uFE0F": { default: ["smile"], tts: ["smiling face"] },
      "\u263A": { default: ["smile"], tts: ["smiling face again"] },
    }),
  );
  await write("pt-PT", file({ "\u{1F408}": { default: ["gato"], tts: ["gato"] } }));
  await write("en-GB", file({ "\u{1F408}": { default: ["moggy"] } }));
  await write("und", { annotations: { identity: { language: "root" } } });
  await Deno.mkdir(join(dir, "annotations", "xx"));
  const a = await loadCldrEmojiAnnotations(dir);
  assert.deepEqual(a.locales, ["en", "pt_PT"]);
  assert.deepEqual(a.writtenLocales, { en: "en", en_GB: "en-GB", pt_PT: "pt-PT" });
  assert.deepEqual(a.names.get("1f408"), { en: "cat", pt_PT: "gato" });
  assert.deepEqual(a.names.get("263a"), { en: "smiling face" });
  assert.deepEqual(a.keywords.get("1f408"), { en: ["cat", "pet"], pt_PT: ["gato"] });
  const reasons = a.issues.map((i) => `${i.action}:${i.reason}:${i.file}`).sort();
  assert.deepEqual(reasons, [
    "rejected:duplicate emoji:annotations/en/annotations.json",
    "rejected:locale without annotations.json:annotations/xx",
    "skipped:entries without tts name:annotations/en-GB/annotations.json",
    "skipped:locale without names:annotations/und/annotations.json",
  ]);
  await write("fr", "{not json");
  await assert.rejects(
    () => loadCldrEmojiAnnotations(dir),
    (e: unknown) => e instanceof KitError && e.message.includes(join("fr", "annotations.json")),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadIconifyEmojiSet() resolves aliases (hFlip mirrors the drawing), reports rotations and duplicates; the SVG rasterises", async () => {
  const dir = await Deno.makeTempDir();
  // A 16×16 icon: left half red, right half white.
  const body = '<rect x="0" y="0" width="8" height="16" fill="#f00"/>';
  await Deno.writeTextFile(
    join(dir, "icons.json"),
    JSON.stringify({
      prefix: "t",
      width: 16,
      height: 16,
      icons: { "half": { body }, "empty": { body: "" } },
      aliases: {
        "half-flipped": { parent: "half", hFlip: true },
        "half-rotated": { parent: "half", rotate: 1 },
      },
    }),
  );
  await Deno.writeTextFile(
    join(dir, "chars.json"),
    JSON.stringify({
      "1f600": "half",
      "1f601": "half-flipped",
      "1f602": "half-rotated",
      "1f603": "empty",
      "1f600-fe0f": "half",
      "1f604": "missing",
    }),
  );
  const d = await loadIconifyEmojiSet(dir, "noto");
  assert.deepEqual([...d.drawings.keys()], ["1f600", "1f601"]);
  assert.deepEqual(d.issues.map((i) => i.reason).sort(), [
    "duplicate drawing",
    "icon missing",
    "icon without body",
    "unsupported alias transform",
  ]);
  const px = async (svg: string) => {
    const { data } = await sharp(new TextEncoder().encode(svg), { density: 72 })
      .flatten({ background: "#fff" }).resize(16, 16).raw().toBuffer({ resolveWithObject: true });
    return [data[(8 * 16 + 2) * 3]!, data[(8 * 16 + 13) * 3 + 1]!]; // red of left pixel, green of right
  };
  assert.deepEqual(await px(d.drawings.get("1f600")!), [255, 255]); // left red (R=255), right white
  const flipped = await sharp(new TextEncoder().encode(d.drawings.get("1f601")!)).flatten({
    background: "#fff",
  }).resize(16, 16).raw().toBuffer();
  assert.equal(flipped[(8 * 16 + 2) * 3 + 1], 255); // left now white (G=255)
  assert.equal(flipped[(8 * 16 + 13) * 3 + 1], 0); // right now red (G=0)
  assert.ok(
    iconifySvg({ body, width: 32 }, { width: 16, height: 16 }).includes('viewBox="0 0 32 16"'),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadTwemojiSvgs() keys files by concept id; a -fe0f twin is a skipped duplicate", async () => {
  const dir = await Deno.makeTempDir();
  for (
    const f of ["263a.svg", "263a-fe0f.svg", "1f3f3-fe0f-200d-1f308.svg", "notes.svg", "x.txt"]
  ) {
    await Deno.writeTextFile(join(dir, f), "<svg/>");
  }
  const d = await loadTwemojiSvgs(dir);
  assert.deepEqual(
    [...d.drawings.entries()].sort(),
    [["1f3f3-200d-1f308", "1f3f3-fe0f-200d-1f308.svg"], ["263a", "263a-fe0f.svg"]],
  );
  assert.deepEqual(d.issues.map((i) => `${i.action}:${i.reason}`).sort(), [
    "rejected:file name not an emoji sequence",
    "skipped:duplicate drawing",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("monolingualEmojiNames() gives each locale its names, shuffled per locale and seed, never position-aligned", () => {
  const names = new Map<string, Record<string, string>>();
  for (let i = 0; i < 60; i++) {
    const n: Record<string, string> = { en: `en${i}`, de: `de${i}` };
    if (i % 2 === 0) n.qu = `qu${i}`;
    names.set(`1f${(0x600 + i).toString(16)}`, n);
  }
  const concepts = [...names.keys()].slice(0, 50);
  const a = monolingualEmojiNames({ names }, concepts, { seed: 3 });
  assert.deepEqual(Object.keys(a), ["de", "en", "qu"]);
  assert.deepEqual([...a.en!].sort(), concepts.map((c) => names.get(c)!.en).sort());
  assert.equal(a.qu!.length, 25);
  // Aligned positions (en_i with its own translation de_i) would betray pairing.
  const aligned = a.en!.filter((t, i) => a.de![i] === t.replace("en", "de")).length;
  assert.ok(aligned <= 5, `${aligned} of 50 positions pair a name with its translation`);
  assert.deepEqual(monolingualEmojiNames({ names }, concepts, { seed: 3 }), a);
  assert.notDeepEqual(monolingualEmojiNames({ names }, concepts, { seed: 4 }).en, a.en);
  assert.deepEqual(
    Object.keys(monolingualEmojiNames({ names }, concepts, { seed: 3, minNames: 30 })),
    [
      "de",
      "en",
    ],
  );
});
