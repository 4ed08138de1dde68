import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ArtifactStore,
  type ClaimRow,
  CLAIMS,
  evaluateClaim,
  evaluateClaims,
  writeClaimsArtifact,
} from "../lib/claims/mod.ts";
import { publishedValue, publishedValues } from "../lib/paper/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

type Rows = Record<string, unknown>[];
const HEADS = ["identity", "linear", "mlp"] as const;
const LANGS = ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"];

/** D's artifacts filled with D's published numbers (so every D claim holds, as in the paper). */
function dArtifacts(): Record<string, Rows> {
  const macro = (t: string) =>
    ["R@1", "R@5", "R@10", "MRR"].map((metric) => {
      const row: Record<string, unknown> = { metric };
      for (const h of HEADS) {
        const v = publishedValue("D", t, metric, h);
        row[`${h}_mean`] = v.value;
        row[`${h}_std`] = v.std;
      }
      return row;
    });
  const perLang = (t: string) =>
    LANGS.map((lang) =>
      Object.fromEntries([
        ["lang", lang],
        ...publishedValues({ paper: "D", table: t, row: lang }).map((v) => [v.column, v.value]),
      ])
    );
  const diag = [...new Set(publishedValues({ paper: "D", table: "Table 6" }).map((v) => v.row))]
    .map((key) => {
      const row: Record<string, unknown> = { diagnostic: key, label: key };
      for (const h of HEADS) {
        const v = publishedValue("D", "Table 6", key, h);
        row[`${h}_mean`] = v.value;
        row[`${h}_std`] = v.std;
      }
      return row;
    });
  return {
    "D-T1": macro("Table 1"),
    "D-T2": perLang("Table 2"),
    "D-T3": macro("Table 3"),
    "D-T4": perLang("Table 4"),
    "D-T5": macro("Table 5"),
    "D-T6": diag,
  };
}

/** K's artifacts with the published numbers (fractions) plus made-up ones where K gives none. */
function kArtifacts(): Record<string, Rows> {
  const t1 = (setup: string, group: string, mean: number) => ({
    setup,
    group,
    score: "cosine",
    eng_to_x: mean,
    x_to_eng: mean,
    mean,
    mean_ci_low: mean - 0.01,
    mean_ci_high: mean + 0.01,
    n_languages: 3,
  });
  const langs = (setup: string, xs: Record<string, number>) =>
    Object.entries(xs).map(([lang, mean]) => ({
      setup,
      benchmark: "flores",
      lang,
      score: "cosine",
      eng_to_x: mean,
      x_to_eng: mean,
      mean,
      ci_low: 0,
      ci_high: 1,
      n: 204,
    }));
  const t2 = (setup: string, lang: string, accuracy: number) => ({
    setup,
    dataset: "xnli",
    lang,
    accuracy,
    ci_low: 0,
    ci_high: 1,
    n: 100,
  });
  return {
    "K-T1": [
      t1("xlmr", "all", 0.10),
      t1("eng-only", "all", 0.183),
      t1("multilingual", "all", 0.557),
      t1("eng-pivot", "all", 0.622),
      t1("eng-pivot", "in-xlmr", 0.926),
      t1("multilingual", "quechua", 0.18),
      t1("multilingual-qu", "quechua", 0.292),
      t1("multilingual", "in-xlmr", 0.80),
      t1("multilingual-qu", "in-xlmr", 0.79),
      { ...t1("xlmr", "all", 0.2), score: "xsim" },
    ],
    "K-T1-LANGS": [
      ...langs("multilingual", { es: 0.8, hi: 0.6, quy_Latn: 0.18 }),
      ...langs("multilingual-qu", { es: 0.79, hi: 0.595, quy_Latn: 0.292 }),
      // Held-out stamp captions are another benchmark: not part of "the other languages".
      { ...langs("multilingual-qu", { es: 0.1 })[0]!, benchmark: "stamps" },
    ],
    "K-T2": [
      t2("xlmr", "avg", 0.438),
      t2("eng-only", "avg", 0.47),
      t2("multilingual", "avg", 0.513),
      t2("multilingual-qu", "avg", 0.516),
      t2("eng-pivot", "avg", 0.618),
      t2("multilingual", "en", 0.55),
      t2("multilingual-qu", "en", 0.56),
    ],
  };
}

