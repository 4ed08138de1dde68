import assert from "node:assert/strict";
import { formatDuration, ProgressBar } from "../lib/util/progress.ts";

Deno.test("ProgressBar.render() shows counts, unit, rate and ETA while work is left", () => {
  const bar = new ProgressBar("job", 40, { silent: true, unit: "files" });
  bar.tick(10);
  assert.match(bar.render(), /^job \[#{6}\.{18}\] 10\/40 files [0-9.]+\/s ETA (\d\d:\d\d|--:--)$/);
});

Deno.test("ProgressBar.render() says the work was cached when a resumed run starts complete", () => {
  const bar = new ProgressBar("captions", 804, { silent: true, start: 804, unit: "sentences" });
  assert.equal(
    bar.render(),
    `captions [${"#".repeat(24)}] 804/804 sentences (all done before, cached)`,
  );
  const partial = new ProgressBar("captions", 10, { silent: true, start: 4 });
  partial.tick(6);
  assert.match(partial.render(), /10\/10 .*\/s ETA/);
});

Deno.test("formatDuration() writes mm:ss, h:mm:ss, and --:-- for unknown", () => {
  assert.equal(formatDuration(9), "00:09");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "--:--");
});
