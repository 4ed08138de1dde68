/**
 * chrF and BLEU against sacrebleu's own published test values (tests/fixtures/sacrebleu_golden.json,
 * copied from github.com/mjpost/sacrebleu test/*.py; Python's sacrebleu is not needed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bleuFromStatistics,
  type BleuSmoothing,
  type BleuTokenizer,
  chrfFromStatistics,
  chrfSignature,
  chrfWords,
  corpusBleu,
  corpusChrf,
  pythonSplit,
  sentenceBleu,
  sentenceChrf,
  tokenize13a,
} from "../lib/mt_metrics/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

interface CorpusCase {
  hyps: string[];
  refs: string[][];
  expected: number;
  options?: Record<string, unknown>;
}
const golden = JSON.parse(
  await Deno.readTextFile(join(PROJECT_ROOT, "tests", "fixtures", "sacrebleu_golden.json")),
);

function close(got: number, want: number, eps: number, what: string): void {
  assert.ok(Math.abs(got - want) < eps, `${what}: got ${got}, expected ${want} (±${eps})`);
}

Deno.test("corpusBleu() matches sacrebleu's test_corpus_bleu values (13a, none, smoothing)", () => {
  for (const c of golden.bleu_corpus.cases as CorpusCase[]) {
    const s = corpusBleu(c.hyps, c.refs, c.options as Record<string, never>);
    close(
      s.score,
      c.expected,
      golden.bleu_corpus.epsilon,
      `${JSON.stringify(c.options)} ${c.hyps[0]}`,
    );
  }
});

Deno.test("corpusBleu() matches sacrebleu's raw_corpus_bleu and effective-order values", () => {
  const opts = golden.bleu_raw.options;
  for (const c of golden.bleu_raw.cases as CorpusCase[]) {
    close(
      corpusBleu(c.hyps, c.refs, opts).score / 100,
      c.expected,
      golden.bleu_raw.epsilon,
      c.hyps.join(" / "),
    );
  }
});

Deno.test("corpusBleu() counts sacrebleu's statistics and applies the floor offset", () => {
  const g = golden.bleu_offset;
  const base = { tokenize: "none" as const, smoothMethod: "floor" as const, effectiveOrder: true };
  const withOffset = corpusBleu([g.hyp], [[g.ref]], base);
  assert.deepEqual(withOffset.stats.correct, g.expected_correct);
  assert.deepEqual(withOffset.stats.total, g.expected_total);
  close(withOffset.score / 100, g.expected_with_offset, 1e-8, "default floor 0.1");
  close(
    corpusBleu([g.hyp], [[g.ref]], { ...base, smoothValue: 0 }).score / 100,
    g.expected_without_offset,
    1e-8,
    "floor 0",
  );
});

Deno.test("corpusBleu() matches sacrebleu's test_bleu_max_order values", () => {
  const g = golden.bleu_max_order;
  for (const c of g.cases) {
    assert.equal(
      corpusBleu(g.hyps, g.refs, { maxNgramOrder: c.order }).score.toFixed(2),
      c.expected,
      `order ${c.order}`,
    );
  }
});

Deno.test("bleuFromStatistics() matches sacrebleu's compute_bleu scoring and degenerate cases", () => {
  const g = golden.bleu_scoring;
  close(
    bleuFromStatistics({ correct: g.correct, total: g.total, sysLen: g.sys_len, refLen: g.ref_len })
      .score / 100,
    g.expected,
    1e-8,
    "scoring",
  );
  for (const c of golden.bleu_degenerate.cases) {
    const s = bleuFromStatistics(
      { correct: c.correct, total: c.total, sysLen: c.sys_len, refLen: c.ref_len },
      { smoothMethod: "floor", smoothValue: c.offset },
    );
    assert.equal(s.score / 100, c.expected, JSON.stringify(c));
  }
});

Deno.test("sentenceBleu() matches sacrebleu's test_sentence_bleu values (smoothing, tokenizers, case)", () => {
  const g = golden.bleu_sentence;
  for (const c of g.cases) {
    const s = sentenceBleu(g.hyp, [g.ref], {
      smoothMethod: c.smoothMethod as BleuSmoothing,
      ...(c.smoothValue === null ? {} : { smoothValue: c.smoothValue }),
      lowercase: c.lowercase,
      tokenize: c.tokenize as BleuTokenizer,
    });
    close(s.score, c.expected, g.epsilon, JSON.stringify(c));
  }
  for (const c of g.zero.cases) {
    const s = sentenceBleu(g.zero.hyp, [g.zero.ref], {
      smoothMethod: c.smoothMethod as BleuSmoothing,
      ...(c.smoothValue === null ? {} : { smoothValue: c.smoothValue }),
    });
    close(s.score, c.expected, g.epsilon, `zero ${JSON.stringify(c)}`);
  }
});

Deno.test("corpusBleu() has sacrebleu's default signature and rejects misaligned streams", () => {
  const s = corpusBleu(["a b c d"], [["a b c d"]]);
  assert.equal(s.signature, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.x+kit");
  assert.equal(s.segments, 1);
  assert.equal(
    corpusBleu(["a"], [["a"], ["b"]], { smoothMethod: "floor" }).signature.split("|")[0],
    "nrefs:2",
  );
  assert.ok(
    corpusBleu(["a"], [["a"]], { smoothMethod: "floor" }).signature.includes("smooth:floor[0.10]"),
  );
  assert.throws(() => corpusBleu(["a", "b"], [["a"]]), KitError);
});

Deno.test("tokenize13a() splits punctuation as mteval-v13a (digits keep . and ,)", () => {
  assert.equal(tokenize13a("It wasn't 3.5 km, he said."), "It wasn't 3.5 km , he said .");
  assert.equal(tokenize13a("Price: $1,000.00 (approx.)"), "Price : $ 1,000.00 ( approx . )");
  assert.equal(tokenize13a("a &amp; b &lt;c&gt; 1990-2000"), "a & b < c > 1990 - 2000");
  assert.deepEqual(pythonSplit("\u001c a\u0085b\ufeff "), ["a", "b\ufeff"]);
});

Deno.test("corpusChrf() matches sacrebleu's test_chrf values (ε smoothing, effective order, whitespace)", () => {
  const g = golden.chrf;
  for (const c of g.eps_smoothing_beta3 as CorpusCase[]) {
    close(
      corpusChrf(c.hyps, c.refs, { beta: 3, epsSmoothing: true }).score,
      c.expected,
      g.epsilon,
      `eps ${c.hyps[0]}`,
    );
  }
  for (const c of g.effective_order_beta3 as CorpusCase[]) {
    close(corpusChrf(c.hyps, c.refs, { beta: 3 }).score, c.expected, g.epsilon, `eff ${c.hyps[0]}`);
  }
  for (const c of g.keep_whitespace_beta3 as CorpusCase[]) {
    close(
      corpusChrf(c.hyps, c.refs, { beta: 3, whitespace: true }).score,
      c.expected,
      g.epsilon,
      `space ${c.hyps[0]}`,
    );
  }
  for (const c of g.sentence_eps_smoothing_beta2) {
    close(
      sentenceChrf(c.hyp, c.refs, { epsSmoothing: true }).score,
      c.expected,
      g.epsilon,
      `sentence ${c.hyp}`,
    );
  }
});

/** chrF2 straight from Popović's definition (effective orders, β = 2), one reference, as an oracle. */
function naiveChrf2(hyps: string[], refs: string[]): number {
  const grams = (s: string, n: number) => {
    const cps = Array.from(s.replace(/\s+/g, ""));
    const out: string[] = [];
    for (let i = 0; i + n <= cps.length; i++) out.push(cps.slice(i, i + n).join(""));
    return out;
  };
  let p = 0, r = 0, orders = 0;
  for (let n = 1; n <= 6; n++) {
    let nh = 0, nr = 0, nm = 0;
    hyps.forEach((h, i) => {
      const hg = grams(h, n), rg = grams(refs[i]!, n);
      nh += hg.length;
      nr += rg.length;
      const pool = [...rg];
      for (const g of hg) {
        const k = pool.indexOf(g);
        if (k >= 0) {
          nm++;
          pool.splice(k, 1);
        }
      }
    });
    if (nh > 0 && nr > 0) {
      p += nm / nh;
      r += nm / nr;
      orders++;
    }
  }
  if (orders === 0 || p + r === 0) return 0;
  p /= orders;
  r /= orders;
  return (100 * 5 * p * r) / (4 * p + r);
}

