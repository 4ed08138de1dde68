/**
 * Notebook 03's second benchmark, the mini dataset's in-domain bitext (K-T1's in-domain rows,
 * `kT1InDomainBenchmark`), as the paper profile's encoders are called on it: texts per encoder
 * and padded tokens a text in batches of 32 sorted by length, with a folder's tokenizer (the
 * rehearsal's stand-in). The 2026-12-05 rehearsal of 03 found these calls beside FLORES' (≈ 0.5×
 * FLORES' texts an encoder) where the plan counted FLORES only.
 *
 *   ./kit run -A bench/sorted_batches/in_domain_tokens.ts TOKENIZER_FOLDER
 */
import { loadTransformers } from "../../lib/encoders/pretrained/transformers_runtime.ts";
import { makeTextTokenizer } from "../../lib/encoders/pretrained/token_batch.ts";
import { paddedTokenCount, textBatches } from "../../lib/encoders/length_sorted_batches.ts";
import { buildMiniDataset, readSampleIndex } from "../../lib/dataset_build/mod.ts";
import { kT1InDomainBenchmark } from "../../lib/bitext_eval/in_domain_bitext.ts";

const [folder] = Deno.args;
if (!folder) throw new Error("usage: TOKENIZER_FOLDER");
const tjs = await loadTransformers();
const tok = await tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
const encode = makeTextTokenizer(tok, 500);
const ds = await buildMiniDataset({ quiet: true });
const bench = kT1InDomainBenchmark(await readSampleIndex(ds.dir));
let texts = 0, real = 0, sorted = 0, calls = 0;
const call = (t: readonly string[]) => {
  const lengths = t.map((s) => encode(s).length);
  calls++;
  texts += t.length;
  real += lengths.reduce((s, n) => s + n, 0);
  sorted += paddedTokenCount(lengths, textBatches(lengths, 32, true));
};
call(bench.pivot);
for (const set of bench.sets) call(set.texts);
console.log(
  `in-domain: ${calls} calls, ${texts} texts an encoder, ${(real / texts).toFixed(1)} real and ${
    (sorted / texts).toFixed(1)
  } padded tokens a text (sorted batches of 32)`,
);
