import assert from "node:assert/strict";
import {
  type BoxStatistics,
  boxStatistics,
  captionLengthFigure,
} from "../lib/dataset_build/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

/** numpy's statistics of `values` (tests/fixtures/box_statistics_numpy.json). */
interface Golden extends BoxStatistics {
  values: number[];
}

const GOLDEN: Golden[] = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/box_statistics_numpy.json", import.meta.url)),
);

Deno.test("boxStatistics() equals numpy's percentile quartiles, min, max and mean (fixture from Debian numpy)", () => {
  assert.ok(GOLDEN.length >= 6);
  for (const g of GOLDEN) {
    const b = boxStatistics(g.values);
    for (const k of ["q1", "median", "q3", "min", "max", "mean"] as const) {
      assert.ok(
        Math.abs(b[k] - g[k]) <= 1e-9 * Math.max(1, Math.abs(g[k])),
        `${k}: ${b[k]} vs ${g[k]}`,
      );
    }
  }
});

Deno.test("boxStatistics() rejects an empty list with a KitError", () => {
  assert.throws(() => boxStatistics([]), KitError);
});

Deno.test("captionLengthFigure({ bySource }) stores one precomputed box per source and language, equal to the boxes of the raw lengths", () => {
  const samples: { source: string; captions: Record<string, string[]> }[] = [
    { source: "b", captions: { en: ["abc", "abcdef"], ja: ["猫。"] } },
    { source: "a", captions: { en: ["x", "xy", "xyz", "a much longer caption"] } },
    { source: "b", captions: { en: ["ab"] } },
  ];
  const fig = captionLengthFigure(samples, { languages: ["en", "ja"], bySource: true });
  assert.deepEqual(fig.data.map((t) => t.name), ["a", "b"]);
  const [a, b] = fig.data as Record<string, unknown>[];
  assert.deepEqual(a!.x, ["en"], "no box for a language without captions");
  assert.deepEqual(b!.x, ["en", "ja"]);
  assert.equal(a!.y, undefined, "raw lengths are not stored");
  const want = boxStatistics([3, 6, 2]);
  assert.equal((b!.median as number[])[0], want.median);
  assert.equal((b!.q1 as number[])[0], want.q1);
  assert.equal((b!.upperfence as number[])[1], 2, "ja: one caption of 2 code points");
  assert.equal((a!.upperfence as number[])[0], 21, "whiskers reach the longest caption");
  assert.equal((a!.lowerfence as number[])[0], 1);
  assert.equal((a!.mean as number[])[0], 6.75);
});