async function writeArtifacts(
  dir: string,
  arts: Record<string, Rows>,
  profile = "mini",
): Promise<void> {
  for (const [id, rows] of Object.entries(arts)) {
    await Deno.writeTextFile(
      join(dir, `${id}.json`),
      JSON.stringify({ id, kind: "table", rows, provenance: { profile } }),
    );
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kit-claims-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const byId = (rows: ClaimRow[]) => Object.fromEntries(rows.map((r) => [r.id, r]));

Deno.test("CLAIMS lists every qualitative claim of SPEC once, split into single statements", () => {
  const ids = CLAIMS.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(ids, [
    "K1a",
    "K1b",
    "K2a",
    "K2b",
    "K3a",
    "K3b",
    "K3c",
    "K4",
    "D1a",
    "D1b",
    "D2",
    "D3a",
    "D3b",
    "D4a",
    "D4b",
    "D5a",
    "D5b",
    "D6a",
    "D6b",
    "D7a",
    "D7b",
    "D7c",
    "D7d",
    "D8a",
    "D8b",
  ]);
  for (const c of CLAIMS) {
    assert.ok(c.claim.length > 10 && c.source.includes("SPEC.md"), c.id);
  }
});

Deno.test("evaluateClaims() says every claim holds on artifacts carrying the papers' numbers", async () => {
  await withDir(async (dir) => {
    await writeArtifacts(dir, { ...kArtifacts(), ...dArtifacts() });
    const { rows, profile, paperCheck } = await evaluateClaims({ artifactDir: dir });
    assert.equal(profile, "mini");
    assert.equal(paperCheck, null, "no paper check in the mini profile");
    for (const r of rows) assert.equal(r.verdict, "holds", `${r.id}: ${r.values} — ${r.note}`);
    const c = byId(rows);
    assert.match(
      c.K1a!.values,
      /Multilingual bitext .* = 0\.5570; Eng-Only bitext .* = 0\.1830; difference \+0\.3740/,
    );
    // K2b uses the per-language artifact without Quechua: (0.79+0.595)/2 − (0.8+0.6)/2 = −0.0075.
    assert.match(
      c.K2b!.values,
      /K-T1-LANGS, mean over 2 non-Quechua languages: multilingual 0\.7000, multilingual-qu 0\.6925; difference -0\.0075/,
    );
    assert.match(c.K2b!.note, /drops by at most 0\.02 \(2 points\)/);
    assert.match(c.D1a!.values, /ar \+0\.0256, .* \(min fr \+0\.0145\)/);
    assert.match(c.D7b!.values, /difference \+0\.1560 \(\+3\.2%\)/);
    assert.match(c.D7b!.note, /"about the same" = \|.*\| ≤ 10% of/);
    assert.match(c.D8a!.note, /≤ 0\.02 \(absolute\)/);
    assert.match(c.D4b!.note, /≤ \+0\.005/);
  });
});

Deno.test("evaluateClaim() says 'does not hold' when the numbers go the other way", async () => {
  await withDir(async (dir) => {
    const k = kArtifacts();
    const d = dArtifacts();
    // Eng-Pivot below Multilingual; XLM-R best on XNLI; Quechua drops; other languages drop 5 points.
    const kt1 = k["K-T1"]!.map((
      r,
    ) => (r.setup === "eng-pivot" && r.group === "all" ? { ...r, mean: 0.5 } : r));
    const kt2 = k["K-T2"]!.map((r) => (r.setup === "xlmr" ? { ...r, accuracy: 0.7 } : r));
    const langs = k["K-T1-LANGS"]!.map((
      r,
    ) => (r.setup === "multilingual-qu" ? { ...r, mean: (r.mean as number) - 0.05 } : r));
    // ja's linear t2i gain negative; pivot linear up by 0.01 (not flat); lang-ID +0.05; hub skew +20 %.
    const dt2 = d["D-T2"]!.map((r) => (r.lang === "ja" ? { ...r, r1_delta_linear: -0.001 } : r));
    const dt5 = d["D-T5"]!.map((
      r,
    ) => (r.metric === "R@1" ? { ...r, linear_mean: (r.identity_mean as number) + 0.01 } : r));
    const dt6 = d["D-T6"]!.map((r) =>
      r.diagnostic === "langIdAccuracy"
        ? { ...r, mlp_mean: (r.identity_mean as number) + 0.05 }
        : r.diagnostic === "hubSkewness"
        ? { ...r, linear_mean: (r.identity_mean as number) * 1.2 }
        : r
    );
    await writeArtifacts(dir, {
      ...k,
      "K-T1": kt1,
      "K-T2": kt2,
      "K-T1-LANGS": langs,
      ...d,
      "D-T2": dt2,
      "D-T5": dt5,
      "D-T6": dt6,
    });
    const c = byId((await evaluateClaims({ artifactDir: dir })).rows);
    for (const id of ["K1b", "K2b", "K3a", "K3b", "K3c", "K4", "D1a", "D4b", "D7a", "D8b"]) {
      assert.equal(c[id]!.verdict, "does not hold", `${id}: ${c[id]!.values}`);
    }
    for (const id of ["K1a", "K2a", "D1b", "D2", "D7b", "D8a"]) {
      assert.equal(c[id]!.verdict, "holds", id);
    }
    assert.match(c.D1a!.note, /not raised on: ja/);
    assert.match(c.K4!.note, /eng-pivot is not above: xlmr/);
  });
});

Deno.test("evaluateClaim() says 'not measurable' with the reason when an artifact, row or value is missing", async () => {
  await withDir(async (dir) => {
    const k = kArtifacts();
    const d = dArtifacts();
    // No K-T2, no D-T6; K-T1 without Quechua rows; K-T1-LANGS absent (K2b falls back to K-T1 in-xlmr);
    // D-T5 R@1 linear empty (null).
    const kt1 = k["K-T1"]!.filter((r) => r.group !== "quechua");
    const dt5 = d["D-T5"]!.map((r) => (r.metric === "R@1" ? { ...r, linear_mean: null } : r));
    await writeArtifacts(dir, {
      "K-T1": kt1,
      "D-T1": d["D-T1"]!,
      "D-T2": d["D-T2"]!,
      "D-T3": d["D-T3"]!,
      "D-T5": dt5,
    });
    const { rows } = await evaluateClaims({ artifactDir: dir });
    const c = byId(rows);
    for (const id of ["K3a", "K4", "D5a", "D8b"]) {
      assert.equal(c[id]!.verdict, "not measurable", id);
      assert.match(c[id]!.note, /artifact (K-T2|D-T6) is missing/);
    }
    assert.equal(c.K2a!.verdict, "not measurable");
    assert.match(
      c.K2a!.note,
      /K-T1 has no row with setup=multilingual-qu, group=quechua, score=cosine/,
    );
    assert.equal(c.D4b!.verdict, "not measurable");
    assert.match(c.D4b!.note, /D-T5 row metric=R@1: "linear_mean" is empty/);
    assert.equal(c.D4a!.verdict, "holds");
    assert.equal(c.K2b!.verdict, "holds");
    assert.match(
      c.K2b!.values,
      /^K-T1 group=in-xlmr, score=cosine \(K-T1-LANGS missing\): multilingual 0\.8000, multilingual-qu 0\.7900/,
    );
    // No blank cell anywhere.
    for (const r of rows) {
      for (const [k2, v] of Object.entries(r)) assert.ok(v.trim() !== "", `${r.id}.${k2}`);
    }
  });
});

Deno.test("evaluateClaims() throws a KitError naming the claim and file for an invalid artifact", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "D-T1.json"), "{ not json");
    await assert.rejects(
      evaluateClaims({ artifactDir: dir }),
      (e) => e instanceof KitError && /D-T1\.json: not valid JSON/.test(e.message),
    );
    await Deno.writeTextFile(join(dir, "D-T1.json"), JSON.stringify({ rows: 3 }));
    await assert.rejects(
      evaluateClaims({ artifactDir: dir }),
      /D-T1\.json: expected a table artifact, an object with a "rows" array/,
    );
    const d = dArtifacts();
    await writeArtifacts(dir, { "D-T1": d["D-T1"]!.map((r) => ({ ...r, mlp_mean: "0.5" })) });
    await assert.rejects(
      evaluateClaims({ artifactDir: dir }),
      (e) =>
        e instanceof KitError &&
        /^claim D2: .*D-T1\.json: row metric=R@1: "mlp_mean" expected a number, got "0\.5"/.test(
          e.message,
        ),
    );
    await writeArtifacts(dir, { "D-T1": d["D-T1"]!.map(({ mlp_mean: _, ...r }) => r) });
    await assert.rejects(evaluateClaims({ artifactDir: dir }), /claim D2: .*no field "mlp_mean"/);
  });
});

