import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

Deno.test("fetch --models lists every paper model folder under KIT_MODELS_DIR, present or missing, with its layout", async () => {
  const models = await Deno.makeTempDir({ prefix: "kit-models-" });
  try {
    const clip = join(models, "openai", "clip-vit-base-patch32");
    await Deno.mkdir(clip, { recursive: true });
    await Deno.writeTextFile(join(clip, "config.json"), "{}");
    const env: Record<string, string> = { ...Deno.env.toObject(), KIT_MODELS_DIR: models };
    delete env.KIT_NLLB_MODEL;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tools/fetch.ts", "--models"],
      cwd: PROJECT_ROOT,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /CLIP ViT-B\/32 image tower \(paper D\): present/);
    assert.match(text, /multilingual CLIP text encoder \(paper D\): missing/);
    assert.match(text, /XLM-R large, mean-pooled .*: missing/);
    assert.match(text, /NLLB-200 .*: missing/);
    assert.match(text, /K's text tower .*: missing/);
    assert.ok(text.includes(join(models, "FacebookAI", "xlm-roberta-large")));
    assert.ok(text.includes(join(models, "google", "vit-base-patch16-224-in21k")));
    assert.ok(text.includes("KIT_K_SETUPS_DIR"), "where converted setup folders go");
    assert.ok(
      text.includes(join(models, "sentence-transformers", "clip-ViT-B-32-multilingual-v1")),
    );
  } finally {
    await Deno.remove(models, { recursive: true });
  }
});
