// Issue 27: times modelContentFingerprint (paper D's ONNX pair) on the full-size stand-ins
// (read-only): cold (empty hash store) and warm (store reloaded from disk: stat only). The hash
// store lives in a temp folder. Run: ./kit run -A bench/rehearsal/d05_model_fingerprint.ts
import { join } from "node:path";
import { cacheDir } from "../../lib/util/paths.ts";
import { FileHashCache } from "../../lib/util/file_hash_cache.ts";
import {
  modelContentFingerprint,
} from "../../lib/encoders/pretrained/model_content_fingerprint.ts";

const root = join(cacheDir(), "rehearsal");
const clip = join(root, "clip-vision-full-a8bdb551333b");
const text = join(root, "mclip-text-full-88b2c6805f13");
const sets: [string, string, string[]][] = [
  ["clip", clip, ["config.json", "preprocessor_config.json", "onnx/vision_model.onnx"]],
  ["text", text, [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "onnx/model.onnx",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "2_Dense/config.json",
    "2_Dense/model.safetensors",
  ]],
];
const tmp = await Deno.makeTempDir({ prefix: "emb-measure-" });
const store = join(tmp, "h.json");
const out: Record<string, unknown> = {};
for (const phase of ["cold", "warm", "warm2"]) {
  for (const [name, dir, files] of sets) {
    const cache = new FileHashCache(store); // a fresh instance: reads the store from disk
    const t0 = performance.now();
    const fp = await modelContentFingerprint(dir, files, { m: name }, { hashCache: cache });
    const ms = performance.now() - t0;
    out[`${phase}.${name}`] = { ms: Math.round(ms * 10) / 10, fp: fp.slice(0, 16) };
    console.log(phase, name, ms.toFixed(1), "ms", fp.slice(0, 16));
  }
}
const entries = JSON.parse(await Deno.readTextFile(store));
for (const p of [join(clip, "onnx/vision_model.onnx"), join(text, "onnx/model.onnx")]) {
  const real = await Deno.realPath(p);
  console.log("store", real, entries[real].sha256, entries[real].size);
}
console.log(JSON.stringify(out));
await Deno.remove(tmp, { recursive: true });
