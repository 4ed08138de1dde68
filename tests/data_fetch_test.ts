/**
 * The mini data comes by itself (issue 23) and archives are safe (issue 26): from an empty data
 * cache with no mirror, a local HTTP server on 127.0.0.1 stands in for every upstream (built
 * from the mirror's files, archives rebuilt in their declared format) and `reproduce --only 00
 * --smoke` fetches and runs; without it, one message lists every missing dataset and no notebook
 * starts. Crafted archives (symlink zip, symlink/hard-link/`..`/absolute tar.gz) are refused with
 * nothing outside the private temp folder touched; unpinned and size- or sha-mismatched
 * downloads are refused; stale `*.unpack.*` folders and bad `.downloads/` files are cleaned.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DataRegistry } from "../lib/data/registry.ts";
import { miniProfileDatasets } from "../lib/data/preflight.ts";
import { removeStaleUnpackFolders, unpackArchiveSafely } from "../lib/data/archive_unpack.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { kitConfig } from "../lib/config/kit_config.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { sha256File } from "../lib/util/sha256.ts";
import { buildTar, buildZip, gzip } from "./helpers/archive_builders.ts";
import {
  miniUpstreamRoutes,
  type RouteBody,
  routeOf,
  serveUpstreams,
} from "./helpers/upstream_server.ts";

const MIRROR = kitConfig().dataMirror;
if (!MIRROR) {
  throw new Error("these tests build the upstreams from the data mirror: set KIT_DATA_MIRROR");
}
const enc = new TextEncoder();

/** Temp folders of this file, removed by its last test. */
const temps: string[] = [];
async function tempDir(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "kit-fetch-test-" });
  temps.push(d);
  return d;
}

