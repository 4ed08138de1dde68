/**
 * The recipes that rebuild xnli-dev and coco-subset must write bytes exactly as the upstream's
 * Python did: Python itself (csv.writer, json.dumps, str.strip from Debian's python3) is the
 * oracle here, on inputs chosen to hit quoting, escaping and whitespace edge cases.
 */
import assert from "node:assert/strict";
import { pyCsvTabRow, pyJsonDumps, pyStrip, xnliXtremeDev } from "../lib/data/recipes.ts";

async function python(code: string, input: string): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["-c", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = out.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const r = await out.output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return new TextDecoder().decode(r.stdout);
}

const FIELDS = [
  ["plain", "with space", "entailment"],
  ['has "quotes" inside', "tab\there", "neutral"],
  ["new\nline", "carriage\rreturn", ""],
  ["ünïcödé 日本語 हिन्दी", "emoji 🙂", "contradiction"],
  ['"', "'single'", " leading and trailing "],
];

Deno.test("pyCsvTabRow writes what Python's csv.writer(delimiter='\\t') writes", async () => {
  const want = await python(
    "import csv,sys,json\nw=csv.writer(sys.stdout,delimiter='\\t')\nfor r in json.load(sys.stdin): w.writerow(r)",
    JSON.stringify(FIELDS),
  );
  assert.equal(FIELDS.map(pyCsvTabRow).join(""), want);
});

Deno.test("pyJsonDumps and pyStrip match Python's json.dumps and str.strip", async () => {
  const value = {
    info: { description: 'caf\u00e9 \u2014 \u65e5\u672c \ud83d\ude42 \u0007 \u007f "q" \\ /' },
    list: [1, 0, -3, 2.5, true, false, null, [], {}],
    nested: [{ a: "x", b: [1, { c: "\n\t\r\b\f" }] }],
  };
  const want = await python(
    "import json,sys\nsys.stdout.write(json.dumps(json.load(sys.stdin)))",
    JSON.stringify(value),
  );
  assert.equal(pyJsonDumps(value), want);
  const strings = [" \t x \u00a0", "\u3000y\u2003", "\ufeffz\ufeff", "\x1cw\x1f", "  "];
  const stripped = await python(
    "import json,sys\nsys.stdout.write(json.dumps([s.strip() for s in json.load(sys.stdin)]))",
    JSON.stringify(strings),
  );
  assert.deepEqual(strings.map(pyStrip), JSON.parse(stripped));
});

Deno.test("xnliXtremeDev splits xnli.dev.tsv per language in first-seen order, renaming contradictory", () => {
  const tsv = [
    "language\tgold_label\ta\tb\tc\td\tsentence1\tsentence2\tpromptID",
    "en\tneutral\t-\t-\t-\t-\t The cat. \tA cat.\t1",
    'de\tcontradictory\t-\t-\t-\t-\tDie "Katze".\tKeine.\t1',
    "en\tentailment\t-\t-\t-\t-\tDogs.\tA dog.\t2",
    "",
  ].join("\n");
  const out = xnliXtremeDev(tsv);
  assert.deepEqual([...out.keys()], ["dev-en.tsv", "dev-de.tsv"]);
  assert.equal(out.get("dev-en.tsv"), "The cat.\tA cat.\tneutral\r\nDogs.\tA dog.\tentailment\r\n");
  assert.equal(out.get("dev-de.tsv"), '"Die ""Katze""."\tKeine.\tcontradiction\r\n');
  assert.throws(() => xnliXtremeDev("h\nen\tneutral\tx\n"), /line 2: expected at least 8/);
});
