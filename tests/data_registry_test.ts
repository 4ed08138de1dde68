import assert from "node:assert/strict";
import { join } from "node:path";
import { DataRegistry } from "../lib/data/registry.ts";
import { DATASETS } from "../lib/data/datasets.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { kitConfig } from "../lib/config/kit_config.ts";
import { sha256File } from "../lib/util/sha256.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const MIRROR = kitConfig().dataMirror;
if (!MIRROR) {
  throw new Error("these tests read the data mirror: set KIT_DATA_MIRROR (./kit task test does)");
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else {
      await Deno.copyFile(join(from, e.name), join(to, e.name));
      // the mirror is read-only and copyFile keeps the mode: make the copy writable (non-root)
      await Deno.chmod(join(to, e.name), 0o644);
    }
  }
}

/** Temp folders made by these tests, removed by the last test of the file. */
const temps: string[] = [];
async function tempDir(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "kit-registry-test-" });
  temps.push(d);
  return d;
}

/**
 * A fetch that serves files of a folder, as if it were the upstream server (`rename` maps an
 * upstream path to the folder's layout).
 */
function localFetch(
  root: string,
  baseUrl: string,
  log: string[],
  rename: (rel: string) => string = (rel) => rel,
): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    log.push(url);
    const rel = rename(url.slice(baseUrl.length));
    try {
      const bytes = await Deno.readFile(join(root, rel));
      return new Response(bytes, { headers: { "content-length": String(bytes.length) } });
    } catch {
      return new Response("not found", { status: 404, statusText: "Not Found" });
    }
  }) as typeof fetch;
}

const offlineFetch =
  (() => Promise.reject(new TypeError("error sending request: dns error"))) as typeof fetch;

