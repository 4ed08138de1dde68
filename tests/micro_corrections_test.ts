import assert from "node:assert/strict";
import {
  connectedComponents,
  exactCosineKnn,
  type GraphEntry,
  localUmap,
  localUmapWithInit,
  microCorrectionFigure,
  microCorrectionPanels,
  nearestImages,
  spectralLayout,
  umapSpectralInit,
} from "../lib/micro_corrections/mod.ts";
import { symmetricEigenvalues } from "../lib/diagnostics/symmetric_eigen.ts";
import { l2NormalizeRows, matrixFromRows, type RowMatrix } from "../lib/retrieval/row_matrix.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import { KitError } from "../lib/util/kit_error.ts";

/** N items in d dims: images, captions near them, and two "heads" that move captions towards the image. */
function synthetic(n: number, d: number, seed: number) {
  const rng = new SeededRandom(seed);
  const vec = () => Array.from({ length: d }, () => rng.normal());
  const images = Array.from({ length: n }, vec);
  const before = images.map((v) => v.map((x) => x + 1.5 * rng.normal()));
  const step = (t: number[], v: number[], a: number) => t.map((x, j) => x + a * (v[j]! - x));
  const linear = before.map((t, i) => step(t, images[i]!, 0.1 + 0.05 * rng.next()));
  const mlp = before.map((t, i) => step(t, images[i]!, 0.4 * rng.next()));
  const m = (rows: number[][]): RowMatrix => l2NormalizeRows(matrixFromRows(rows));
  return { images: m(images), before: m(before), linear: m(linear), mlp: m(mlp) };
}

const rowsOf = (m: RowMatrix) =>
  Array.from(
    { length: m.rows },
    (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)),
  );
const cos = (a: number[], b: number[]) => {
  const dot = a.reduce((s, x, i) => s + x * b[i]!, 0);
  return dot / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
};

Deno.test("microCorrectionPanels() picks the 8 items with the largest cos(t̃_MLP, v) − cos(t, v) (naive oracle)", () => {
  const s = synthetic(40, 12, 3);
  const [img, bef, mlp] = [rowsOf(s.images), rowsOf(s.before), rowsOf(s.mlp)];
  const naive = img.map((v, i) => ({ i, gain: cos(mlp[i]!, v) - cos(bef[i]!, v) }))
    .sort((a, b) => b.gain - a.gain)
    .slice(0, 8);
  const panels = microCorrectionPanels({ ...s, umap: { nEpochs: 50 } });
  assert.deepEqual(panels.map((p) => p.anchor), naive.map((x) => x.i));
  panels.forEach((p, k) => assert.ok(Math.abs(p.gain - naive[k]!.gain) < 1e-5));
  // N = 40 < 140: all 40 items, the anchor first, then the other images most similar first.
  for (const p of panels) {
    assert.equal(p.items.length, 40);
    assert.equal(p.items[0], p.anchor);
    assert.equal(new Set(p.items).size, 40);
    const sims = p.items.slice(1).map((i) => cos(img[i]!, img[p.anchor]!));
    for (let j = 1; j < sims.length; j++) assert.ok(sims[j - 1]! >= sims[j]! - 1e-6);
    for (const k of ["images", "before", "linear", "mlp"] as const) {
      assert.equal(p[k].length, 40);
      for (const [x, y] of p[k]) assert.ok(Number.isFinite(x) && Number.isFinite(y));
    }
  }
});

Deno.test("microCorrectionPanels() takes 140 items per panel, the anchor included, as D's k_img = 140", () => {
  const s = synthetic(200, 8, 4);
  const img = rowsOf(s.images);
  const panels = microCorrectionPanels({ ...s, anchors: 1, umap: { nEpochs: 5 } });
  const p = panels[0]!;
  assert.equal(p.items.length, 140);
  assert.equal(p.images.length, 140);
  assert.equal(p.init, "spectral");
  // Naive oracle: the top 140 of all 200 images by cosine to the anchor's image (itself first).
  const order = img.map((v, i) => ({ i, c: cos(v, img[p.anchor]!) }))
    .sort((a, b) => b.c - a.c || a.i - b.i).slice(0, 140).map((x) => x.i);
  assert.equal(order[0], p.anchor);
  assert.deepEqual([...p.items].sort((a, b) => a - b), [...order].sort((a, b) => a - b));
  const small = microCorrectionPanels({ ...s, anchors: 1, neighbours: 20, umap: { nEpochs: 5 } });
  assert.equal(small[0]!.items.length, 20);
});

