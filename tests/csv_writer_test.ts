/**
 * The table CSV writer (lib/artifacts/csv_writer.ts), which replaced nodejs-polars' `writeCSV`:
 * the committed mini artifacts' CSV files are re-rendered from their JSON byte for byte; fields
 * parse back with Python's csv module (an independent RFC 4180 reader); floats are written as
 * polars 0.26 wrote them (values recorded from its `writeCSV` before it was removed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatFloat, tableCsv } from "../lib/artifacts/csv_writer.ts";
import type { Row } from "../lib/artifacts/table_render.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

Deno.test("tableCsv re-renders every committed figures/mini CSV from its JSON byte for byte", async () => {
  const dir = join(PROJECT_ROOT, "figures", "mini");
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".csv")) continue;
    const base = join(dir, e.name.slice(0, -4));
    const table = JSON.parse(await Deno.readTextFile(`${base}.json`)) as {
      columns: string[];
      rows: Row[];
    };
    assert.equal(
      tableCsv(table.columns, table.rows),
      await Deno.readTextFile(`${base}.csv`),
      e.name,
    );
    n++;
  }
  assert.ok(n >= 10, `expected the mini tables' CSV files, found ${n}`);
});

Deno.test("formatFloat writes floats as polars' writeCSV did", () => {
  // [value, what nodejs-polars 0.26.1 wrote]
  const cases: [number, string][] = [
    [0.25, "0.25"],
    [1, "1.0"],
    [1e-5, "0.00001"],
    [0.000123, "0.000123"],
    [1.5e-7, "1.5e-7"],
    [5e-324, "5e-324"],
    [123456789012345680000, "1.2345678901234568e+20"],
    [1e21, "1e+21"],
    [1e15, "1000000000000000.0"],
    [2 ** 53, "9007199254740992.0"],
    [1e16, "1e+16"],
    [-0, "-0.0"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1 / 3, "0.3333333333333333"],
    [100.00000000000004, "100.00000000000004"],
    [123456.789, "123456.789"],
    [NaN, "NaN"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ];
  for (const [x, want] of cases) assert.equal(formatFloat(x), want, `formatFloat(${x})`);
  // shortest round-trip digits: parsing the text gives the number back
  for (let i = -30; i <= 30; i++) {
    const x = 1.2345678901234567 * 10 ** i;
    assert.equal(Number(formatFloat(x)), x);
  }
});

Deno.test("tableCsv: column types, nulls, empty strings, and an empty table", () => {
  const rows: Row[] = [
    { int: 1, float: 1, bool: true, text: "", mixed: 1 },
    { int: -2, float: 0.5, bool: null, text: null, mixed: "x" },
  ];
  assert.equal(
    tableCsv(["int", "float", "bool", "text", "mixed"], rows),
    'int,float,bool,text,mixed\n1,1.0,true,"",1\n-2,0.5,,,x\n',
  );
  assert.equal(tableCsv(["a", "b"], []), "a,b\n");
  assert.equal(tableCsv(["nulls"], [{ nulls: null }]), "nulls\n\n");
});

Deno.test("tableCsv's quoting parses back with Python's csv module", async () => {
  const texts = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\r\nlf", " padded ", "é; #'"];
  const columns = ["text", 'head "q", x'];
  const rows: Row[] = texts.map((t, i) => ({ text: t, [columns[1]!]: i }));
  const csv = tableCsv(columns, rows);
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import csv, io, json, sys\n" +
      "f = io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline='')\n" +
      "print(json.dumps(list(csv.reader(f, strict=True))))",
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = out.stdin.getWriter();
  await w.write(new TextEncoder().encode(csv));
  await w.close();
  const { stdout, success } = await out.output();
  assert.ok(success);
  const parsed = JSON.parse(new TextDecoder().decode(stdout)) as string[][];
  assert.deepEqual(parsed, [columns, ...texts.map((t, i) => [t, String(i)])]);
});
