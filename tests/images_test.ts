import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import sharp from "sharp";
import { DataRegistry } from "../lib/data/registry.ts";
import {
  checkPngStructure,
  clipNormalise,
  clipPreprocess,
  clipResizeCrop,
  decodeForClip,
  decodeImagePixels,
  pilBicubicResize,
  prepareImage,
  prepareImageFile,
  type RgbImage,
  sniffImageBytes,
} from "../lib/images/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { vitProcessorPixels, vitProcessorResize } from "../lib/encoders/vit_image_processor.ts";
import type { VitConfig } from "../lib/encoders/encoder_config.ts";

const registry = new DataRegistry({
  mirror: Deno.env.get("KIT_DATA_MIRROR") ?? "../shared/data",
  quiet: true,
});
const stamps = (await registry.resolve("tuxpaint-stamps")).root;
const coco = (await registry.resolve("coco-subset")).root;
const PNG = join(stamps, "stamps/animals/mammals/badger.png");
const SVG_ONLY = join(stamps, "stamps/seasonal/christmas/rudolf_reindeer.svg");
const JPG = join(coco, "images/000000000790.jpg");
const enc = new TextEncoder();
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function pixels(png: Uint8Array) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}

Deno.test("prepareImage() turns a real PNG stamp into a 64×64 RGB PNG and keeps the original's sha256", async () => {
  const bytes = await Deno.readFile(PNG);
  const r = await prepareImage(bytes, { size: 64 });
  assert.ok(r.ok);
  assert.equal(r.image.original.sha256, sha(bytes));
  assert.equal(r.image.original.bytes, bytes.length);
  assert.deepEqual([
    r.image.original.format,
    r.image.original.width,
    r.image.original.height,
    r.image.original.hasAlpha,
  ], ["png", 191, 75, true]);
  const { info, data } = await pixels(r.image.png);
  assert.deepEqual([info.width, info.height, info.channels, info.format], [64, 64, 3, "raw"]);
  // contain fit: the wide image is padded top and bottom with white; the alpha is composited on white.
  assert.deepEqual([...data.subarray(0, 3)], [255, 255, 255]);
});

Deno.test("prepareImage() rasterises an SVG-only stamp and a JPEG photo; the size is configurable", async () => {
  const svg = await prepareImageFile(SVG_ONLY, { size: 96 });
  assert.ok(svg.ok);
  assert.equal(svg.image.original.format, "svg");
  const s = await pixels(svg.image.png);
  assert.deepEqual([s.info.width, s.info.height, s.info.channels], [96, 96, 3]);
  const jpg = await prepareImageFile(JPG, { size: 32, fit: "cover" });
  assert.ok(jpg.ok);
  assert.deepEqual(
    [jpg.image.original.format, jpg.image.original.width, jpg.image.original.height],
    ["jpeg", 640, 422],
  );
  const j = await pixels(jpg.image.png);
  assert.deepEqual([j.info.width, j.info.height], [32, 32]);
});

Deno.test("prepareImage() composites transparency on white", async () => {
  // A fully transparent red square and a half-transparent black one.
  const clear = await sharp({
    create: { width: 20, height: 20, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } },
  }).png().toBuffer();
  const half = await sharp({
    create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } },
  }).png().toBuffer();
  const a = await prepareImage(new Uint8Array(clear), { size: 8 });
  const b = await prepareImage(new Uint8Array(half), { size: 8 });
  assert.ok(a.ok && b.ok);
  const pa = await pixels(a.image.png), pb = await pixels(b.image.png);
  assert.ok([...pa.data].every((x) => x === 255));
  assert.ok([...pb.data].every((x) => Math.abs(x - 128) <= 1));
});

Deno.test("prepareImage() rejects truncated PNG and JPEG files with a reason", async () => {
  const png = await Deno.readFile(PNG);
  const jpg = await Deno.readFile(JPG);
  const cases: [string, Uint8Array][] = [
    ["PNG cut in half", png.subarray(0, png.length >> 1)],
    ["PNG without IEND", png.subarray(0, png.length - 12)],
    ["PNG header only", png.subarray(0, 60)],
    ["JPEG cut in half", jpg.subarray(0, jpg.length >> 1)],
    ["JPEG without EOI", jpg.subarray(0, jpg.length - 2)],
  ];
  for (const [what, bytes] of cases) {
    const r = await prepareImage(bytes, { size: 64 });
    assert.ok(!r.ok, what);
    assert.equal(r.rejection.reason, "truncated image", what);
    assert.equal(r.rejection.sha256, sha(bytes));
    assert.ok(r.rejection.detail.length > 0);
  }
  assert.equal(checkPngStructure(png), null);
  assert.match(checkPngStructure(png.subarray(0, png.length - 12))!, /no IEND/);
});