Deno.test("nearestImages() clamps to N − 1 and honours a smaller count", () => {
  const s = synthetic(10, 4, 1);
  assert.equal(nearestImages(s.images, 3, 140).length, 9);
  const five = nearestImages(s.images, 3, 5);
  assert.equal(five.length, 5);
  assert.ok(!five.includes(3));
});

Deno.test("exactCosineKnn() lists each point first, then its nearest by cosine distance", () => {
  const pts = [[1, 0], [0.9, 0.1], [0, 1], [-1, 0]];
  const { indices, distances } = exactCosineKnn(pts, 3);
  assert.deepEqual(indices[0], [0, 1, 2]);
  assert.deepEqual(indices[3], [3, 2, 1]);
  assert.equal(distances[0]![0], 0);
  assert.ok(Math.abs(distances[0]![2]! - 1) < 1e-12);
});

Deno.test("localUmap() is deterministic for a seed and differs for another seed", () => {
  const pts = rowsOf(synthetic(30, 6, 5).images);
  const a = localUmap(pts, { seed: 7, nEpochs: 60 });
  const b = localUmap(pts, { seed: 7, nEpochs: 60 });
  const c = localUmap(pts, { seed: 8, nEpochs: 60 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.length, 30);
});

Deno.test("microCorrectionFigure() builds 8 panels with arrows = 10× the displacement, same output for a seed", () => {
  const s = synthetic(30, 8, 11);
  const captions = Array.from({ length: 30 }, (_, i) => `caption <${i}> of a stamp`);
  const opts = { ...s, captions, umap: { nEpochs: 60, seed: 7 } };
  const fig = microCorrectionFigure(opts);
  assert.deepEqual(
    JSON.parse(JSON.stringify(microCorrectionFigure(opts))),
    JSON.parse(JSON.stringify(fig)),
  );
  const layout = fig.layout!;
  for (let p = 1; p <= 8; p++) {
    const s2 = p === 1 ? "" : String(p);
    assert.ok(layout[`xaxis${s2}`] && layout[`yaxis${s2}`], `axes of panel ${p}`);
    // images, 3 caption sets, anchor image, 3 anchor captions, invisible arrow heads = 9 traces per panel
    assert.equal(fig.data.filter((t) => t.xaxis === `x${s2}`).length, 9);
  }
  const panels = microCorrectionPanels(opts);
  const arrows = (layout.annotations as Record<string, number | string | boolean>[]).filter((a) =>
    a.showarrow === true
  );
  assert.equal(arrows.length, 16);
  panels.forEach((p, k) => {
    const b = p.before[0]!;
    for (const [j, kind] of (["linear", "mlp"] as const).entries()) {
      const a = arrows[2 * k + j]!;
      const q = p[kind][0]!;
      assert.ok(Math.abs((a.x as number) - (b[0] + 10 * (q[0] - b[0]))) < 1e-9);
      assert.ok(Math.abs((a.y as number) - (b[1] + 10 * (q[1] - b[1]))) < 1e-9);
      assert.equal(a.ax, b[0]);
      assert.equal(a.ay, b[1]);
    }
  });
  // Caption text is escaped for plotly's HTML-ish labels.
  assert.ok(JSON.stringify(fig).includes("caption &lt;"));
  assert.ok(!JSON.stringify(fig).includes("caption <"));
});

Deno.test("microCorrectionFigure() rejects mismatched shapes with a KitError", () => {
  const s = synthetic(10, 4, 2);
  const small = synthetic(9, 4, 2);
  assert.throws(
    () => microCorrectionFigure({ ...s, mlp: small.mlp }),
    (e) => e instanceof KitError && /mlp is 9×4; expected 10×4/.test(e.message),
  );
  assert.throws(() => microCorrectionFigure({ ...s, captions: ["a"] }), /1 captions for 10 items/);
});

/** A connected symmetric weighted graph: a ring plus random chords. */
function randomGraph(n: number, seed: number): GraphEntry[] {
  const rng = new SeededRandom(seed);
  const w = new Map<string, number>();
  const add = (i: number, j: number, v: number) => {
    if (i === j) return;
    const [a, b] = i < j ? [i, j] : [j, i];
    w.set(`${a},${b}`, v);
  };
  for (let i = 0; i < n; i++) add(i, (i + 1) % n, 0.2 + 0.8 * rng.next());
  for (let e = 0; e < 3 * n; e++) {
    add(Math.floor(rng.next() * n), Math.floor(rng.next() * n), 0.05 + rng.next());
  }
  const out: GraphEntry[] = [];
  for (const [k, v] of w) {
    const [a, b] = k.split(",").map(Number) as [number, number];
    out.push({ row: a, col: b, value: v }, { row: b, col: a, value: v });
  }
  return out;
}

Deno.test("spectralLayout() returns the normalised Laplacian's 2nd and 3rd eigenvectors (checked against an independent eigenvalue solver)", () => {
  const n = 40;
  const g = randomGraph(n, 11);
  const rng = new SeededRandom(3);
  const y = spectralLayout(n, g, 2, () => rng.normal());
  // Dense L = I − D^{-1/2} G D^{-1/2}.
  const deg = new Float64Array(n);
  for (const e of g) deg[e.row] = deg[e.row]! + e.value;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) L[i * n + i] = 1;
  for (const e of g) {
    L[e.row * n + e.col] = L[e.row * n + e.col]! - e.value / Math.sqrt(deg[e.row]! * deg[e.col]!);
  }
  const eig = symmetricEigenvalues({ data: L, size: n }); // descending
  const smallest = [...eig].reverse();
  for (let c = 0; c < 2; c++) {
    const v = y.map((r) => r[c]!);
    const norm = Math.hypot(...v);
    assert.ok(Math.abs(norm - 1) < 1e-9);
    const lv = v.map((_, i) => v.reduce((s, vj, j) => s + L[i * n + j]! * vj, 0));
    const lambda = lv.reduce((s, x, i) => s + x * v[i]!, 0);
    assert.ok(
      Math.abs(lambda - smallest[c + 1]!) < 1e-8,
      `λ${c + 2}: ${lambda} vs ${smallest[c + 1]}`,
    );
    const resid = Math.hypot(...lv.map((x, i) => x - lambda * v[i]!));
    assert.ok(resid < 1e-6, `residual ${resid}`);
    // Orthogonal to the trivial eigenvector √deg; sign: largest |entry| positive.
    assert.ok(Math.abs(v.reduce((s, x, i) => s + x * Math.sqrt(deg[i]!), 0)) < 1e-8);
    const big = v.reduce((b, x, i) => (Math.abs(x) > Math.abs(v[b]!) ? i : b), 0);
    assert.ok(v[big]! > 0);
  }
});