/** Every path under `dir` (files and folders), relative, sorted. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory && !e.isSymlink) out.push(...(await listTree(join(dir, e.name), rel)));
  }
  return out.sort();
}

/** Runs tools/reproduce.ts with `env` added (no mirror, empty data cache), smoke, notebook 00. */
async function reproduce00(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(PROJECT_ROOT, "tools", "reproduce.ts"),
      "--only",
      "00",
      "--smoke",
      "--no-report",
      "--data-mirror",
      "",
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The mini datasets fetched from upstream (all but the npm-packaged ones). */
function downloadable(): string[] {
  return miniProfileDatasets(new DataRegistry({ mirror: null }))
    .filter((d) => d.upstream.kind !== "npm").map((d) => d.name);
}

Deno.test({
  name:
    "from an empty cache with no mirror, reproduce --only 00 --smoke fetches every mini dataset from a local upstream server, then runs",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await tempDir();
    const routes = await miniUpstreamRoutes(MIRROR, work);
    const server = serveUpstreams(routes);
    try {
      const dataCache = join(work, "data");
      const artifacts = join(work, "artifacts");
      const r = await reproduce00({
        KIT_DATA_BASE_URL: server.base,
        KIT_DATA_CACHE: dataCache,
        KIT_ARTIFACT_DIR: artifacts,
      });
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      // sizes were printed first, before the notebook
      const announce = r.stderr.indexOf("mini-profile dataset(s) missing");
      assert.ok(announce >= 0, r.stderr.slice(0, 2000));
      assert.ok(announce < r.stderr.indexOf("[1/1]"), "the download precedes the notebook");
      for (const name of downloadable()) {
        assert.match(r.stderr, new RegExp(`^  ${name}\\s+[\\d.]+ [kMG]B$`, "m"), name);
        // each dataset is complete and verified in the cache
        const got = await new DataRegistry({ mirror: null, cacheRoot: dataCache }).resolve(name);
        assert.equal(got.source, "cache");
        assert.equal(got.root, join(dataCache, name));
      }
      // the .deb, the zips and plain files were all fetched from the server
      const paths = server.requests.map((q) => q.path);
      assert.ok(paths.some((p) => p.endsWith("tuxpaint-stamps-default_2022.06.04-1_all.deb")));
      assert.ok(paths.some((p) => p.endsWith("/XNLI-1.0.zip")));
      assert.ok(paths.some((p) => p.endsWith("/annotations_trainval2017.zip")));
      assert.equal(
        paths.filter((p) => p.endsWith("/annotations_trainval2017.zip")).length,
        1,
        "COCO's annotations zip, shared by two datasets, is downloaded once",
      );
      // archives deleted after the verified unpack, no staging or temp folder left
      assert.deepEqual(await listTree(join(dataCache, ".downloads")), []);
      assert.deepEqual(await listTree(join(dataCache, ".partial")), []);
      // notebook 00 ran
      assert.match(r.stderr, /\[1\/1\] 00_/);
      assert.ok((await listTree(artifacts)).some((p) => p.endsWith(".ipynb")));

      // A second run finds everything and downloads nothing.
      const before = server.requests.length;
      const again = await reproduce00({
        KIT_DATA_BASE_URL: server.base,
        KIT_DATA_CACHE: dataCache,
        KIT_ARTIFACT_DIR: artifacts,
      });
      assert.equal(again.code, 0, again.stderr.slice(-2000));
      assert.doesNotMatch(again.stderr, /dataset\(s\) missing/);
      assert.equal(server.requests.length, before);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "offline and without a mirror: one message lists each missing dataset with URL, size and sha256; no notebook starts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await tempDir();
    // a port that was just free: nothing listens on it
    const probe = serveUpstreams(new Map());
    const deadBase = probe.base;
    await probe.close();
    const artifacts = join(work, "artifacts");
    const r = await reproduce00({
      KIT_DATA_BASE_URL: deadBase,
      KIT_DATA_CACHE: join(work, "data"),
      KIT_ARTIFACT_DIR: artifacts,
    });
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.match(/^error: /gm)?.length, 1, r.stderr);
    const message = r.stderr.slice(r.stderr.indexOf("error: "));
    assert.match(message, /mini-profile dataset\(s\) are missing and could not be downloaded/);
    assert.match(message, /no notebook was started/);
    for (const name of downloadable()) {
      assert.match(message, new RegExp(`^  ${name} \\(`, "m"), `${name} listed`);
    }
    // URLs, sizes and sha256: the Tux Paint .deb with its pins, a file dataset's base and a file
    assert.match(
      message,
      /https:\/\/deb\.debian\.org\/debian\/pool\/main\/t\/tuxpaint-stamps\/tuxpaint-stamps-default_2022\.06\.04-1_all\.deb \(160880444 bytes, 160\.9 MB; sha256 6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34\)/,
    );
    assert.match(
      message,
      /https:\/\/images\.cocodataset\.org\/annotations\/annotations_trainval2017\.zip \(252907541 bytes/,
    );
    const sib = (await new DataRegistry({ mirror: null }).files("sib200"))
      .find((f) => f.path === "eng_Latn/dev.tsv")!;
    assert.match(
      message,
      /https:\/\/raw\.githubusercontent\.com\/dadelani\/sib-200\/main\/data\/annotated\/ — \d+ files, [\d.]+ MB/,
    );
    assert.ok(message.includes("sha256 of each in data/manifests/sib200.json"));
    assert.ok(sib.sha256);
    // nothing ran
    assert.doesNotMatch(r.stderr, /\[1\/1\]/);
    await assert.rejects(Deno.stat(artifacts), Deno.errors.NotFound);
  },
});

/** A registry whose "network" is the local server (no redirect: the archives' own pins hold). */
function registryOnServer(
  server: { base: string },
  cacheRoot: string,
  extra: { trustUnpinned?: boolean } = {},
): DataRegistry {
  const fetchFn = ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    return fetch(`${server.base}${routeOf(url)}`, init);
  }) as typeof fetch;
  return new DataRegistry({ mirror: null, cacheRoot, fetchFn, quiet: true, ...extra });
}