Deno.test("prepareImage() rejects HTML/JSON payloads saved as images, zero-byte and unknown files", async () => {
  const cases: [string, Uint8Array, string][] = [
    [
      "html",
      enc.encode("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>"),
      "not an image: HTML",
    ],
    [
      "html lower",
      enc.encode("  <html><body>Too many requests</body></html>"),
      "not an image: HTML",
    ],
    [
      "json",
      enc.encode('{"error": {"code": 429, "message": "rate limited"}}'),
      "not an image: JSON",
    ],
    ["empty", new Uint8Array(), "empty file"],
    ["text", enc.encode("Access denied.\n"), "not an image: text"],
    ["binary junk", new Uint8Array([0, 1, 2, 3, 250, 251, 0, 7, 8, 9]), "unknown image format"],
    [
      "bad svg",
      enc.encode('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect'),
      "unreadable SVG",
    ],
  ];
  for (const [what, bytes, reason] of cases) {
    const r = await prepareImage(bytes, { size: 16 });
    assert.ok(!r.ok, what);
    assert.equal(r.rejection.reason, reason, what);
  }
  const missing = await prepareImageFile("/nonexistent/x.png", { size: 16 });
  assert.ok(!missing.ok && missing.rejection.reason === "unreadable file");
  await assert.rejects(() => prepareImage(new Uint8Array(), { size: 0 }), KitError);
});

Deno.test("sniffImageBytes() reads formats from magic numbers, not names", () => {
  assert.deepEqual(sniffImageBytes(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), {
    kind: "image",
    format: "jpeg",
  });
  assert.deepEqual(sniffImageBytes(enc.encode("GIF89a....")), { kind: "image", format: "gif" });
  assert.deepEqual(
    sniffImageBytes(enc.encode('<?xml version="1.0"?>\n<!-- c -->\n<svg width="1"/>')),
    { kind: "image", format: "svg" },
  );
  assert.deepEqual(sniffImageBytes(new Uint8Array([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0])), {
    kind: "image",
    format: "tiff",
  });
  assert.equal(sniffImageBytes(enc.encode("<?xml version='1.0'?><rss/>")).kind, "not-image");
});

Deno.test("prepareImage() output bytes are deterministic; decodeImagePixels() gives HWC floats in [0,1]", async () => {
  const bytes = await Deno.readFile(PNG);
  const a = await prepareImage(bytes, { size: 24 }), b = await prepareImage(bytes, { size: 24 });
  assert.ok(a.ok && b.ok);
  assert.equal(sha(a.image.png), sha(b.image.png));
  const px = await decodeImagePixels(a.image.png);
  assert.equal(px.data.length, 24 * 24 * 3);
  assert.ok(px.data.every((x) => x >= 0 && x <= 1));
  assert.equal(px.data[0], 1);
});

// ---------------------------------------------------------------- paper D's CLIP image input

const CLIP_FIXTURES = new URL("./fixtures/clip_preprocess/", import.meta.url);