Deno.test("umapSpectralInit() scales to [0, 10] per coordinate and gives up on a disconnected graph", () => {
  const rng = new SeededRandom(4);
  const g = randomGraph(30, 5);
  const init = umapSpectralInit(30, g, 500, 2, () => rng.normal())!;
  for (let c = 0; c < 2; c++) {
    const col = init.map((r) => r[c]!);
    assert.ok(Math.abs(Math.min(...col)) < 1e-12 && Math.abs(Math.max(...col) - 10) < 1e-9);
  }
  const two = [
    ...g,
    ...randomGraph(30, 6).map((e) => ({ ...e, row: e.row + 30, col: e.col + 30 })),
  ];
  assert.equal(connectedComponents(60, two), 2);
  assert.equal(umapSpectralInit(60, two, 500, 2, () => rng.normal()), null);
});

Deno.test("localUmapWithInit() starts from umap-learn's spectral layout by default, random on request", () => {
  const pts = rowsOf(synthetic(40, 6, 9).images);
  const s = localUmapWithInit(pts, { seed: 7, nEpochs: 30 });
  assert.equal(s.init, "spectral");
  assert.deepEqual(localUmapWithInit(pts, { seed: 7, nEpochs: 30 }).embedding, s.embedding);
  const r = localUmapWithInit(pts, { seed: 7, nEpochs: 30, init: "random" });
  assert.equal(r.init, "random");
  assert.notDeepEqual(r.embedding, s.embedding);
});
