import assert from "node:assert/strict";
import { loadKCaptionSet } from "../lib/k_finetune/k_caption_records.ts";
import type { StampSample } from "../lib/mini_pretraining/stamp_samples.ts";
import { KitError } from "../lib/util/kit_error.ts";

Deno.test("loadKCaptionSet() without notebook 01's records stops with 'run 01 first' and the command", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-deps-test-" });
  const old = Deno.env.get("KIT_CACHE_DIR");
  Deno.env.set("KIT_CACHE_DIR", dir);
  try {
    const samples = [{
      key: "a",
      partition: "train",
      captions: { en: "a dog" },
    }] as unknown as StampSample[];
    await assert.rejects(loadKCaptionSet(samples, { smoke: true }), (err: unknown) => {
      assert.ok(err instanceof KitError);
      assert.match(err.message, /run 01 first/);
      assert.match(err.describe(), /\.\/kit task reproduce --only 01 --smoke/);
      return true;
    });
  } finally {
    if (old === undefined) Deno.env.delete("KIT_CACHE_DIR");
    else Deno.env.set("KIT_CACHE_DIR", old);
    await Deno.remove(dir, { recursive: true });
  }
});
