/**
 * Padded tokens a text in K's paper-profile encoder batches (issue 27): batches of 32 in the
 * caller's order (the old batching) against batches of 32 in order of token count
 * (`textBatches(…, true)`, what `kSetupFolderEncoder` now does), with a folder's tokenizer
 * truncating at K's evaluation length (500, `K_EVAL_MAX_LENGTH`). Each embed call is batched on
 * its own, as notebooks 03 and 04 call the encoders:
 * - FLORES (03): one call per language, its devtest sentences (`FLORES/devtest/*.devtest`);
 * - real FLORES text (`SIB/<lang>/{train,dev,test}.tsv`, the mirror's SIB-200, 1,004 sentences a
 *   language): one call per language;
 * - NLI (04, `embedDistinct`): the distinct premises, then the distinct hypotheses, of a split in
 *   calls of 4,096 texts: stand-in MultiNLI train (first TRAIN_PAIRS pairs) and dev matched +
 *   mismatched, stand-in XNLI test (15 languages), the mirror's real XNLI dev (15 languages) and
 *   AmericasNLI test (10 languages); the plan's NLI count weights them as `PAPER_COUNTS.nliTexts`.
 *
 *   ./kit run -A bench/sorted_batches/padded_tokens.ts TOKENIZER_FOLDER FLORES SIB MULTINLI XNLI \
 *     XNLI_MIRROR AMERICASNLI [TRAIN_PAIRS]
 */
import { join } from "node:path";
import { loadTransformers } from "../../lib/encoders/pretrained/transformers_runtime.ts";
import { makeTextTokenizer } from "../../lib/encoders/pretrained/token_batch.ts";
import { paddedTokenCount, textBatches } from "../../lib/encoders/length_sorted_batches.ts";

const [folder, flores, sib, multinli, xnli, xnliMirror, anli, trainArg] = Deno.args;
if (!folder || !flores || !sib || !multinli || !xnli || !xnliMirror || !anli) {
  throw new Error("usage: FOLDER FLORES SIB MULTINLI XNLI XNLI_MIRROR AMERICASNLI [TRAIN_PAIRS]");
}
const BATCH = 32, MAX_LENGTH = 500, CHUNK = 4096;
const trainPairs = Number(trainArg ?? 24_576);
const tjs = await loadTransformers();
const tok = await tjs.AutoTokenizer.from_pretrained(folder, { local_files_only: true });
const encode = makeTextTokenizer(tok, MAX_LENGTH);

/** Texts, real tokens, padded tokens in the caller's order and sorted, over some embed calls. */
class Tally {
  texts = 0;
  real = 0;
  plain = 0;
  sorted = 0;
  /** One embed call of `texts`. */
  call(texts: readonly string[]): void {
    const lengths = texts.map((t) => encode(t).length);
    this.texts += texts.length;
    this.real += lengths.reduce((s, n) => s + n, 0);
    this.plain += paddedTokenCount(lengths, textBatches(lengths, BATCH, false));
    this.sorted += paddedTokenCount(lengths, textBatches(lengths, BATCH, true));
  }
  add(o: Tally): void {
    this.texts += o.texts, this.real += o.real, this.plain += o.plain, this.sorted += o.sorted;
  }
  line(name: string): string {
    const f = (x: number) => (x / Math.max(1, this.texts)).toFixed(1);
    return `${name}\t${this.texts}\t${f(this.real)}\t${f(this.plain)}\t${f(this.sorted)}`;
  }
}

/** Distinct texts in first-seen order, embedded in calls of CHUNK (as `embedDistinct`). */
function distinctCalls(t: Tally, texts: readonly string[]): void {
  const distinct = [...new Set(texts)];
  for (let s = 0; s < distinct.length; s += CHUNK) t.call(distinct.slice(s, s + CHUNK));
}

const lines = (path: string) => Deno.readTextFileSync(path).split("\n").filter((l) => l.length > 0);
/** Rows of a TSV with a header, as objects (fields split on tabs). */
function tsv(path: string): Record<string, string>[] {
  const [head, ...rows] = lines(path);
  const keys = head!.split("\t");
  return rows.map((r) => {
    const v = r.split("\t");
    return Object.fromEntries(keys.map((k, i) => [k, v[i] ?? ""]));
  });
}
const header = "set\ttexts\treal\tpadded (caller's order)\tpadded (sorted)";
const t0 = performance.now();
const secs = () => ((performance.now() - t0) / 1000).toFixed(0);

// FLORES stand-in (03): every language's devtest, one call each
const floresAll = new Tally();
const floresRows: string[] = [];
for (const f of [...Deno.readDirSync(join(flores, "devtest"))].map((e) => e.name).sort()) {
  const t = new Tally();
  t.call(lines(join(flores, "devtest", f)));
  floresRows.push(t.line(f.replace(".devtest", "")));
  floresAll.add(t);
}
console.log(`# FLORES stand-in, ${floresRows.length} languages (${secs()} s)\n${header}`);
console.log(floresRows.join("\n"));
console.log(floresAll.line("FLORES stand-in, all"));

