import assert from "node:assert/strict";
import { D_DEVIATIONS, DEVIATIONS } from "../lib/deviations/mod.ts";

Deno.test("D_DEVIATIONS: unique ids, paper D, every field filled, each affects a D artifact", () => {
  const ids = D_DEVIATIONS.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(D_DEVIATIONS.length >= 8);
  for (const d of D_DEVIATIONS) {
    assert.equal(d.paper, "D");
    for (const k of ["id", "topic", "authors", "kit", "reason"] as const) {
      assert.ok(d[k].trim().length > 0, `${d.id}: ${k}`);
    }
    assert.ok(d.profiles.length > 0, d.id);
    assert.ok(d.affects.some((a) => a.startsWith("D-")), `${d.id} affects no D artifact`);
  }
  assert.ok(D_DEVIATIONS.every((d) => DEVIATIONS.includes(d)));
  // D-F1's UMAP difference is listed, and the lang-ID probe's only for D-T6 (and CLAIMS).
  assert.deepEqual(D_DEVIATIONS.find((d) => d.id === "d-langid-probe")!.affects, [
    "D-T6",
    "CLAIMS",
  ]);
});