Deno.test("corpusChrf() defaults to chrF2 (nc 6, nw 0, whitespace removed) and equals a naive oracle", () => {
  const s = corpusChrf(["The cat sat."], [["The cat sat on the mat."]]);
  assert.equal(s.name, "chrF2");
  assert.equal(s.signature, "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x+kit");
  assert.ok(chrfSignature({ wordOrder: 2 }).includes("nw:2"));
  const hyps = [
    "Un tejón.",
    "Una rana verde pequeña",
    "ぶどうの房",
    "abc",
    "El gato sentado en la estera",
  ];
  const refs = [
    "Un tejón.",
    "Una ranita verde.",
    "ぶどう",
    "xyz",
    "El gato se sentó sobre la alfombra",
  ];
  close(corpusChrf(hyps, [refs]).score, naiveChrf2(hyps, refs), 1e-9, "corpus");
  for (let i = 0; i < hyps.length; i++) {
    close(
      sentenceChrf(hyps[i]!, [refs[i]!]).score,
      naiveChrf2([hyps[i]!], [refs[i]!]),
      1e-9,
      hyps[i]!,
    );
  }
  // Two reference streams: per segment the better reference counts.
  const two = corpusChrf(["Un gato negro"], [["Un perro"], ["Un gato negro"]]);
  assert.equal(two.score, 100);
  assert.equal(two.signature.split("|")[0], "nrefs:2");
});

Deno.test("chrfFromStatistics() with word n-grams equals chrF++ computed by hand", () => {
  assert.deepEqual(chrfWords("Hello, (world) x! a"), ["Hello", ",", "(world", ")", "x", "!", "a"]);
  const s = corpusChrf(["a b"], [["a b"]], { wordOrder: 2 });
  assert.equal(s.name, "chrF2++");
  assert.equal(s.score, 100);
  assert.equal(chrfFromStatistics(s.stats, { wordOrder: 2 }), 100);
  assert.throws(() => chrfFromStatistics([1, 2, 3], {}), KitError);
});