// real FLORES text (SIB-200): one call per language
const sibAll = new Tally();
console.log(`\n# SIB-200 (real FLORES-200 text) (${secs()} s)\n${header}`);
for (const l of [...Deno.readDirSync(sib)].filter((e) => e.isDirectory).map((e) => e.name).sort()) {
  const texts = ["train", "dev", "test"].flatMap((s) => tsv(join(sib, l, `${s}.tsv`)))
    .map((r) => r.text!);
  const t = new Tally();
  t.call(texts);
  console.log(t.line(l));
  sibAll.add(t);
}
console.log(sibAll.line("SIB-200, all"));

// NLI (04)
const jsonl = (path: string, n = Infinity) => {
  const out: { p: string; h: string }[] = [];
  for (const l of lines(path)) {
    if (out.length >= n) break;
    const r = JSON.parse(l);
    out.push({ p: r.sentence1, h: r.sentence2 });
  }
  return out;
};
const nli: Record<string, Tally> = {};
const pairsCalls = (name: string, pairs: { p: string; h: string }[]) => {
  const premises = (nli[`${name} premises`] ??= new Tally());
  const hypotheses = (nli[`${name} hypotheses`] ??= new Tally());
  distinctCalls(premises, pairs.map((x) => x.p));
  distinctCalls(hypotheses, pairs.map((x) => x.h));
};
pairsCalls("MultiNLI train", jsonl(join(multinli, "multinli_1.0_train.jsonl"), trainPairs));
for (const s of ["matched", "mismatched"]) {
  pairsCalls("MultiNLI dev", jsonl(join(multinli, `multinli_1.0_dev_${s}.jsonl`)));
}
const byLang = (rows: Record<string, string>[], p: string, h: string) => {
  const m = new Map<string, { p: string; h: string }[]>();
  for (const r of rows) {
    const l = r.language!;
    if (!m.has(l)) m.set(l, []);
    m.get(l)!.push({ p: r[p]!, h: r[h]! });
  }
  return m;
};
for (const [, pairs] of byLang(tsv(join(xnli, "xnli.test.tsv")), "sentence1", "sentence2")) {
  pairsCalls("XNLI test stand-in", pairs);
}
for (const f of [...Deno.readDirSync(xnliMirror)].map((e) => e.name).sort()) {
  if (!/^dev-[a-z]+\.tsv$/.test(f)) continue;
  // the mirror's XNLI: premise, hypothesis, label; no header
  const rows = lines(join(xnliMirror, f)).map((l) => l.split("\t"));
  pairsCalls("XNLI dev (real)", rows.map(([p, h]) => ({ p: p!, h: h! })));
}
for (const f of [...Deno.readDirSync(join(anli, "test"))].map((e) => e.name).sort()) {
  if (f.startsWith("anli.")) continue;
  const rows = tsv(join(anli, "test", f));
  pairsCalls("AmericasNLI test (real)", rows.map((r) => ({ p: r.premise!, h: r.hypothesis! })));
}
console.log(`\n# NLI, distinct texts in calls of ${CHUNK} (${secs()} s)\n${header}`);
for (const [k, t] of Object.entries(nli)) console.log(t.line(k));

// the plan's NLI mix (PAPER_COUNTS.nliTexts): MultiNLI train hypotheses 392,702 and premises
// 130,900, MultiNLI dev 26,000, XNLI test 15 × (5,010 hypotheses + 1,670 premises), AmericasNLI
// 10,000; each weighted by its measured padded tokens a text (stand-ins; AmericasNLI real)
const mix: [string[], number][] = [
  [["MultiNLI train hypotheses"], 392_702],
  [["MultiNLI train premises"], 130_900],
  [["MultiNLI dev premises", "MultiNLI dev hypotheses"], 26_000],
  [["XNLI test stand-in hypotheses"], 15 * 5_010],
  [["XNLI test stand-in premises"], 15 * 1_670],
  [["AmericasNLI test (real) premises", "AmericasNLI test (real) hypotheses"], 10_000],
];
for (const which of ["plain", "sorted"] as const) {
  let tokens = 0, texts = 0;
  for (const [keys, n] of mix) {
    const t = keys.map((k) => nli[k]!).reduce((a, b) => {
      const s = new Tally();
      s.add(a), s.add(b);
      return s;
    });
    tokens += n * (t[which] / t.texts);
    texts += n;
  }
  console.log(
    `plan NLI mix (${texts} texts), padded tokens a text, ${
      which === "plain" ? "caller's order" : "sorted"
    }: ${(tokens / texts).toFixed(1)}`,
  );
}
console.log(`(${secs()} s)`);
