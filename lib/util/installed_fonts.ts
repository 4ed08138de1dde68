import { sha256Hex } from "./sha256.ts";

/**
 * The sha256 of the sorted list of font files fontconfig knows (`fc-list`), or null without
 * fontconfig: installing fonts (e.g. Noto CJK for Japanese captions) changes what text renders to,
 * in Chromium's figures and in librsvg's rasterised SVGs (Tux Paint stamps with `<text>`), so the
 * figure-render cache and the built datasets are keyed by it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { installedFontsDigest } from "./installed_fonts.ts";
 * const digest = await installedFontsDigest();
 * assert(digest === null || /^[0-9a-f]{64}$/.test(digest));
 * assert.equal(await installedFontsDigest(), digest); // the same fonts, the same digest
 * ```
 */
export async function installedFontsDigest(): Promise<string | null> {
  try {
    const out = await new Deno.Command("fc-list", {
      args: ["--format", "%{file}\\n"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    const files = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l).sort();
    return sha256Hex(new TextEncoder().encode(files.join("\n")));
  } catch {
    return null;
  }
}