/** A folder outside the cache with one file, to show a crafted archive does not touch it. */
async function sentinel(work: string): Promise<{ dir: string; check: () => Promise<void> }> {
  const dir = join(work, "outside");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(join(dir, "captions_val2017.json"), "precious");
  return {
    dir,
    check: async () => {
      assert.deepEqual(await listTree(dir), ["captions_val2017.json"]);
      assert.equal(await Deno.readTextFile(join(dir, "captions_val2017.json")), "precious");
    },
  };
}

async function noUnpackLeft(root: string): Promise<void> {
  const left = (await listTree(root)).filter((p) => /\.unpack\./.test(p));
  assert.deepEqual(left, []);
}

Deno.test({
  name:
    "a crafted zip whose entry is a symlink to a folder elsewhere, served over HTTP, is refused and nothing outside is touched",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await tempDir();
    const outside = await sentinel(work);
    const zip = await buildZip([
      { name: "annotations", symlinkTo: outside.dir },
      { name: "annotations/captions_val2017.json", data: enc.encode("{}") },
    ]);
    const url = "https://images.cocodataset.org/annotations/annotations_trainval2017.zip";
    const server = serveUpstreams(new Map<string, RouteBody>([[routeOf(url), { bytes: zip }]]));
    try {
      // through a redirect (archive pins relaxed, files pinned): the unpacker is what refuses
      const cacheRoot = join(work, "cache");
      const reg = new DataRegistry({
        mirror: null,
        cacheRoot,
        quiet: true,
        upstreamBase: server.base,
      });
      const err = await reg.fetch("coco-captions-val2017").catch((e) => e);
      assert.ok(err instanceof KitError, String(err));
      assert.match(
        err.message,
        /unsafe archive .*annotations_trainval2017\.zip: entry "annotations" is a symbolic link; the archive was rejected/,
      );
      await outside.check();
      await noUnpackLeft(cacheRoot);
      await assert.rejects(
        Deno.stat(join(cacheRoot, "coco-captions-val2017")),
        Deno.errors.NotFound,
      );
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "a crafted tar.gz (symlink, hard link, `..` or absolute path) served over HTTP is refused with a clear message; nothing outside is touched",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await tempDir();
    const outside = await sentinel(work);
    const url = "https://dl.fbaipublicfiles.com/nllb/flores200_dataset.tar.gz";
    const cases: [string, Uint8Array, RegExp][] = [
      [
        "symlink",
        buildTar([
          { name: "flores200_dataset/devtest", type: "2", linkTo: outside.dir },
          { name: "flores200_dataset/devtest/captions_val2017.json", data: enc.encode("x") },
        ]),
        /entry "flores200_dataset\/devtest" is a symbolic link/,
      ],
      [
        "hard link",
        buildTar([{
          name: "flores200_dataset/x",
          type: "1",
          linkTo: join(outside.dir, "captions_val2017.json"),
        }]),
        /entry "flores200_dataset\/x" is a hard link/,
      ],
      [
        "dotdot",
        buildTar([{
          name: "flores200_dataset/../../outside/captions_val2017.json",
          data: enc.encode("x"),
        }]),
        /is a `\.\.` path component/,
      ],
      [
        "absolute",
        buildTar([{ name: join(outside.dir, "captions_val2017.json"), data: enc.encode("x") }]),
        /is an absolute path/,
      ],
    ];
    for (const [what, tar, expected] of cases) {
      const server = serveUpstreams(
        new Map<string, RouteBody>([[routeOf(url), { bytes: await gzip(tar) }]]),
      );
      try {
        const cacheRoot = join(work, `cache-${what.replace(" ", "-")}`);
        // flores200 pins no sha256 and no manifest: only --trust-unpinned lets it through to
        // the unpacker
        const refused = await registryOnServer(server, cacheRoot).fetch("flores200").catch((e) =>
          e
        );
        assert.match(refused.message, /refusing to download .*flores200_dataset\.tar\.gz/);
        const err = await registryOnServer(server, cacheRoot, { trustUnpinned: true })
          .fetch("flores200").catch((e) => e);
        assert.ok(err instanceof KitError, `${what}: ${err}`);
        assert.match(err.message, /unsafe archive .*flores200_dataset\.tar\.gz/, what);
        assert.match(err.message, expected, what);
        assert.match(err.describe(), /nothing was written outside the kit's private temp folder/);
        await outside.check();
        await noUnpackLeft(cacheRoot);
        await assert.rejects(Deno.stat(join(cacheRoot, "flores200")), Deno.errors.NotFound);
      } finally {
        await server.close();
      }
    }
  },
});

Deno.test({
  name:
    "pinned downloads: a tiny zip for a size-pinned archive, a same-size wrong .deb and an unpinned archive are refused",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await tempDir();
    const tiny = await buildZip([{
      name: "annotations/captions_val2017.json",
      data: enc.encode("{}"),
    }]);
    const coco = "https://images.cocodataset.org/annotations/annotations_trainval2017.zip";
    const deb =
      "https://deb.debian.org/debian/pool/main/libe/libexttextcat/libexttextcat-data_3.4.5-1_all.deb";
    const debBytes = new DataRegistry({ mirror: null }).declaration("exttextcat");
    const pinned = debBytes.upstream.kind === "archives"
      ? debBytes.upstream.archives[0]!.bytes!
      : 0;
    const server = serveUpstreams(
      new Map<string, RouteBody>([
        [routeOf(coco), { bytes: tiny }],
        [routeOf(deb), { bytes: new Uint8Array(pinned).fill(7) }],
        [routeOf("https://images.cocodataset.org/zips/val2017.zip"), { bytes: tiny }],
      ]),
    );
    try {
      const cacheRoot = join(work, "cache");
      const size = await registryOnServer(server, cacheRoot).fetch("coco-captions-val2017")
        .catch((e) => e);
      assert.ok(size instanceof KitError);
      assert.match(
        size.message,
        new RegExp(
          `the server announces ${tiny.length} bytes, the pinned size is 252907541 .*refused`,
        ),
      );
      const sha = await registryOnServer(server, cacheRoot).fetch("exttextcat").catch((e) => e);
      assert.ok(sha instanceof KitError);
      assert.match(
        sha.message,
        /sha256 [0-9a-f]{64} does not match the declared 5298fb1661f0e145124a5129621fb290635309aecc87d8f524cf16a3dc66dcfe/,
      );
      const unpinned = await registryOnServer(server, cacheRoot).fetch("mscoco-2017").catch((e) =>
        e
      );
      assert.ok(unpinned instanceof KitError);
      assert.match(
        unpinned.describe(),
        /refusing to download .*it has no sha256 pinned[^]*--trust-unpinned/,
      );
      // nothing kept: no dataset, no archive, no partial download
      assert.deepEqual(
        (await listTree(cacheRoot)).filter((p) => !p.startsWith(".partial")),
        [".downloads"],
      );
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    ".downloads is re-verified before reuse, a .part download resumes with a range request, and stale *.unpack.* folders are removed",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await tempDir();
    const cacheRoot = join(work, "cache");
    // a damaged archive of the right size in .downloads: deleted, not unpacked
    const decl = new DataRegistry({ mirror: null }).declaration("exttextcat");
    const a = decl.upstream.kind === "archives" ? decl.upstream.archives[0]! : null;
    assert.ok(a?.bytes);
    const stale = join(cacheRoot, ".downloads", a.url.split("/").pop()!);
    await Deno.mkdir(join(cacheRoot, ".downloads"), { recursive: true });
    await Deno.writeFile(stale, new Uint8Array(a.bytes).fill(1));
    const offline = (() => Promise.reject(new TypeError("dns error"))) as typeof fetch;
    const err = await new DataRegistry({ mirror: null, cacheRoot, fetchFn: offline, quiet: true })
      .fetch("exttextcat").catch((e) => e);
    assert.match(err.message, /cannot download .*offline/);
    await assert.rejects(Deno.stat(stale), Deno.errors.NotFound);

    // a stale unpack folder of a killed run, and a half-downloaded file
    const leftover = join(cacheRoot, ".partial", "clip-bpe.unpack.4242.abcd1234");
    await Deno.mkdir(join(leftover, "x"), { recursive: true });
    const bpe = join(MIRROR, "clip", "bpe_simple_vocab_16e6.txt.gz");
    const bytes = await Deno.readFile(bpe);
    const part = join(cacheRoot, ".partial", "clip-bpe", "bpe_simple_vocab_16e6.txt.gz.part");
    await Deno.mkdir(join(part, ".."), { recursive: true });
    await Deno.writeFile(part, bytes.subarray(0, 500_000));
    const routes = await miniUpstreamRoutes(MIRROR, work);
    const server = serveUpstreams(routes);
    try {
      const reg = new DataRegistry({
        mirror: null,
        cacheRoot,
        quiet: true,
        upstreamBase: server.base,
      });
      const r = await reg.fetch("clip-bpe");
      assert.equal(r.verifiedFiles, 2);
      const q = server.requests.find((x) => x.path.endsWith("bpe_simple_vocab_16e6.txt.gz"));
      assert.equal(q?.range, "bytes=500000-");
      assert.equal(
        await sha256File(join(cacheRoot, "clip-bpe", "bpe_simple_vocab_16e6.txt.gz")),
        await sha256File(bpe),
      );
      await assert.rejects(Deno.stat(leftover), Deno.errors.NotFound);
    } finally {
      await server.close();
    }
    // and directly
    const d2 = join(work, "sweep");
    await Deno.mkdir(join(d2, "a.unpack.1.x", "y"), { recursive: true });
    await Deno.mkdir(join(d2, "keep"));
    assert.equal((await removeStaleUnpackFolders(d2)).length, 1);
    assert.deepEqual(await listTree(d2), ["keep"]);
  },
});

Deno.test("unpackArchiveSafely writes only the selected files of a plain zip and tar.gz", async () => {
  const work = await tempDir();
  const zip = join(work, "a.zip");
  await Deno.writeFile(
    zip,
    await buildZip([
      { name: "top/" },
      { name: "top/a.txt", data: enc.encode("alpha"), deflate: true },
      { name: "top/sub/b.txt", data: enc.encode("beta") },
      { name: "other.txt", data: enc.encode("not selected") },
    ]),
  );
  const out = join(work, "out-zip");
  const s = await unpackArchiveSafely(zip, "zip", { strip: "top", keep: null }, out);
  assert.deepEqual(s, { written: 2, skipped: 1 });
  assert.deepEqual(await listTree(out), ["a.txt", "sub", "sub/b.txt"]);
  assert.equal(await Deno.readTextFile(join(out, "a.txt")), "alpha");
  const tgz = join(work, "a.tar.gz");
  await Deno.writeFile(
    tgz,
    await gzip(buildTar([
      { name: "./top/", type: "5" },
      { name: "./top/a.txt", data: enc.encode("alpha") },
      { name: "./top/b.txt", data: enc.encode("b".repeat(1000)) },
    ])),
  );
  const out2 = join(work, "out-tgz");
  await unpackArchiveSafely(tgz, "tar.gz", { strip: "top", keep: new Set(["b.txt"]) }, out2);
  assert.deepEqual(await listTree(out2), ["b.txt"]);
  assert.equal((await Deno.readTextFile(join(out2, "b.txt"))).length, 1000);
  await noUnpackLeft(work);
});

Deno.test("(cleanup) the temp folders of these tests are removed", async () => {
  for (const d of temps) await Deno.remove(d, { recursive: true });
});
