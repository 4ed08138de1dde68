import assert from "node:assert/strict";
import { join } from "node:path";
import {
  citationProblem,
  D_TEX,
  formatPublished,
  K_ARXIV,
  PUBLISHED_FILES,
  publishedProvenance,
  publishedTolerance,
  publishedValue,
  publishedValues,
  validatePublishedFile,
} from "../lib/paper/mod.ts";
import { K_SETUPS } from "../lib/encoders/encoder.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const SHARED = join(PROJECT_ROOT, "..", "shared");
const PAPER_D = join(SHARED, "papers", "003_baac9c9483456860.txt");
const SPEC = join(SHARED, "SPEC.md");
const exists = (p: string) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
};
const haveD = exists(PAPER_D);
const haveSpec = exists(SPEC);

Deno.test("validatePublishedFile() accepts both published-values files: every entry complete", async () => {
  for (const paper of ["K", "D"] as const) {
    const path = join(PROJECT_ROOT, PUBLISHED_FILES[paper]);
    const file = validatePublishedFile(JSON.parse(await Deno.readTextFile(path)), path);
    assert.equal(file.paper, paper);
    for (const v of file.values) {
      for (
        const k of [
          "paper",
          "table",
          "row",
          "column",
          "value",
          "decimals",
          "unit",
          "source",
        ] as const
      ) {
        assert.notEqual(v[k], undefined, `${paper} ${v.table}/${v.row}/${v.column}: ${k}`);
      }
      // The printed decimals reproduce the value.
      assert.equal(Number(v.value.toFixed(v.decimals)), v.value);
    }
  }
  assert.equal(publishedValues({ paper: "K" }).length, 13);
  // D: Tables 1, 3, 5 (4 metrics × 3 heads), 2 and 4 (9 languages × 10 columns), 6 (10 × 3).
  assert.equal(publishedValues({ paper: "D" }).length, 3 * 12 + 2 * 90 + 30);
  for (const v of publishedValues({ paper: "K" })) {
    assert.ok((K_SETUPS as readonly string[]).includes(v.row), v.row);
    assert.equal(v.unit, "percent");
  }
  for (const t of ["Table 1", "Table 3", "Table 5", "Table 6"]) {
    for (const v of publishedValues({ paper: "D", table: t })) {
      assert.notEqual(v.std, undefined, `${t} ${v.row} std`);
    }
  }
});

Deno.test("validatePublishedFile() names the entry and field that is wrong", () => {
  const good = {
    paper: "D",
    citation: "c",
    sourceFile: "mattiadri/crosslingual-contrastive@e2a8979 paper/sections/tables_results.tex",
    notes: [],
    values: [publishedValue("D", "Table 1", "R@1", "mlp")],
  };
  validatePublishedFile(good, "x.json");
  const pinned = "mattiadri/crosslingual-contrastive@e2a8979 paper/sections/tables_results.tex";
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ value: "0.5" }, /x\.json: values\[0\]\.value: expected a finite number/],
    [{ unit: "%" }, /values\[0\]\.unit: expected one of fraction, percent, raw/],
    [{ source: "" }, /values\[0\]\.source: expected a non-empty string/],
    [{ table: "Tab 1" }, /values\[0\]\.table: expected "Table N"/],
    [{ std: -1 }, /values\[0\]\.std/],
    // a value must cite a source a reader can follow, with its table; a secondary one says so
    [{ source: "SPEC.md §1 line 58" }, /values\[0\]\.source: "SPEC\.md…" is a file outside/],
    [
      { source: "papers/003_baac9c9483456860.txt line 298: Table 1" },
      /values\[0\]\.source: "papers\/003_…" is a file outside the repository/,
    ],
    [
      { source: "[D] Table 1, row R@1" },
      /source: expected the paper's arXiv id or an authors' file/,
    ],
    [{ source: "[D] Table 1, crosslingual-contrastive tables_results.tex" }, /arXiv id or an/],
    [
      { source: `[D] Table 3, ${pinned} line 8` },
      /expected the table it is printed in, "\[D\] Table 1"/,
    ],
    [{ source: `[D] Table 1, ${pinned} line 8`, secondarySource: true }, /must say "secondary/],
    [{ secondarySource: "yes" }, /secondarySource: expected true or absent/],
  ];
  for (const [patch, msg] of cases) {
    const bad = { ...good, values: [{ ...good.values[0], ...patch }] };
    assert.throws(
      () => validatePublishedFile(bad, "x.json"),
      (e) => e instanceof KitError && msg.test(e.message),
    );
  }
  assert.throws(
    () => validatePublishedFile({ ...good, values: [good.values[0], good.values[0]] }, "x.json"),
    /Table 1\/R@1\/mlp appears twice/,
  );
  assert.throws(
    () =>
      validatePublishedFile({ ...good, sourceFile: "papers/003_baac9c9483456860.txt" }, "x.json"),
    /x\.json: "sourceFile": "papers\/003_…" is a file outside the repository/,
  );
});

