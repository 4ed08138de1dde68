import assert from "node:assert/strict";
import {
  type Deviation,
  deviationsMarkdown,
  K_DEVIATIONS,
  selectDeviations,
} from "../lib/deviations/mod.ts";

Deno.test("K_DEVIATIONS entries are complete: unique ids, paper K, text in every field, artifacts named", () => {
  assert.ok(K_DEVIATIONS.length >= 10);
  assert.equal(new Set(K_DEVIATIONS.map((d) => d.id)).size, K_DEVIATIONS.length);
  for (const d of K_DEVIATIONS) {
    assert.equal(d.paper, "K", d.id);
    assert.match(d.id, /^k-[a-z0-9-]+$/);
    for (const f of ["topic", "authors", "kit", "reason"] as const) {
      assert.ok(d[f].trim().length > 3, `${d.id}.${f}`);
    }
    assert.ok(d.profiles.length > 0 && d.affects.length > 0, d.id);
  }
  // the topics the fidelity issue asks for
  for (const topic of ["optimiser", "dropout", "max length", "validation", "t-SNE", "NLI"]) {
    assert.ok(K_DEVIATIONS.some((d) => d.topic.includes(topic)), topic);
  }
});

Deno.test("deviationsMarkdown() shows only the deviations affecting the given artifacts and profile", () => {
  const list: Deviation[] = [
    {
      id: "k-a",
      paper: "K",
      topic: "a | b",
      authors: "x",
      kit: "y",
      reason: "z",
      profiles: ["mini"],
      affects: ["K-T1", "K-F1"],
    },
    {
      id: "k-b",
      paper: "K",
      topic: "only paper",
      authors: "x",
      kit: "y",
      reason: "z",
      profiles: ["paper"],
      affects: ["K-T2"],
    },
  ];
  const md = deviationsMarkdown(list, { artifacts: ["K-T1"] });
  assert.ok(md.includes("| a \\| b |"), md);
  assert.ok(!md.includes("only paper"));
  assert.ok(md.includes("| K-T1 |"), "lists only the requested artifacts it affects");
  assert.equal(md.split("\n").filter((l) => l.startsWith("| ")).length, 2); // header + 1 row
  assert.deepEqual(selectDeviations(list, { profile: "paper" }).map((d) => d.id), ["k-b"]);
  assert.match(deviationsMarkdown(list, { artifacts: ["D-T1"] }), /none known/);
  // the real list: K-F1 shows the t-SNE settings, K-T2 the NLI selection data, K-T1 neither
  const k1 = deviationsMarkdown(K_DEVIATIONS, { artifacts: ["K-T1", "K-T1-LANGS"] });
  assert.ok(k1.includes("xsim neighbourhood") && !k1.includes("t-SNE settings"));
  assert.ok(deviationsMarkdown(K_DEVIATIONS, { artifacts: ["K-T2"] }).includes("NLI training"));
});
