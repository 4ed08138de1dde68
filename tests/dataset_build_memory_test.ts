// The dataset build's peak memory must not grow with the number of images (issue 27: the paper
// profile's COCO build held >= 10 GB at 52k of 118k images, because validation kept every
// image's resized PNG until the plan was made). Each build runs in its own process so that its
// peak RSS (VmHWM) is its own.
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const MODULE = join(PROJECT_ROOT, "lib", "dataset_build", "build_dataset.ts");
const SIDE = 320; // noise at 320×320 px: each stored PNG ~300 kB (noise does not compress)
const SMALL = 24, LARGE = 344;

/** Seeded noise JPEGs (`count` of them, SIDE px): what the build validates and stores. */
async function noiseJpegs(dir: string, count: number, seed: number): Promise<string[]> {
  let s = seed >>> 0;
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const px = new Uint8Array(SIDE * SIDE * 3);
    for (let j = 0; j < px.length; j++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      px[j] = s >>> 24;
    }
    const p = join(dir, `${String(i).padStart(6, "0")}.jpg`);
    await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).jpeg({ quality: 90 })
      .toFile(p);
    paths.push(p);
  }
  return paths;
}

/** Builds a dataset of `paths` in a child process; its peak RSS and the shards' bytes. */
async function buildInChild(
  paths: string[],
  root: string,
  outRoot: string,
): Promise<{ hwm: number; shardBytes: number; samples: number }> {
  // A full GC every 100 ms: what stays is what the build holds, not garbage V8 has not yet
  // collected (its external-memory heuristics let a few hundred MB of freed PNGs float).
  const code = `import { buildDataset } from ${JSON.stringify(MODULE)};
const gc = globalThis.gc;
const collector = setInterval(gc, 100);
const paths = ${JSON.stringify(paths)};
const source = {
  name: "noise",
  load: () => Promise.resolve({
    name: "noise", dataset: null, root: ${JSON.stringify(root)}, issues: [], inputFiles: [],
    options: {},
    candidates: paths.map((p, i) => ({
      key: i.toString(16).padStart(20, "0"), source: "noise", sourceId: String(i),
      imagePath: p, imageFile: p.split("/").pop(), captions: { en: ["noise " + i] },
    })),
  }),
};
const r = await buildDataset({
  sources: [source], profile: "memtest", outRoot: ${JSON.stringify(outRoot)},
  image: { size: ${SIDE}, fit: "fill" }, samplesPerShard: 8, memoryBudgetBytes: 0,
  concurrency: 2, quiet: true, fontsDigest: "memtest", dedupe: false,
});
clearInterval(collector);
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
console.log(JSON.stringify({
  hwm: Number(hwm[1]) * 1024,
  shardBytes: r.manifest.shards.reduce((a, s) => a + s.bytes, 0),
  samples: r.manifest.samples.count,
}));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", code],
    cwd: PROJECT_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert(out.success, `child build failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").pop()!);
}

Deno.test({
  name:
    "buildDataset(): peak memory does not grow with the image count (validation keeps no image's PNG)",
  ignore: Deno.build.os !== "linux", // VmHWM is read from /proc/self/status
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-build-mem-" });
    try {
      const paths = await noiseJpegs(dir, LARGE, 27);
      const small = await buildInChild(paths.slice(0, SMALL), dir, join(dir, "out-small"));
      const large = await buildInChild(paths, dir, join(dir, "out-large"));
      assert.equal(small.samples, SMALL);
      assert.equal(large.samples, LARGE);
      const moreData = large.shardBytes - small.shardBytes;
      assert(moreData > 80e6, `the larger build stores ${moreData} more bytes (expected > 80 MB)`);
      // Holding the PNGs costs at least their bytes; a bounded build stays within a fraction of it
      // (V8 heap and allocator noise), whatever the load on the machine.
      const grew = large.hwm - small.hwm;
      const mb = (x: number) => `${(x / 1e6).toFixed(0)} MB`;
      console.log(
        `peak RSS ${mb(small.hwm)} at ${SMALL} images, ${mb(large.hwm)} at ${LARGE} (${
          mb(moreData)
        } more PNG data)`,
      );
      assert(
        grew < 0.4 * moreData,
        `peak RSS grew by ${mb(grew)} (${mb(small.hwm)} at ${SMALL} images, ${
          mb(large.hwm)
        } at ${LARGE}) for ${mb(moreData)} more stored PNG data: the build holds images`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
