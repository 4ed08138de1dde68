/**
 * Setup's Noto fonts (issue 23): Chromium draws Japanese, Chinese and Hindi glyphs, not empty
 * boxes. Two different characters of a script render to different images only when a font has
 * them (a missing glyph is the same box for both).
 */
import assert from "node:assert/strict";
import { chromiumPath, closeBrowser, sharedBrowser } from "../lib/artifacts/chromium_renderer.ts";
import { FONT_PACKAGES, notoFontsPresent } from "../lib/setup/system_packages.ts";
import { sha256Hex } from "../lib/util/sha256.ts";

Deno.test("notoFontsPresent() needs every listed file; setup names Debian's Noto packages", async () => {
  const f = await Deno.makeTempFile();
  try {
    assert.equal(notoFontsPresent([f]), true);
    assert.equal(notoFontsPresent([f, `${f}-missing`]), false);
  } finally {
    await Deno.remove(f);
  }
  assert.deepEqual(FONT_PACKAGES, ["fonts-noto-core", "fonts-noto-cjk"]);
});

Deno.test({
  name: "Chromium draws Japanese, Chinese and Devanagari glyphs with the Noto fonts",
  ignore: !chromiumPath() || !notoFontsPresent(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const page = await (await sharedBrowser()).newPage({ viewport: { width: 120, height: 80 } });
    try {
      const shot = async (text: string) => {
        await page.setContent(
          `<body style="margin:0;font:48px sans-serif"><span>${text}</span></body>`,
        );
        return sha256Hex(await page.screenshot());
      };
      for (
        const [a, b, script] of [["猫", "鳥", "Japanese"], ["狗", "鱼", "Chinese"], [
          "क",
          "ख",
          "Devanagari",
        ]]
      ) {
        assert.notEqual(
          await shot(a!),
          await shot(b!),
          `${script}: ${a} and ${b} draw the same box`,
        );
      }
    } finally {
      await page.close();
      await closeBrowser();
    }
  },
});