async function fixtureRgb(name: string): Promise<RgbImage> {
  const { data, info } = await sharp(await Deno.readFile(new URL(name, CLIP_FIXTURES)))
    .removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const name of ["landscape", "portrait", "large"]) {
  Deno.test(`clipPreprocess() matches Pillow doing D's steps on a non-square RGBA image (${name})`, async () => {
    const meta = JSON.parse(await Deno.readTextFile(new URL("meta.json", CLIP_FIXTURES)));
    const c = meta.cases[name];
    const small = name !== "large"; // intermediate steps are stored for the small cases only
    const input = await Deno.readFile(new URL(`${name}_input.png`, CLIP_FIXTURES));
    // Alpha composited on white with PIL's integer arithmetic: bit for bit.
    const flat = await decodeForClip(input, { jpegRoundTrip: false });
    assert.equal(flat.width, c.width);
    assert.equal(flat.height, c.height);
    if (small) {
      assert.equal(maxAbsDiff(flat.data, (await fixtureRgb(`${name}_composited.png`)).data), 0);
    }
    // Resize (shortest side 224, PIL bicubic) + centre crop (half-to-even offsets): bit for bit.
    const lossless = clipResizeCrop(flat);
    assert.equal(
      maxAbsDiff(lossless.data, (await fixtureRgb(`${name}_clip224_lossless.png`)).data),
      0,
    );
    // D's full path, with the JPEG q95 round trip of its shards: within 1/255 per pixel.
    if (small) {
      const viaJpeg = await decodeForClip(input);
      const jpegDiff = maxAbsDiff(
        viaJpeg.data,
        (await fixtureRgb(`${name}_jpeg_decoded.png`)).data,
      );
      assert.ok(jpegDiff <= 1, `JPEG round trip max |Δ| ${jpegDiff}/255`);
    }
    const out = await clipPreprocess(input);
    assert.equal(out.width, 224);
    const want = await fixtureRgb(`${name}_clip224.png`);
    const diff = maxAbsDiff(out.data, want.data);
    assert.ok(diff <= 1, `max |Δ| ${diff}/255`);
    // Normalisation: channels first, (v/255 − mean)/std.
    const px = clipNormalise(out);
    const ref = clipNormalise(want);
    assert.equal(px.length, 3 * 224 * 224);
    ref.slice(0, 8).forEach((v, i) => assert.ok(Math.abs(v - c.pixel_values_first[i]) < 1e-5));
    const sum = ref.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - c.pixel_values_sum) < 0.5, `${sum} vs ${c.pixel_values_sum}`);
  });
}

Deno.test("pilBicubicResize() keeps a side that does not change and rejects bad sizes", () => {
  const img: RgbImage = {
    data: Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => i),
    width: 5,
    height: 3,
  };
  assert.deepEqual(pilBicubicResize(img, 5, 3).data, img.data);
  // Width unchanged: only a vertical pass, so each column stays a function of itself.
  const v = pilBicubicResize(
    { data: new Uint8Array(5 * 3 * 3).fill(77), width: 5, height: 3 },
    5,
    7,
  );
  assert.ok(v.data.every((x) => x === 77));
  assert.throws(() => pilBicubicResize(img, 0, 3), KitError);
});

Deno.test("prepareImage() with fit \"clip\" stores exactly D's CLIP input (Pillow fixture), so CLIP's resize and crop are identities", async () => {
  const input = await Deno.readFile(new URL("portrait_input.png", CLIP_FIXTURES));
  const r = await prepareImage(input, { size: 224, fit: "clip" });
  assert.ok(r.ok);
  assert.equal(r.image.original.width, 150);
  assert.equal(r.image.original.height, 257);
  assert.ok(r.image.original.hasAlpha);
  const { data, info } = await sharp(r.image.png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 224);
  assert.equal(info.channels, 3);
  const want = await fixtureRgb("portrait_clip224.png");
  assert.equal(maxAbsDiff(new Uint8Array(data), want.data), 0);
  const again = clipResizeCrop({ data: new Uint8Array(data), width: 224, height: 224 });
  assert.deepEqual(again.data, want.data);
});

Deno.test("vitProcessorResize() equals PIL's convert('RGB') + resize(BILINEAR) (K's ViTImageProcessor input) bit for bit, down- and upsampling (tests/fixtures/make_vit_preprocess.py)", async () => {
  const dir = new URL("./fixtures/vit_preprocess/", import.meta.url).pathname;
  const golden = JSON.parse(await Deno.readTextFile(`${dir}golden.json`)) as {
    cases: Record<string, { size: number; pixels: number[] }>;
  };
  for (const [name, c] of Object.entries(golden.cases)) {
    const img = await vitProcessorResize(await Deno.readFile(`${dir}${name}.png`), c.size);
    assert.equal(img.width, c.size);
    assert.deepEqual(Array.from(img.data), c.pixels, name);
  }
  // the normalised pixels: (x / 255 − 0.5) / 0.5, channel-major
  const px = await vitProcessorPixels([await Deno.readFile(`${dir}up_rgb.png`)], {
    image_size: 24,
    num_channels: 3,
  } as VitConfig);
  const g = golden.cases.up_rgb!.pixels;
  assert.ok(Math.abs(px[1]! - (g[3]! / 255 - 0.5) / 0.5) < 1e-6);
  assert.ok(Math.abs(px[24 * 24]! - (g[1]! / 255 - 0.5) / 0.5) < 1e-6);
});