Deno.test("evaluateClaim() on a store loaded without the artifact is a bug, not a verdict", async () => {
  const store = await ArtifactStore.load(await Deno.makeTempDir(), []);
  assert.throws(() => evaluateClaim(store, CLAIMS[0]!), /not declared/);
});

Deno.test("writeClaimsArtifact() writes CLAIMS and, in the paper profile, PAPER-CHECK within tolerance", async () => {
  await withDir(async (dir) => {
    const d = dArtifacts();
    // One number moved by two published stds: outside its tolerance.
    d["D-T1"] = d["D-T1"]!.map((
      r,
    ) => (r.metric === "MRR" ? { ...r, mlp_mean: 0.6159 + 0.0056 } : r));
    await writeArtifacts(dir, { ...kArtifacts(), ...d }, "paper");
    const res = await writeClaimsArtifact({ artifactDir: dir });
    assert.equal(res.profile, "paper");
    const claims = JSON.parse(await Deno.readTextFile(join(dir, "CLAIMS.json")));
    assert.deepEqual(claims.columns, ["id", "paper", "claim", "values", "verdict", "note"]);
    assert.equal(claims.rows.length, CLAIMS.length);
    for (const r of claims.rows) {
      for (const c of claims.columns) assert.ok(String(r[c]).trim() !== "", `${r.id}.${c}`);
    }
    const md = await Deno.readTextFile(join(dir, "CLAIMS.md"));
    assert.match(md, /25 holds, 0 does not hold, 0 not measurable/);
    const check = JSON.parse(await Deno.readTextFile(join(dir, "PAPER-CHECK.json")));
    assert.equal(check.rows.length, publishedValues().length);
    const mrr = check.rows.find((r: Record<string, unknown>) =>
      r.table === "Table 1" && r.row === "MRR" && r.column === "mlp"
    );
    assert.equal(mrr.within, false);
    assert.ok(Math.abs(mrr.diff - 0.0056) < 1e-9);
    const ok = check.rows.filter((r: Record<string, unknown>) =>
      r.paper === "D" && r.within === true
    );
    assert.equal(ok.length, publishedValues({ paper: "D" }).length - 1);
    // K: percent vs fractions ×100; K-T2 English rows present; Table 1 eng-pivot not-in-xlmr absent → null.
    const kq = check.rows.find((r: Record<string, unknown>) =>
      r.paper === "K" && r.row === "multilingual-qu" && r.column === "quechua"
    );
    assert.ok(Math.abs(kq.regenerated - 29.2) < 1e-9 && kq.within === true && kq.tolerance === 2);
    const missing = check.rows.find((r: Record<string, unknown>) => r.column === "not-in-xlmr");
    assert.equal(missing.regenerated, null);
    assert.equal(missing.within, null);
  });
});

async function claimsTool(dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "claims.ts"), "--artifact-dir", dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("tools/claims.ts exits 0 when claims do not hold and 1 when an artifact is invalid", async () => {
  await withDir(async (dir) => {
    const d = dArtifacts();
    await writeArtifacts(dir, { "D-T1": d["D-T1"]!.map((r) => ({ ...r, mlp_mean: 0 })) });
    const r = await claimsTool(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /D2\s+does not hold\s+Text-to-image retrieval: MLP head > linear head/);
    assert.match(r.stdout, /0 hold, 1 do not hold, 24 not measurable/);
    await Deno.writeTextFile(join(dir, "K-T2.json"), "[");
    const bad = await claimsTool(dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /K-T2\.json: not valid JSON/);
    assert.doesNotMatch(bad.stderr, /^\s+at /m);
  });
});
