/**
 * Trained-model folders carry a manifest (`files.sha256.json`) with the sha256 of every file,
 * checked whenever the folder is loaded: a flipped byte in a cached model's tokenizer.json (or
 * config, or a nested weights file) is an error naming the file, not a silent change of results;
 * the model's key (fingerprint) comes from weights/tokenizer/config, not training.json's timings.
 * The caption records the K setups train on and the per-item outcome files claims are judged
 * from are hashed too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isComplete, modelFolderFingerprint } from "../lib/model_cache/model_cache.ts";
import { MODEL_MANIFEST, writeModelManifest } from "../lib/model_cache/model_manifest.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { type ItemOutcomes } from "../lib/claims/item_outcomes.ts";
import { readItemOutcomes, writeItemOutcomes } from "../lib/claims/item_outcomes_file.ts";
import {
  type CaptionRecord,
  loadCaptionRecords,
  writeCaptionRecords,
} from "../lib/translation/caption_records.ts";

/** A finished model folder as the trainers leave it (no .safetensors: no content seal needed). */
async function fakeModelFolder(withManifest = true): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kit-model-manifest-" });
  await Deno.writeTextFile(
    join(dir, "tokenizer.json"),
    JSON.stringify({ model: { vocab: [["<s>", 0], ["hola", -1.5]] } }),
  );
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ hidden_size: 8 }));
  await Deno.mkdir(join(dir, "image"));
  await Deno.writeFile(join(dir, "image", "weights.bin"), new Uint8Array([1, 2, 3, 4, 5]));
  await Deno.writeTextFile(join(dir, "training.json"), JSON.stringify({ seconds: 12.5 }));
  if (withManifest) await writeModelManifest(dir);
  return dir;
}

/** Flips one bit of the byte at `offset` (the size stays the same). */
async function flipByte(path: string, offset: number): Promise<void> {
  const b = await Deno.readFile(path);
  b[offset] = b[offset]! ^ 0x01;
  await Deno.writeFile(path, b);
}

for (const file of ["tokenizer.json", "config.json", "training.json", "image/weights.bin"]) {
  Deno.test(`model folder: a flipped byte in ${file} is an error naming the file`, async () => {
    const dir = await fakeModelFolder();
    try {
      assert.equal(await isComplete(dir), true);
      await flipByte(join(dir, file), 3);
      await assert.rejects(isComplete(dir), (e: unknown) => {
        assert.ok(e instanceof KitError, String(e));
        assert.match(
          e.message,
          new RegExp(`${join(dir, file)}: changed since the model was trained`),
        );
        assert.match(e.describe(), /delete the folder .* to train the model again/);
        return true;
      });
      await assert.rejects(modelFolderFingerprint(dir), KitError);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("model folder: a file listed in the manifest and gone is named", async () => {
  const dir = await fakeModelFolder();
  try {
    await Deno.remove(join(dir, "config.json"));
    await assert.rejects(
      isComplete(dir),
      /config\.json: missing \(listed in files\.sha256\.json\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model folder: the fingerprint ignores training.json's timings, not the weights", async () => {
  const dir = await fakeModelFolder();
  try {
    const before = await modelFolderFingerprint(dir);
    // a retrain: same files, other timings
    await Deno.writeTextFile(join(dir, "training.json"), JSON.stringify({ seconds: 99.25 }));
    await writeModelManifest(dir);
    assert.equal(await modelFolderFingerprint(dir), before);
    // other weights: another model
    await Deno.writeFile(join(dir, "image", "weights.bin"), new Uint8Array([1, 2, 3, 4, 6]));
    await writeModelManifest(dir);
    assert.notEqual(await modelFolderFingerprint(dir), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model folder trained before manifests: one is recorded on first load, then checked", async () => {
  const dir = await fakeModelFolder(false);
  try {
    assert.equal(await isComplete(dir), true);
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, MODEL_MANIFEST)));
    assert.deepEqual(Object.keys(manifest.files).sort(), [
      "config.json",
      "image/weights.bin",
      "tokenizer.json",
      "training.json",
    ]);
    await flipByte(join(dir, "tokenizer.json"), 5);
    await assert.rejects(isComplete(dir), /tokenizer\.json: changed since the model was trained/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("caption_records.json: a flipped byte in a caption is an error naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-caption-records-" });
  try {
    const path = join(dir, "caption_records.json");
    const records = [
      {
        image: "stamp-1",
        partition: "train",
        captions: { en: "a red apple", es: "una manzana roja" },
        origin: { en: "human", es: "apertium" },
      },
    ] as unknown as CaptionRecord[];
    await writeCaptionRecords(records, { dataset: "d1", sources: { es: "apertium" } }, { path });
    assert.deepEqual(await loadCaptionRecords({ path }), records);
    const text = await Deno.readTextFile(path);
    await flipByte(path, text.indexOf("manzana") + 2); // "manzana" → "maozana"
    await assert.rejects(loadCaptionRecords({ path }), (e: unknown) => {
      assert.ok(e instanceof KitError);
      assert.match(e.message, new RegExp(`${path}: damaged`));
      assert.match(e.describe(), /run notebook 01 again/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("items file: changed outcomes are an error naming the file (claims are not judged from it)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-items-hash-" });
  try {
    const outcomes: ItemOutcomes = {
      id: "K-T1",
      description: "toy bitext outcomes",
      spaces: { s: { units: 40, unit: "sentence" } },
      series: [
        { key: { setup: "a" }, space: "s", values: Array.from({ length: 40 }, (_, i) => i % 2) },
        { key: { setup: "b" }, space: "s", values: Array.from({ length: 40 }, () => 1) },
      ],
    };
    const path = await writeItemOutcomes(dir, outcomes);
    assert.deepEqual(
      (await readItemOutcomes(dir, "K-T1"))!.series[1]!.values,
      outcomes.series[1]!.values,
    );
    // setup b's outcomes: every "2" (a hit) turned into "0" (a miss), as 40 flipped bytes would
    const text = await Deno.readTextFile(path);
    const b = text.lastIndexOf('"halves":"');
    const start = b + '"halves":"'.length;
    await Deno.writeTextFile(
      path,
      text.slice(0, start) + "0".repeat(40) + text.slice(start + 40),
    );
    await assert.rejects(readItemOutcomes(dir, "K-T1"), (e: unknown) => {
      assert.ok(e instanceof KitError);
      assert.match(e.message, new RegExp(`${path}: damaged`));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