Deno.test("DATASETS declares the mirror's datasets and the paper-profile ones, each with source, license and citation", () => {
  const names = DATASETS.map((d) => d.name);
  for (
    const n of [
      "tuxpaint-stamps",
      "coco-captions-val2017",
      "coco-subset",
      "sib200",
      "xnli-dev",
      "americasnli",
      "americasnlp2021",
      "tatoeba-quechua",
      "multi30k",
      "xtd10",
      "exttextcat",
      "clip-bpe",
      "mscoco-2017",
      "wit-v1",
      "flores200",
      "xnli-1.0",
      "multinli-1.0",
    ]
  ) {
    assert.ok(names.includes(n), `missing dataset ${n}`);
  }
  assert.equal(new Set(names).size, names.length, "duplicate names");
  for (const d of DATASETS) {
    assert.ok(
      d.license && d.citation && d.homepage && d.title,
      `${d.name}: incomplete declaration`,
    );
    if (d.upstream.kind === "archives") {
      for (const a of d.upstream.archives) assert.match(a.url, /^https?:\/\//);
    }
  }
});

Deno.test("resolve() finds a dataset in the mirror and verifies every file's sha256", async () => {
  const reg = new DataRegistry({ mirror: MIRROR, cacheRoot: await tempDir() });
  const r = await reg.resolve("sib200");
  assert.equal(r.source, "mirror");
  const files = await reg.files("sib200");
  assert.equal(r.verifiedFiles, files.length);
  assert.ok(files.length > 40);
  const p = await reg.resolveFile("sib200", "quy_Latn/test.tsv");
  assert.equal(await sha256File(p), files.find((f) => f.path === "quy_Latn/test.tsv")!.sha256);
  assert.deepEqual(reg.resolvedDatasets().map((d) => d.name), ["sib200"]);
});

Deno.test("resolve() prefers the cache and rejects a corrupted file naming it and both checksums", async () => {
  const cacheRoot = await tempDir();
  await copyTree(join(MIRROR, "tatoeba"), join(cacheRoot, "tatoeba-quechua"));
  const reg = new DataRegistry({ mirror: MIRROR, cacheRoot });
  assert.equal((await reg.resolve("tatoeba-quechua")).source, "cache");
  await Deno.writeTextFile(join(cacheRoot, "tatoeba-quechua", "eng-que.test.txt"), "tampered\n", {
    append: true,
  });
  const fresh = new DataRegistry({ mirror: MIRROR, cacheRoot });
  const err = await fresh.resolve("tatoeba-quechua").catch((e) => e);
  assert.ok(err instanceof KitError);
  assert.match(err.message, /eng-que\.test\.txt has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
});

Deno.test("resolve() offline with the dataset absent names the dataset, its URL and its checksum", async () => {
  const reg = new DataRegistry({ mirror: null, cacheRoot: await tempDir(), fetchFn: offlineFetch });
  const err = await reg.resolve("clip-bpe").catch((e) => e);
  assert.ok(err instanceof KitError);
  const text = err.describe();
  assert.match(text, /dataset "clip-bpe"/);
  assert.match(text, /https:\/\/raw\.githubusercontent\.com\/openai\/CLIP\/main\/clip\//);
  assert.match(text, /https:\/\/raw\.githubusercontent\.com\/openai\/CLIP\/main\/LICENSE/);
  const bpe = (await reg.files("clip-bpe")).find((f) => f.path.endsWith(".gz"))!;
  assert.ok(text.includes(bpe.sha256!), "names the checksum");
  assert.match(text, /kit task fetch clip-bpe/);
  // A paper-profile archive: URL and (pinned or not) checksum status.
  const paper = (await reg.resolve("xnli-1.0").catch((e) => e)) as KitError;
  assert.match(
    paper.describe(),
    /https:\/\/dl\.fbaipublicfiles\.com\/XNLI\/XNLI-1\.0\.zip.*sha256/,
  );
  // And an explicit fetch that cannot reach the network says the same, without a stack trace.
  const ferr = await reg.fetch("clip-bpe").catch((e) => e);
  assert.ok(ferr instanceof KitError);
  assert.match(
    ferr.describe(),
    /cannot download https:\/\/raw\.githubusercontent\.com\/openai\/CLIP\/main\/.*offline/,
  );
  assert.ok(ferr.describe().includes(bpe.sha256!));
});

Deno.test("fetch() downloads each file with its checksum checked, atomically, into the cache", async () => {
  const cacheRoot = await tempDir();
  const log: string[] = [];
  const base = "https://raw.githubusercontent.com/openai/CLIP/main/";
  const rename = (rel: string) => rel.replace(/^clip\//, "");
  const reg = new DataRegistry({
    mirror: null,
    cacheRoot,
    fetchFn: localFetch(join(MIRROR, "clip"), base, log, rename),
    quiet: true,
  });
  const r = await reg.fetch("clip-bpe");
  assert.equal(r.source, "cache");
  assert.equal(r.verifiedFiles, 2);
  assert.deepEqual(log.sort(), [`${base}LICENSE`, `${base}clip/bpe_simple_vocab_16e6.txt.gz`]);
  // No temp files left behind.
  for await (const e of Deno.readDir(join(cacheRoot, "clip-bpe"))) {
    assert.doesNotMatch(e.name, /\.part$|\.tmp$/);
  }
  // A second fetch downloads nothing.
  await new DataRegistry({
    mirror: null,
    cacheRoot,
    fetchFn: localFetch(join(MIRROR, "clip"), base, log, rename),
    quiet: true,
  }).fetch("clip-bpe");
  assert.equal(log.length, 2);
});

Deno.test("fetch() keeps nothing when a download's sha256 does not match", async () => {
  const cacheRoot = await tempDir();
  // the right size (so the size pin passes) but not the right bytes
  const first = (await new DataRegistry({ mirror: null }).files("tatoeba-quechua"))[0]!;
  const bad =
    (() => Promise.resolve(new Response(new Uint8Array(first.bytes!).fill(65)))) as typeof fetch;
  const reg = new DataRegistry({ mirror: null, cacheRoot, fetchFn: bad, quiet: true });
  const err = await reg.fetch("tatoeba-quechua").catch((e) => e);
  assert.ok(err instanceof KitError);
  assert.match(err.message, /sha256 [0-9a-f]{64} does not match the declared [0-9a-f]{64}/);
  // no dataset folder (it would resolve as present), and no partial file in the staging folder
  await assert.rejects(Deno.stat(join(cacheRoot, "tatoeba-quechua")), Deno.errors.NotFound);
  const left = [];
  for await (const e of Deno.readDir(join(cacheRoot, ".partial", "tatoeba-quechua"))) {
    left.push(e.name);
  }
  assert.deepEqual(left, []);
});

Deno.test("fetch() of an unreachable dataset leaves `fetch --list` reporting it missing", async () => {
  const kitCache = await tempDir();
  const cacheRoot = join(kitCache, "data"); // what the CLI uses with KIT_CACHE_DIR=kitCache
  // wit-v1: an archive with no pinned files, the case where an empty folder looked present
  // WIT's shards have neither sha256 nor size published: refused unless --trust-unpinned
  const refused = await new DataRegistry({ mirror: null, cacheRoot, fetchFn: offlineFetch })
    .fetch("wit-v1").catch((e) => e);
  assert.ok(refused instanceof KitError);
  assert.match(
    refused.describe(),
    /refusing to download .*neither sha256 nor size pinned[^]*--trust-unpinned/,
  );
  const reg = new DataRegistry({
    mirror: null,
    cacheRoot,
    fetchFn: offlineFetch,
    quiet: true,
    trustUnpinned: true,
  });
  const err = await reg.fetch("wit-v1").catch((e) => e);
  assert.ok(err instanceof KitError);
  assert.match(err.message, /cannot download .*offline/);
  // a download that breaks off midway: the partial archive is not kept either
  const broken = (() =>
    Promise.resolve(
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new Uint8Array(1000));
            c.error(new TypeError("connection reset"));
          },
        }),
        { headers: { "content-length": "5000" } },
      ),
    )) as typeof fetch;
  await assert.rejects(
    new DataRegistry({ mirror: null, cacheRoot, fetchFn: broken, quiet: true, trustUnpinned: true })
      .fetch("wit-v1"),
  );
  await assert.rejects(
    new DataRegistry({ mirror: null, cacheRoot }).resolve("wit-v1"),
    /not available offline/,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "fetch.ts"), "--list", "--data-mirror", ""],
    env: { KIT_CACHE_DIR: kitCache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /^wit-v1\s+paper\s+missing\s/m);
});

