import assert from "node:assert/strict";
import {
  embeddingPanelsFigure,
  sameLanguageNeighbourShare,
  tsneLayout,
} from "../lib/embedding_plots/mod.ts";
import { rowMatrix } from "../lib/retrieval/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";

/** `perCluster` points around each of `clusters` random centres in `d` dimensions. */
function clustered(clusters: number, perCluster: number, d: number, spread: number, seed: number) {
  const r = new SeededRandom(seed);
  const centres = Array.from(
    { length: clusters },
    () => Array.from({ length: d }, () => r.normal()),
  );
  const data = new Float32Array(clusters * perCluster * d), labels: string[] = [];
  for (let c = 0; c < clusters; c++) {
    for (let i = 0; i < perCluster; i++) {
      const row = (c * perCluster + i) * d;
      for (let j = 0; j < d; j++) data[row + j] = centres[c]![j]! + spread * r.normal();
      labels.push(`L${c}`);
    }
  }
  return { points: rowMatrix(data, clusters * perCluster, d), labels };
}

Deno.test("tsneLayout() is deterministic per seed and keeps separated clusters apart", () => {
  const { points, labels } = clustered(3, 20, 16, 0.05, 1);
  const a = tsneLayout(points, { seed: 7, iterations: 300 });
  const b = tsneLayout(points, { seed: 7, iterations: 300 });
  const c = tsneLayout(points, { seed: 8, iterations: 300 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  let intra = 0, inter = 0, ni = 0, no = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const d = Math.hypot(a[2 * i]! - a[2 * j]!, a[2 * i + 1]! - a[2 * j + 1]!);
      if (labels[i] === labels[j]) [intra, ni] = [intra + d, ni + 1];
      else [inter, no] = [inter + d, no + 1];
    }
  }
  assert.ok(intra / ni < 0.3 * (inter / no), `intra ${intra / ni} vs inter ${inter / no}`);
  assert.throws(() => tsneLayout(rowMatrix(new Float32Array(6), 3, 2), { seed: 1 }), KitError);
});

Deno.test("sameLanguageNeighbourShare() is 1 for separated languages and near chance for mixed ones", async () => {
  const sep = clustered(4, 25, 8, 0.05, 2);
  assert.equal(await sameLanguageNeighbourShare(sep.points, sep.labels, 5), 1);
  const r = new SeededRandom(3);
  const mixed = rowMatrix(Float32Array.from({ length: 100 * 8 }, () => r.normal()), 100, 8);
  const share = await sameLanguageNeighbourShare(mixed, sep.labels, 5);
  assert.ok(share > 0.1 && share < 0.45, `share ${share}, chance ≈ 0.24`);
  await assert.rejects(() => sameLanguageNeighbourShare(mixed, sep.labels, 100), KitError);
});

Deno.test("embeddingPanelsFigure() makes one panel per setup with one legend entry per language", () => {
  const xy = new Float64Array([0, 0, 1, 1, 2, 2]);
  const f = embeddingPanelsFigure([
    { title: "XLM-R", xy, languages: ["en", "es", "quy"] },
    { title: "Eng-Pivot", xy, languages: ["en", "es", "quy"] },
  ]);
  assert.equal(f.data.length, 6);
  assert.equal(f.data.filter((t) => t.showlegend).length, 3);
  assert.deepEqual(
    f.data.filter((t) => t.name === "es").map((t) => (t.marker as { color: string }).color).length,
    2,
  );
  assert.equal(
    new Set(f.data.filter((t) => t.name === "es").map((t) => (t.marker as { color: string }).color))
      .size,
    1,
  );
  assert.ok(f.layout!.xaxis2 && !f.layout!.xaxis3);
  assert.throws(() => embeddingPanelsFigure([{ title: "bad", xy, languages: ["en"] }]), KitError);
});