Deno.test("publishedValue() throws a KitError naming the missing key and the table's rows", () => {
  assert.equal(publishedValue("D", "Table 6", "meanCosine", "linear").value, 0.618);
  assert.throws(
    () => publishedValue("D", "Table 1", "R@2", "mlp"),
    (e) =>
      e instanceof KitError && /paper D, Table 1, row "R@2", column "mlp"/.test(e.message) &&
      /rows: R@1, R@5, R@10, MRR/.test(e.describe()),
  );
  assert.throws(() => publishedValue("K", "Table 9", "xlmr", "avg"), /paper K, Table 9/);
});

Deno.test("formatPublished() prints like the paper; publishedTolerance() is the std or the default", () => {
  assert.equal(
    formatPublished(publishedValue("D", "Table 1", "R@1", "identity")),
    "0.4735 ± 0.0077",
  );
  assert.equal(
    formatPublished(publishedValue("D", "Table 6", "meanCosine", "identity")),
    "0.660 ± 0.004",
  );
  assert.equal(
    formatPublished(publishedValue("D", "Table 6", "effectiveRank", "linear")),
    "107.15 ± 1.96",
  );
  assert.equal(formatPublished(publishedValue("D", "Table 2", "ar", "r1_delta_linear")), "+0.0256");
  assert.equal(formatPublished(publishedValue("D", "Table 4", "ar", "r1_delta_linear")), "-0.0332");
  assert.equal(formatPublished(publishedValue("K", "Table 1", "multilingual", "all")), "55.7%");
  assert.equal(formatPublished(publishedValue("K", "Table 2", "multilingual", "en")), "55%");
  assert.equal(publishedTolerance(publishedValue("D", "Table 3", "MRR", "linear")), 0.0098);
  assert.equal(publishedTolerance(publishedValue("D", "Table 2", "en", "r1_mlp")), 0.01);
  assert.equal(publishedTolerance(publishedValue("K", "Table 2", "eng-pivot", "avg")), 2.0);
});

/** The three "mean ± std" cells of the first line of the paper starting with `| <label> |`. */
function tripleFromLine(lines: string[], label: string): { mean: number; std: number }[] {
  const line = lines.find((l) => l.startsWith(`| ${label} |`));
  assert.ok(line, `paper line for ${label}`);
  return line.split("|").slice(2, 5).map((c) => {
    const [m, s] = c.split("±").map((x) => Number(x.trim()));
    return { mean: m!, std: s! };
  });
}

Deno.test({
  name: "publishedValue() spot values equal the lines of paper D's text",
  ignore: !haveD,
  fn: async () => {
    const lines = (await Deno.readTextFile(PAPER_D)).split("\n");
    // The first "| R@1 |" line is Table 1's.
    const t1 = tripleFromLine(lines, "R@1");
    assert.deepEqual(t1, [{ mean: 0.4735, std: 0.0077 }, { mean: 0.4951, std: 0.0051 }, {
      mean: 0.5049,
      std: 0.0055,
    }]);
    ["identity", "linear", "mlp"].forEach((h, i) => {
      const v = publishedValue("D", "Table 1", "R@1", h);
      assert.equal(v.value, t1[i]!.mean);
      assert.equal(v.std, t1[i]!.std);
    });
    const cos = tripleFromLine(lines, "Mean cosine similarity");
    assert.equal(publishedValue("D", "Table 6", "meanCosine", "mlp").value, cos[2]!.mean);
    const ja = lines.find((l) => l.startsWith("| ja |"))!.split("|").map((c) => c.trim());
    assert.equal(publishedValue("D", "Table 2", "ja", "r1_linear").value, Number(ja[3]));
    assert.equal(publishedValue("D", "Table 2", "ja", "mrr_delta_mlp").value, Number(ja[11]));
  },
});

const PER_LANG = [
  "r1_identity",
  "r1_linear",
  "r1_mlp",
  "r1_delta_linear",
  "r1_delta_mlp",
  "mrr_identity",
  "mrr_linear",
  "mrr_mlp",
  "mrr_delta_linear",
  "mrr_delta_mlp",
];
const DIAG: Record<string, string> = {
  "Effective rank": "effectiveRank",
  "PCA 90% components": "pca90",
  "Mean cosine similarity": "meanCosine",
  "PoZ": "poz",
  "Entropy": "entropy",
  "Gram corr. mean": "gramCorrelation",
  "Neighborhood overlap ($k = 10$)": "neighbourOverlap",
  "Hubness skew ($k = 10$)": "hubSkewness",
  "Hub ratio (top 1%)": "hubRatio",
  "Lang-ID probe acc.": "langIdAccuracy",
};

/** Paper D's pipe tables, each with the "Table N" of the caption that follows it. */
function parsePaperTables(text: string): { table: string; rows: string[][] }[] {
  const lines = text.split("\n");
  const out: { table: string; rows: string[][] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("|")) continue;
    const rows: string[][] = [];
    while (i < lines.length && lines[i]!.startsWith("|")) {
      rows.push(lines[i]!.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim()));
      i++;
    }
    while (lines[i]?.trim() === "") i++;
    const m = /^(Table \d+):/.exec(lines[i] ?? "");
    assert.ok(m, `a caption after the table ending at line ${i}`);
    out.push({ table: m[1]!, rows });
  }
  return out;
}

