import { join } from "node:path";
import { readNpy } from "../io/npy.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256File } from "../util/sha256.ts";
import { FLORES_PIVOT, floresGroupsOf } from "./bitext_sources.ts";
import { type BitextLanguageResult, bitextLanguageResult } from "./bitext_evaluation.ts";

/** Paper K's bitext embeddings: English plus one matrix per FLORES language, row i = sentence i. */
export interface BitextEmbeddings {
  n: number;
  d: number;
  pivot: RowMatrix;
  /** Non-English FLORES codes, in name order. */
  langs: string[];
  byLang: Record<string, RowMatrix>;
  /** sha256 of every file read, by file name. */
  checksums: Record<string, string>;
}

const FLORES_CODE = /^[a-z]{3}_[A-Z][a-z]{3}$/;

async function readChecked(path: string): Promise<RowMatrix> {
  const a = await readNpy(path);
  if (a.shape.length !== 2) {
    throw new KitError(`${path}: expected a 2-D array (n × d), got shape (${a.shape.join(", ")})`);
  }
  const [rows, cols] = a.shape as [number, number];
  if (rows === 0 || cols === 0) {
    throw new KitError(`${path}: empty array, shape (${rows}, ${cols})`);
  }
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (!Number.isFinite(v)) {
        throw new KitError(
          `${path}: row ${r}, column ${c} is ${v}; every embedding value must be finite`,
          ["a NaN row usually means the encoder failed on that sentence: re-embed it"],
        );
      }
      ss += v * v;
    }
    if (ss === 0) throw new KitError(`${path}: row ${r} is all zeros; its cosine is undefined`);
  }
  return { data, rows, cols };
}

/**
 * Reads `./kit task bitext`'s embedding folder: `eng_Latn.npy` and `<flores_code>.npy` for each
 * other language (n × d each, row i = FLORES sentence i, float16/32/64, C order). Every file is
 * checked (2-D, same n and d as English, finite, no zero row, a FLORES-200 code that K's groups
 * know), with errors naming the file; each file's sha256 is recorded. Rows are kept as written
 * (cosine normalises), so the numbers equal the notebook's for the same embeddings.
 */
export async function loadBitextEmbeddingDir(dir: string): Promise<BitextEmbeddings> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch {
    throw new KitError(`embedding folder ${dir} does not exist or cannot be read`, [
      `expected ${FLORES_PIVOT}.npy and <flores_code>.npy (n × d each, row i = sentence i)`,
    ]);
  }
  const pivotFile = `${FLORES_PIVOT}.npy`;
  if (!entries.includes(pivotFile)) {
    throw new KitError(`${join(dir, pivotFile)} is missing`, [
      `found: ${entries.join(", ") || "(nothing)"}; expected ${pivotFile} and <flores_code>.npy`,
    ]);
  }
  const npys = entries.filter((f) => f.endsWith(".npy") && f !== pivotFile);
  const langs: string[] = [];
  for (const f of npys) {
    const code = f.slice(0, -4);
    if (!FLORES_CODE.test(code)) {
      throw new KitError(
        `${join(dir, f)}: "${code}" is not a FLORES-200 code (expected like spa_Latn)`,
      );
    }
    try {
      floresGroupsOf(code);
    } catch (err) {
      if (!(err instanceof KitError)) throw err;
      throw new KitError(`${join(dir, f)}: ${err.message}`);
    }
    langs.push(code);
  }
  if (langs.length === 0) {
    throw new KitError(`${dir}: no <flores_code>.npy besides ${pivotFile}`, [
      `found: ${entries.join(", ")}`,
    ]);
  }
  const checksums: Record<string, string> = {};
  const pivot = await readChecked(join(dir, pivotFile));
  checksums[pivotFile] = await sha256File(join(dir, pivotFile));
  const byLang: Record<string, RowMatrix> = {};
  for (const l of langs) {
    const path = join(dir, `${l}.npy`);
    const m = await readChecked(path);
    if (m.rows !== pivot.rows) {
      throw new KitError(
        `${path}: ${m.rows} rows but ${pivotFile} has ${pivot.rows}; row i must be sentence i in every file (mismatched n)`,
      );
    }
    if (m.cols !== pivot.cols) {
      throw new KitError(
        `${path}: ${m.cols}-dimensional but ${pivotFile} is ${pivot.cols}-dimensional`,
      );
    }
    byLang[l] = m;
    checksums[`${l}.npy`] = await sha256File(path);
  }
  return { n: pivot.rows, d: pivot.cols, pivot, langs, byLang, checksums };
}

/** Bitext results of every language of an embedding folder (K-T1's FLORES groups, k = 4). */
export async function bitextFromEmbeddings(
  emb: BitextEmbeddings,
  opts: { k?: number; benchmark?: string } = {},
): Promise<BitextLanguageResult[]> {
  const k = opts.k ?? 4;
  if (emb.n < k + 1) {
    throw new KitError(`${emb.n} sentences; xsim needs at least k+1=${k + 1}`);
  }
  const units = Int32Array.from({ length: emb.n }, (_, i) => i);
  const out: BitextLanguageResult[] = [];
  for (const lang of emb.langs) {
    out.push(
      await bitextLanguageResult({
        benchmark: opts.benchmark ?? "flores",
        benchmarkUnits: emb.n,
        lang,
        groups: floresGroupsOf(lang),
        units,
        pivot: emb.pivot,
        x: emb.byLang[lang]!,
        k,
      }),
    );
  }
  return out;
}