Deno.test("resolve() treats an empty folder of a dataset with no pinned files as absent", async () => {
  const cacheRoot = await tempDir();
  await Deno.mkdir(join(cacheRoot, "mscoco-2017"), { recursive: true });
  await Deno.writeTextFile(join(cacheRoot, "mscoco-2017", ".hidden"), "");
  const err = await new DataRegistry({ mirror: null, cacheRoot }).resolve("mscoco-2017").catch((
    e,
  ) => e);
  assert.ok(err instanceof KitError);
  assert.match(err.describe(), /mscoco-2017 \(empty\)/);
  await Deno.writeTextFile(join(cacheRoot, "mscoco-2017", "annotations.json"), "{}");
  assert.equal(
    (await new DataRegistry({ mirror: null, cacheRoot }).resolve("mscoco-2017")).source,
    "cache",
  );
});

Deno.test("the stamp cache re-hashes a file whose content changed with size and mtime kept, and a file whose stamp is damaged before blaming it; verify re-hashes all", async () => {
  const cacheRoot = await tempDir();
  await copyTree(join(MIRROR, "tatoeba"), join(cacheRoot, "tatoeba-quechua"));
  assert.equal(
    (await new DataRegistry({ mirror: null, cacheRoot }).resolve("tatoeba-quechua")).source,
    "cache",
  );
  const stamps = JSON.parse(await Deno.readTextFile(join(cacheRoot, ".verified.json")));
  assert.ok(Object.keys(stamps).length > 0, "the stamps were saved");
  const file = join(cacheRoot, "tatoeba-quechua", "eng-que.test.txt");
  const info = await Deno.stat(file);
  const bytes = await Deno.readFile(file);
  await new Promise((r) => setTimeout(r, 1100)); // Deno reports ctime to the second
  bytes[0] = bytes[0]! ^ 0x01; // same size
  await Deno.writeFile(file, bytes);
  await Deno.utime(file, info.atime!, info.mtime!); // same mtime: only ctime tells
  await assert.rejects(
    new DataRegistry({ mirror: null, cacheRoot }).resolve("tatoeba-quechua"),
    /eng-que\.test\.txt has sha256/,
  );
  // restore; then damage the stamp (as if an earlier hash were wrong): the file is re-hashed
  // before it is blamed, so the intact file passes and the stamp is repaired
  bytes[0] = bytes[0]! ^ 0x01;
  await Deno.writeFile(file, bytes);
  assert.equal(
    (await new DataRegistry({ mirror: null, cacheRoot }).resolve("tatoeba-quechua")).source,
    "cache",
  );
  const forged = JSON.parse(await Deno.readTextFile(join(cacheRoot, ".verified.json")));
  const manifest = await new DataRegistry({ mirror: null, cacheRoot }).files("tatoeba-quechua");
  const other = manifest.find((f) => f.sha256 && f.path !== "eng-que.test.txt")!;
  forged[file].sha256 = other.sha256; // wrong for this file
  await Deno.writeTextFile(join(cacheRoot, ".verified.json"), JSON.stringify(forged));
  assert.equal(
    (await new DataRegistry({ mirror: null, cacheRoot }).resolve("tatoeba-quechua")).source,
    "cache",
  );
  const repaired = JSON.parse(await Deno.readTextFile(join(cacheRoot, ".verified.json")));
  assert.notEqual(repaired[file].sha256, other.sha256, "the damaged stamp was repaired");
  const ok = await new DataRegistry({ mirror: null, cacheRoot, verify: true }).resolve(
    "tatoeba-quechua",
  );
  assert.equal(ok.source, "cache");
});