Deno.test({
  name: "d_published.json matches every number of paper D's Tables 1–6 (re-parsed from the paper)",
  ignore: !haveD,
  fn: async () => {
    const tables = parsePaperTables(await Deno.readTextFile(PAPER_D));
    assert.deepEqual(tables.map((t) => t.table), [
      "Table 1",
      "Table 2",
      "Table 3",
      "Table 4",
      "Table 5",
      "Table 6",
    ]);
    let compared = 0;
    for (const { table, rows } of tables) {
      for (const cells of rows) {
        const label = cells[0]!;
        if (table === "Table 2" || table === "Table 4") {
          if (!/^[a-z]{2}$/.test(label)) continue;
          PER_LANG.forEach((col, j) => {
            const v = publishedValue("D", table, label, col);
            assert.equal(v.value, Number(cells[j + 1]), `${table} ${label} ${col}`);
            assert.equal(v.std, undefined);
            compared++;
          });
        } else {
          if (label === "" || /^-+$/.test(label)) continue;
          const row = table === "Table 6" ? DIAG[label] : label;
          assert.ok(row, `${table} row label ${label}`);
          ["identity", "linear", "mlp"].forEach((head, j) => {
            const [mean, std] = cells[j + 1]!.split("±").map((s) => s.trim());
            const v = publishedValue("D", table, row, head);
            assert.equal(v.value, Number(mean), `${table} ${row} ${head}`);
            assert.equal(v.std, Number(std), `${table} ${row} ${head} std`);
            assert.equal(v.decimals, mean!.split(".")[1]?.length ?? 0);
            compared++;
          });
        }
      }
    }
    // Every JSON entry was compared: nothing in the JSON that the paper does not print.
    assert.equal(compared, publishedValues({ paper: "D" }).length);
  },
});

Deno.test({
  name:
    "k_published.json matches every number of the kit's specification's list of K's published numbers (../shared/SPEC.md, where present)",
  ignore: !haveSpec,
  fn: async () => {
    const spec = await Deno.readTextFile(SPEC);
    const rowOf = (prefix: string) => {
      const line = spec.split("\n").find((l) => l.startsWith(`| ${prefix}`));
      assert.ok(line, prefix);
      return line.split("|")[2]!.split(/\/|→/).map((s) => Number(s.trim()));
    };
    const k = (t: string, r: string, c: string) => publishedValue("K", t, r, c).value;
    assert.deepEqual(rowOf("Bitext, all languages"), [
      k("Table 1", "eng-only", "all"),
      k("Table 1", "multilingual", "all"),
      k("Table 1", "eng-pivot", "all"),
    ]);
    assert.deepEqual(rowOf("Bitext, Eng-Pivot"), [
      k("Table 1", "eng-pivot", "in-xlmr"),
      k("Table 1", "eng-pivot", "not-in-xlmr"),
    ]);
    assert.deepEqual(rowOf("Bitext, Quechua"), [
      k("Table 1", "multilingual", "quechua"),
      k("Table 1", "multilingual-qu", "quechua"),
    ]);
    assert.deepEqual(rowOf("XNLI average:"), [
      k("Table 2", "xlmr", "avg"),
      k("Table 2", "multilingual", "avg"),
      k("Table 2", "multilingual-qu", "avg"),
    ]);
    assert.deepEqual(rowOf("XNLI English"), [
      k("Table 2", "multilingual", "en"),
      k("Table 2", "multilingual-qu", "en"),
    ]);
    assert.deepEqual(rowOf("XNLI average, best row"), [k("Table 2", "eng-pivot", "avg")]);
  },
});

Deno.test("every published value cites a source a reader can follow: K's table with its arXiv id, D's LaTeX file and line at the authors' pinned commit, or flagged secondary (K's 92.6 / 37.1 / 61.8), and is shown with that flag", () => {
  for (const v of publishedValues()) {
    const at = `${v.paper} ${v.table}/${v.row}/${v.column}: ${v.source}`;
    assert.equal(citationProblem(v.source), null, at);
    if (v.paper === "K") {
      assert.ok(v.source.includes(`[K] ${v.table} (`) && v.source.includes(K_ARXIV), at);
    } else {
      assert.match(
        v.source,
        new RegExp(`^\\[D\\] ${v.table} \\(.*\\), ${D_TEX}/tables_[a-z_0-9]+\\.tex line \\d+: `),
        at,
      );
    }
    assert.equal(v.secondarySource === true, /secondary source/.test(v.source), at);
  }
  const secondary = publishedValues().filter((v) => v.secondarySource).map((v) => v.value);
  assert.deepEqual(secondary.sort(), [37.1, 61.8, 92.6]);
  assert.equal(
    publishedProvenance(publishedValue("K", "Table 2", "eng-pivot", "avg")),
    "K Table 2 (secondary source)",
  );
  assert.equal(publishedProvenance(publishedValue("K", "Table 2", "xlmr", "avg")), "K Table 2");
});
