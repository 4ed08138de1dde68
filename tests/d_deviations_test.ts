import assert from "node:assert/strict";
import { D_DEVIATIONS, DEVIATIONS } from "../lib/deviations/mod.ts";
import type { Deviation } from "../lib/deviations/mod.ts";
import { deviationsMarkdown } from "../lib/deviations/deviations_table.ts";

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

const sample: Deviation[] = [
  {
    id: "a",
    paper: "D",
    topic: "pipes | and\nnewlines",
    authors: "x",
    kit: "y",
    reason: "z",
    profiles: ["paper"],
    affects: ["D-T1", "D-F1"],
  },
  {
    id: "b",
    paper: "D",
    topic: "umap",
    authors: "u",
    kit: "v",
    reason: "w",
    profiles: ["mini", "paper"],
    affects: ["D-F1"],
  },
];

Deno.test("deviationsMarkdown() lists the deviations affecting given artifacts, one escaped row each", () => {
  const md = deviationsMarkdown(sample, ["D-T1"]);
  const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| topic"));
  assert.deepEqual(rows, ["| pipes \\| and newlines | x | y | z | paper | D-T1 |"]);
  const all = deviationsMarkdown(sample);
  assert.equal(all.split("\n").filter((l) => /^\| (pipes|umap)/.test(l)).length, 2);
  assert.ok(all.includes("| umap | u | v | w | mini, paper | D-F1 |"));
  assert.match(deviationsMarkdown(sample, ["K-T1"]), /none known/);
});