Deno.test("declaration() of an unknown dataset lists the known ones", () => {
  const reg = new DataRegistry({ mirror: null });
  assert.throws(
    () => reg.declaration("imagenet"),
    (e: unknown) => e instanceof KitError && /known datasets: tuxpaint-stamps/.test(e.describe()),
  );
});

Deno.test("(cleanup) the temp folders of these tests are removed", async () => {
  for (const d of temps.splice(0)) await Deno.remove(d, { recursive: true });
});

Deno.test("DataRegistry resolves npm-packaged datasets from node_modules (checksums verified), and says to run setup when absent", async () => {
  const cacheRoot = await Deno.makeTempDir();
  const reg = new DataRegistry({ mirror: null, cacheRoot, quiet: true });
  const r = await reg.resolve("noto-emoji");
  assert.equal(r.source, "npm");
  assert.ok(r.root.endsWith(join("node_modules", "@iconify-json", "noto")));
  assert.equal(r.verifiedFiles, 4);
  const empty = await Deno.makeTempDir();
  const bare = new DataRegistry({ mirror: null, cacheRoot, nodeModules: empty, quiet: true });
  await assert.rejects(() => bare.resolve("cldr-annotations"), (e: unknown) => {
    assert.ok(e instanceof KitError);
    const text = [e.message, ...e.hints].join("\n");
    assert.match(text, /npm package cldr-annotations-full@48\.2\.0/);
    assert.match(text, /\.\/kit setup/);
    return true;
  });
  // A package whose file differs from the manifest is refused, naming the file.
  await Deno.mkdir(join(empty, "@iconify-json", "noto"), { recursive: true });
  for (const f of ["icons.json", "chars.json", "info.json", "package.json"]) {
    await Deno.copyFile(join(r.root, f), join(empty, "@iconify-json", "noto", f));
  }
  await Deno.writeTextFile(join(empty, "@iconify-json", "noto", "chars.json"), "{}");
  await assert.rejects(() => bare.resolve("noto-emoji"), /chars\.json has sha256/);
  await Deno.remove(empty, { recursive: true });
  await Deno.remove(cacheRoot, { recursive: true });
});
