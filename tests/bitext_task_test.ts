import assert from "node:assert/strict";
import { join } from "node:path";
import { writeNpy } from "../lib/io/npy.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  bitextGroupRows,
  bitextLanguageRows,
  evaluateBitext,
  floresBenchmarkFrom,
  loadBitextEmbeddingDir,
} from "../lib/bitext_eval/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { hashedNgramEncoder } from "./helpers/test_encoders.ts";

await initBackend("wasm");

const LANGS = ["spa_Latn", "quy_Latn", "grn_Latn"];

function benchmark(n: number) {
  const sentences: Record<string, string[]> = {};
  const words = ["red", "dog", "house", "river", "small", "tree", "cat", "sun"];
  for (const l of ["eng_Latn", ...LANGS]) {
    // shared words make translations similar; language-specific words and few dims make errors
    sentences[l] = Array.from(
      { length: n },
      (_, i) => `${l.slice(0, 3)} ${words[i % 8]} ${words[(i * 3) % 8]} ${l.slice(0, 2)}${i % 5}`,
    );
  }
  return floresBenchmarkFrom(
    {
      languages: ["eng_Latn", ...LANGS],
      ids: sentences.eng_Latn!.map((_, i) => `${i}`),
      sentences,
    },
    "flores",
  );
}

async function runBitext(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/bitext.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("task bitext on embeddings written by a test reproduces the notebook path's K-T1 and K-T1-LANGS", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bench = benchmark(40);
    const enc = hashedNgramEncoder(12);
    const boot = { seed: 2025, resamples: 200 };
    // notebook 03's path: encoder → evaluateBitext → rows
    const results = await evaluateBitext(enc, bench);
    const groupRows = bitextGroupRows("eng-pivot", results, boot);
    const langRows = bitextLanguageRows("eng-pivot", results, boot);
    // the same model's embeddings as files
    const emb = join(dir, "emb"), out = join(dir, "out");
    await Deno.mkdir(emb);
    const write = async (lang: string, texts: readonly string[]) => {
      const m = await enc.embed(texts, lang);
      await writeNpy(join(emb, `${lang}.npy`), {
        dtype: "<f4",
        shape: [m.rows, m.cols],
        data: m.data,
      });
    };
    await write("eng_Latn", bench.pivot);
    for (const s of bench.sets) await write(s.lang, s.texts);
    const r = await runBitext([
      "--emb",
      emb,
      "--out",
      out,
      "--setup",
      "eng-pivot",
      "--resamples",
      "200",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const t1 = JSON.parse(await Deno.readTextFile(join(out, "K-T1.json")));
    const langs = JSON.parse(await Deno.readTextFile(join(out, "K-T1-LANGS.json")));
    // equal up to summation order (files are read in name order, the benchmark in its own order)
    const same = (a: Record<string, unknown>, b: Record<string, unknown>, what: string) => {
      assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), what);
      for (const key of Object.keys(b)) {
        const x = a[key], y = b[key];
        if (typeof y === "number" && typeof x === "number") {
          assert.ok(Math.abs(x - y) < 1e-12, `${what} ${key}: ${x} vs ${y}`);
        } else assert.equal(x, y, `${what} ${key}`);
      }
    };
    assert.equal(t1.rows.length, groupRows.length);
    groupRows.forEach((row, i) => same(t1.rows[i], row, `K-T1 row ${i}`));
    assert.equal(langs.rows.length, langRows.length);
    for (const row of langRows) {
      const got = langs.rows.find((x: { lang: string; score: string }) =>
        x.lang === row.lang && x.score === row.score
      );
      same(got, row, `K-T1-LANGS ${row.lang} ${row.score}`);
    }
    // a non-trivial case: both scores, some misses, xsim row carries Eng-Pivot's published value
    const all = groupRows.filter((x) => x.group === "all");
    assert.deepEqual(all.map((x) => x.score), ["cosine", "xsim"]);
    assert.ok(all.every((x) => x.mean > 0.05 && x.mean < 1), JSON.stringify(all));
    assert.equal(all.find((x) => x.score === "xsim")!.compared, "yes");
    assert.ok(Object.keys(t1.provenance.inputs).includes("emb/eng_Latn.npy"));
    for (const ext of [".md", ".tex", ".csv"]) await Deno.stat(join(out, "K-T1" + ext));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("task bitext: bad embedding files are KitErrors naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const f32 = (rows: number, cols: number, v = 1) => ({
    dtype: "<f4" as const,
    shape: [rows, cols],
    data: Float32Array.from({ length: rows * cols }, (_, i) => v + Math.sin(i)),
  });
  const rejects = async (re: RegExp) => {
    await assert.rejects(() => loadBitextEmbeddingDir(dir), (e: Error) => {
      assert.ok(e instanceof KitError, String(e));
      assert.match(e.message, re);
      return true;
    });
  };
  try {
    await rejects(/eng_Latn\.npy is missing/);
    await writeNpy(join(dir, "eng_Latn.npy"), f32(10, 4));
    await rejects(/no <flores_code>\.npy/);
    await writeNpy(join(dir, "spa_Latn.npy"), f32(9, 4));
    await rejects(/spa_Latn\.npy: 9 rows but eng_Latn\.npy has 10/);
    await writeNpy(join(dir, "spa_Latn.npy"), f32(10, 3));
    await rejects(/spa_Latn\.npy: 3-dimensional/);
    const nan = f32(10, 4);
    nan.data[6] = NaN;
    await writeNpy(join(dir, "spa_Latn.npy"), nan);
    await rejects(/spa_Latn\.npy: row 1, column 2 is NaN/);
    await writeNpy(join(dir, "spa_Latn.npy"), f32(10, 4));
    await writeNpy(join(dir, "spanish.npy"), f32(10, 4));
    await rejects(/spanish\.npy: "spanish" is not a FLORES-200 code/);
    await Deno.remove(join(dir, "spanish.npy"));
    await writeNpy(join(dir, "spa_Latn.npy"), {
      dtype: "<f4",
      shape: [40],
      data: new Float32Array(40),
    });
    await rejects(/spa_Latn\.npy: expected a 2-D array/);
    const r = await runBitext(["--emb", join(dir, "nope"), "--out", join(dir, "o")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nope does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
