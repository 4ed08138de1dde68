/**
 * Tokens a FLORES sentence is padded to in K's encoder batches (batch 32, padded to the
 * batch's longest text, maxLength 128): per language over the first N sentences of devtest,
 * and the mean over languages, with the folder's tokenizer.
 *   ./kit run -A bench/wasm_batch/flores_padded_tokens.ts FOLDER FLORES [N]
 */
import { join } from "node:path";
import { loadTransformers } from "../../lib/encoders/pretrained/transformers_runtime.ts";
import { makeBatchTokenizer } from "../../lib/encoders/pretrained/token_batch.ts";

const [folder, flores, nArg] = Deno.args;
if (!folder || !flores) throw new Error("usage: FOLDER FLORES [N]");
const n = Number(nArg ?? 96);
const tjs = await loadTransformers();
const tok = await tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
const batch = makeBatchTokenizer(tok, 128);
const files = [...Deno.readDirSync(join(flores, "devtest"))].map((e) => e.name).sort();
let padded = 0, real = 0, count = 0;
const rows: string[] = [];
for (const f of files) {
  const lines = Deno.readTextFileSync(join(flores, "devtest", f)).split("\n")
    .filter((l) => l.length > 0).slice(0, n);
  let p = 0, r = 0;
  for (let i = 0; i < lines.length; i += 32) {
    const b = batch(lines.slice(i, i + 32));
    p += b.seqLen * b.batch;
    for (const m of b.attentionMask) r += Number(m);
  }
  padded += p, real += r, count += lines.length;
  rows.push(`${f}\t${(r / lines.length).toFixed(1)}\t${(p / lines.length).toFixed(1)}`);
}
console.log(rows.join("\n"));
console.log(
  `all ${files.length} languages, ${count} sentences: real ${(real / count).toFixed(1)}, padded ${
    (padded / count).toFixed(1)
  } tokens a sentence (batches of 32)`,
);
