/**
 * CPU seconds of the folder tokenizer alone (transformers.js, as loadSafetensorsTextModel's
 * tokenize) on FLORES stand-in sentences: ./kit run -A bench/wasm_batch/tokenize_cost.ts FOLDER FLORES LANGS N
 */
import process from "node:process";
import { join } from "node:path";
import { loadTransformers } from "../../lib/encoders/pretrained/transformers_runtime.ts";
import { makeBatchTokenizer } from "../../lib/encoders/pretrained/token_batch.ts";

const [folder, flores, langs, nArg] = Deno.args;
if (!folder || !flores || !langs) throw new Error("usage: FOLDER FLORES LANGS N");
const tjs = await loadTransformers();
const tok = await tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
const batch = makeBatchTokenizer(tok, 128);
for (const lang of langs.split(",")) {
  const lines = (await Deno.readTextFile(join(flores, "devtest", `${lang}.devtest`))).split("\n")
    .filter((l) => l.length > 0).slice(0, Number(nArg ?? 32));
  batch(lines.slice(0, 2)); // warm-up
  const c0 = process.cpuUsage();
  const b = batch(lines);
  const d = process.cpuUsage(c0);
  console.log(
    `${lang}: ${lines.length} texts → ${b.seqLen} padded tokens; tokenizer CPU ${
      ((d.user + d.system) / 1000).toFixed(0)
    } ms (${((d.user + d.system) / 1000 / lines.length).toFixed(1)} ms/text)`,
  );
}
