import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { chromiumPath, closeBrowser, sharedBrowser } from "../lib/artifacts/chromium_renderer.ts";
import { buildReport } from "../lib/report/mod.ts";
import { writeSyntheticRun } from "./report_fixture.ts";

interface PageCheck {
  errors: string[];
  external: string[];
  plots: { divs: number; drawn: number; traces: number[] };
  png: Uint8Array;
}

/** Opens a report page offline (any non-file request is blocked and recorded) and inspects it. */
async function inspect(url: string, waitMs = 30_000): Promise<PageCheck> {
  const browser = await sharedBrowser();
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  const external: string[] = [];
  try {
    page.on("console", (m: { type(): string; text(): string }) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e: Error) => errors.push(String(e)));
    await page.route(
      "**/*",
      (
        route: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> },
      ) => {
        const u = route.request().url();
        if (u.startsWith("file://") || u.startsWith("data:")) return route.continue();
        external.push(u);
        return route.abort();
      },
    );
    await page.goto(url, { waitUntil: "load" });
    // Every plotly placeholder becomes a drawn plot (plotly adds .js-plotly-plot and its SVG).
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll(".plotly-figure")].every((d) =>
          d.classList.contains("js-plotly-plot") && d.querySelector(".main-svg") !== null
        ),
      undefined,
      { timeout: waitMs },
    ).catch(() => {/* counted below */});
    const plots = await page.evaluate(() => {
      const divs = [...document.querySelectorAll(".plotly-figure")];
      const drawn = divs.filter((d) =>
        d.classList.contains("js-plotly-plot") && d.querySelector(".main-svg")
      ) as (Element & { data?: unknown })[];
      return {
        divs: divs.length,
        drawn: drawn.length,
        traces: drawn.map((d) => (Array.isArray(d.data) ? d.data.length : 0)),
      };
    });
    const png = await page.screenshot({ fullPage: true });
    return { errors, external, plots, png };
  } finally {
    await page.close();
  }
}

/** True when the image has more than one colour. */
async function nonBlank(png: Uint8Array): Promise<boolean> {
  const stats = await sharp(png).stats();
  return stats.channels.some((c) => c.min !== c.max);
}

Deno.test({
  name:
    "buildReport() pages load in headless Chromium offline, without console errors, with every plotly figure drawn",
  ignore: !chromiumPath(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-report-browser-" });
    try {
      await writeSyntheticRun(dir);
      const r = await buildReport({ artifactDir: dir });
      const pages = [r.indexPath, ...r.pages.map((p) => p.path)];
      assert.equal(pages.length, 3);
      for (const path of pages) {
        const name = path.slice(dir.length);
        const c = await inspect(`file://${path}`);
        assert.deepEqual(c.errors, [], `${name}: console errors`);
        assert.deepEqual(c.external, [], `${name}: requests outside the folder`);
        assert.equal(c.plots.drawn, c.plots.divs, `${name}: drawn plots`);
        for (const n of c.plots.traces) assert.ok(n > 0, `${name}: a plot without data`);
        assert.ok(await nonBlank(c.png), `${name}: blank screenshot`);
        if (path.endsWith("00_intro.html")) {
          assert.equal(c.plots.divs, 1, "the intro notebook's plotly output");
          assert.deepEqual(c.plots.traces, [1]);
        }
      }
      // Without the plotly bundle beside the artifacts the figure is not drawn (and the check sees it).
      await Deno.rename(join(dir, "plotly.min.js"), join(dir, "plotly.away.js"));
      const missing = await inspect(`file://${join(dir, "report", "00_intro.html")}`, 2_000);
      assert.equal(missing.plots.drawn, 0);
      assert.equal(missing.plots.divs, 1);
      await Deno.rename(join(dir, "plotly.away.js"), join(dir, "plotly.min.js"));
      // Following the index's link lands on the cell anchor.
      const browser = await sharedBrowser();
      const page = await browser.newPage();
      try {
        await page.goto(`file://${r.indexPath}`);
        await page.click('a[href="00_intro.html#cell-2"]');
        await page.waitForURL(/00_intro\.html#cell-2$/);
        assert.equal(await page.evaluate(() => document.querySelector(":target")?.id), "cell-2");
      } finally {
        await page.close();
      }
    } finally {
      await closeBrowser();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
