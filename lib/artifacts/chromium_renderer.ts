import { join } from "node:path";
import { cacheDir, PROJECT_ROOT } from "../util/paths.ts";
import { sha256File } from "../util/sha256.ts";
import { installedFontsDigest } from "../util/installed_fonts.ts";
import { valueFingerprint } from "../eval_cache/value_fingerprint.ts";
import { cachedResult, type ResultCacheOptions } from "../eval_cache/result_cache.ts";
import { codeFingerprint } from "../eval_cache/code_fingerprint.ts";

/** A plotly figure: traces and layout, as plotly.js takes them. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
}

/** Where Debian's Chromium lives (overridable with KIT_CHROMIUM). */
export function chromiumPath(): string | null {
  const candidates = [
    Deno.env.get("KIT_CHROMIUM"),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch { /* next */ }
  }
  return null;
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// deno-lint-ignore no-explicit-any
type Browser = any;
let browser: Promise<Browser> | null = null;

/** File name of the plotly.js bundle copied beside the HTML artifacts (so pages open offline). */
export const PLOTLY_FILE = "plotly.min.js";

/** Path of the plotly.js bundle installed with the kit (cartesian traces: scatter, bar, box, heatmap, histogram). */
export function plotlyBundlePath(): string {
  return join(
    PROJECT_ROOT,
    "node_modules",
    "plotly.js-cartesian-dist-min",
    "plotly-cartesian.min.js",
  );
}

/**
 * Everything the kit passes to `chromium.launch` (playwright-core), in one place: Debian's
 * Chromium, the flags above, and an environment that keeps what Chromium writes besides its
 * (temporary) profile — NSS database (`~/.pki`), config, crash reports, font and Mesa shader
 * caches — under `.cache/chromium/` instead of the user's home directory.
 */
export function chromiumLaunchOptions(exe: string): Record<string, unknown> {
  const root = join(cacheDir(), "chromium");
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    HOME: join(root, "home"),
    XDG_CONFIG_HOME: join(root, "config"),
    XDG_CACHE_HOME: join(root, "cache"),
    XDG_DATA_HOME: join(root, "data"),
    MESA_SHADER_CACHE_DIR: join(root, "cache", "mesa_shader_cache"),
  };
  for (const k of ["HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"]) {
    Deno.mkdirSync(env[k]!, { recursive: true });
  }
  return { executablePath: exe, args: CHROMIUM_ARGS, headless: true, env };
}

async function launch(): Promise<Browser> {
  const exe = chromiumPath();
  if (!exe) throw new Error("Chromium not found (Debian: apt-get install -y chromium)");
  const { chromium } = await import("playwright-core");
  return await chromium.launch(chromiumLaunchOptions(exe));
}

/** One browser per process, launched on first use. */
export function sharedBrowser(): Promise<Browser> {
  browser ??= launch();
  return browser;
}

/** Closes the shared browser (call at the end of a script; notebooks close with the kernel). */
export async function closeBrowser(): Promise<void> {
  if (!browser) return;
  const b = await browser.catch(() => null);
  browser = null;
  await b?.close().catch(() => {});
}

let rendererMemo: Promise<Record<string, unknown>> | null = null;

/**
 * What decides the rendered bytes besides the figure: the plotly.js bundle's sha256 and the
 * Chromium executable (path, size and modification time of the launcher and of the file it
 * resolves to: a package upgrade changes them).
 */
function rendererIdentity(exe: string): Promise<Record<string, unknown>> {
  rendererMemo ??= (async () => {
    const files = [...new Set([exe, Deno.realPathSync(exe), "/usr/lib/chromium/chromium"])];
    const stats = files.flatMap((f) => {
      try {
        const st = Deno.statSync(f);
        return [{ file: f, size: st.size, mtime: st.mtime?.getTime() ?? null }];
      } catch {
        return [];
      }
    });
    return {
      plotly: await sha256File(plotlyBundlePath()),
      chromium: stats,
      args: CHROMIUM_ARGS,
      fonts: await installedFontsDigest(),
    };
  })();
  rendererMemo.catch(() => rendererMemo = null);
  return rendererMemo;
}

/**
 * {@link renderFigureImages}, kept on disk (lib/eval_cache, `.cache/results/figure-render/`)
 * keyed by the figure's JSON, the size, the renderer code, the plotly.js bundle and the Chromium
 * executable: a rerun that draws the same figure gets the same PNG and SVG bytes without starting
 * Chromium.
 */
export async function cachedFigureImages(
  fig: PlotlyFigure,
  size: { width: number; height: number },
  cache: ResultCacheOptions = {},
): Promise<{ png: Uint8Array; svg: string }> {
  const exe = chromiumPath();
  if (!exe) return await renderFigureImages(fig, size);
  const key = {
    what: "renderFigureImages",
    figure: valueFingerprint(fig),
    size: { width: size.width, height: size.height },
    renderer: await rendererIdentity(exe),
    code: await codeFingerprint(["lib/artifacts/chromium_renderer.ts"]),
  };
  return await cachedResult("figure-render", key, () => renderFigureImages(fig, size), cache);
}

/** Renders a figure to PNG bytes and SVG text in headless Chromium with plotly.js. */
export async function renderFigureImages(
  fig: PlotlyFigure,
  size: { width: number; height: number },
): Promise<{ png: Uint8Array; svg: string }> {
  const b = await sharedBrowser();
  const page = await b.newPage();
  try {
    await page.setContent(`<html><body><div id="plot"></div></body></html>`);
    await page.addScriptTag({ path: plotlyBundlePath() });
    const result = await page.evaluate(
      async ({ fig, size }: { fig: PlotlyFigure; size: { width: number; height: number } }) => {
        // deno-lint-ignore no-explicit-any
        const P = (globalThis as any).Plotly;
        const gd = document.getElementById("plot");
        await P.newPlot(gd, fig.data, { ...(fig.layout ?? {}), ...size }, { staticPlot: true });
        const png = await P.toImage(gd, { format: "png", ...size, scale: 2 });
        const svg = await P.toImage(gd, { format: "svg", ...size });
        return { png, svg };
      },
      { fig, size },
    );
    const pngB64 = String(result.png).replace(/^data:image\/png;base64,/, "");
    const svgText = decodeURIComponent(String(result.svg).replace(/^data:image\/svg\+xml,/, ""));
    const bin = atob(pngB64);
    const png = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return { png, svg: svgText };
  } finally {
    await page.close();
  }
}
