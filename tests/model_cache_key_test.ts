/**
 * The trained-model cache key (lib/model_cache/model_cache.ts): the code fingerprint of the training
 * modules' import graph, not a hand-bumped version, so an edit to any module a model's training
 * imports gives another cache folder; canonical JSON, so key order does not matter.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MODEL_CODE_ENTRIES, modelCacheDir } from "../lib/model_cache/model_cache.ts";
import { moduleClosureSync } from "../lib/eval_cache/code_fingerprint.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("modelCacheDir changes when a module in the training code's import graph is edited", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = join(dir, "train.ts");
    const loss = join(dir, "loss.ts");
    const unrelated = join(dir, "unrelated.ts");
    await Deno.writeTextFile(entry, 'import { loss } from "./loss.ts";\nexport const t = loss;\n');
    await Deno.writeTextFile(loss, "export const loss = (x: number) => x * x;\n");
    await Deno.writeTextFile(unrelated, "export const u = 1;\n");
    const key = () =>
      modelCacheDir("k-test", { steps: 2, lr: 1e-4 }, "data", {
        codeEntries: [entry],
        reuseFingerprint: false,
      });
    const before = key();
    assert.equal(key(), before, "the same code gives the same folder");
    await Deno.writeTextFile(unrelated, "export const u = 2;\n");
    assert.equal(key(), before, "a module outside the graph does not count");
    await Deno.writeTextFile(loss, "export const loss = (x: number) => -x * x;\n");
    const after = key();
    assert.notEqual(after, before, "an edited imported module gives another folder");
    assert.match(after, /k-test@[0-9a-f]{12}$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("modelCacheDir: config key order does not matter; config and data do", () => {
  const a = modelCacheDir("m", { a: 1, b: { c: 2, d: 3 } }, "fp");
  assert.equal(modelCacheDir("m", { b: { d: 3, c: 2 }, a: 1 }, "fp"), a);
  assert.notEqual(modelCacheDir("m", { a: 1, b: { c: 2, d: 4 } }, "fp"), a);
  assert.notEqual(modelCacheDir("m", { a: 1, b: { c: 2, d: 3 } }, "fp2"), a);
});

Deno.test("the default training code graph covers the training loop, losses and encoders", () => {
  const graph = moduleClosureSync(MODEL_CODE_ENTRIES);
  for (const m of ["lib/k_finetune/k_setup_loop.ts", "lib/model_cache/model_cache.ts"]) {
    assert.ok(graph.includes(m), `${m} in the model code graph`);
  }
  assert.ok(graph.some((m) => m.startsWith("lib/losses/")), "a loss module in the graph");
  assert.ok(graph.some((m) => m.startsWith("lib/encoders/")), "an encoder module in the graph");
});

Deno.test("every module of the training folders is in the model code graph", () => {
  const graph = new Set(moduleClosureSync(MODEL_CODE_ENTRIES));
  // the host step of the real-shape tool and the unit probes: it trains no cached model
  const outside = new Set(["lib/k_finetune/k_train_step.ts"]);
  const folders = [
    "lib/models",
    "lib/model_cache",
    "lib/resumable_training",
    "lib/mini_pretraining",
    "lib/k_finetune",
  ];
  let seen = 0;
  for (const folder of folders) {
    for (const e of Deno.readDirSync(join(ROOT, folder))) {
      if (!e.isFile || !e.name.endsWith(".ts")) continue;
      const m = `${folder}/${e.name}`;
      seen++;
      if (outside.has(m)) assert.ok(!graph.has(m), `${m} is listed as outside but is in the graph`);
      else assert.ok(graph.has(m), `${m} is not in the model code graph (MODEL_CODE_ENTRIES)`);
    }
  }
  assert.ok(seen > 30, `${seen} training modules found`);
});
