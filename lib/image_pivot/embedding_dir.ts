import { basename, join } from "node:path";
import { readNpy, writeNpy } from "../io/npy.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256File } from "../util/sha256.ts";

/** Paper D's embeddings: one image row per item and one caption row per item and language. */
export interface AlignmentEmbeddings {
  /** Languages in table order. */
  readonly langs: readonly string[];
  /** Items (rows) — row i is the same image in every matrix. */
  readonly n: number;
  /** Embedding width. */
  readonly d: number;
  /** Image embeddings, L2-normalised rows. */
  readonly images: RowMatrix;
  /** Caption embeddings per language, L2-normalised rows. */
  readonly textByLang: Readonly<Record<string, RowMatrix>>;
  /** sha256 of every input file by file name (empty when built in memory). */
  readonly checksums: Readonly<Record<string, string>>;
}

/** D's nine languages, in the paper's table order. */
export const PAPER_D_LANGUAGES = ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"] as const;

/**
 * Checks a `rows × cols` float matrix for non-finite values and zero rows, then returns it with
 * unit-length rows (float32). `what` names the file or array in errors.
 */
export function normalizedRows(
  data: Float32Array | Float64Array,
  rows: number,
  cols: number,
  what: string,
): RowMatrix {
  if (data.length !== rows * cols) {
    throw new KitError(
      `${what}: expected ${rows}×${cols} = ${rows * cols} values, got ${data.length}`,
    );
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (!Number.isFinite(v)) {
        throw new KitError(
          `${what}: row ${r}, column ${c} is ${v}; every embedding value must be finite`,
          ["a NaN row usually means the encoder failed on that item: re-embed it or drop the item in every file"],
        );
      }
      ss += v * v;
    }
    if (ss === 0) {
      throw new KitError(`${what}: row ${r} is all zeros; it cannot be L2-normalised`);
    }
    const inv = 1 / Math.sqrt(ss);
    for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c]! * inv;
  }
  return { data: out, rows, cols };
}

/**
 * Builds {@link AlignmentEmbeddings} from in-memory matrices, checking that every matrix has the
 * same rows and width (errors name the language), and L2-normalising rows.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignmentEmbeddings } from "./embedding_dir.ts";
 * const m = { data: new Float32Array([3, 4, 1, 0]), rows: 2, cols: 2 };
 * const e = alignmentEmbeddings(m, { en: m, de: m });
 * assert(e.n === 2 && Math.abs(e.images.data[0]! - 0.6) < 1e-7);
 * ```
 */
export function alignmentEmbeddings(
  images: { data: Float32Array | Float64Array; rows: number; cols: number },
  textByLang: Readonly<
    Record<string, { data: Float32Array | Float64Array; rows: number; cols: number }>
  >,
  checksums: Record<string, string> = {},
): AlignmentEmbeddings {
  const langs = Object.keys(textByLang);
  if (langs.length === 0) {
    throw new KitError("no caption embeddings: expected at least one language");
  }
  const n = images.rows, d = images.cols;
  const text: Record<string, RowMatrix> = {};
  for (const l of langs) {
    const m = textByLang[l]!;
    if (m.rows !== n) {
      throw new KitError(
        `captions "${l}" have ${m.rows} rows but the images have ${n}; row i must be image i in every file (mismatched N)`,
      );
    }
    if (m.cols !== d) {
      throw new KitError(
        `captions "${l}" are ${m.cols}-dimensional but the images are ${d}-dimensional`,
      );
    }
    text[l] = normalizedRows(m.data, m.rows, m.cols, `captions "${l}"`);
  }
  return {
    langs,
    n,
    d,
    images: normalizedRows(images.data, n, d, "images"),
    textByLang: text,
    checksums,
  };
}

async function readMatrix(
  path: string,
): Promise<{ data: Float32Array | Float64Array; rows: number; cols: number }> {
  const a = await readNpy(path);
  if (a.shape.length !== 2) {
    throw new KitError(`${path}: expected a 2-D array (N × d), got shape (${a.shape.join(", ")})`);
  }
  const [rows, cols] = a.shape as [number, number];
  if (rows === 0 || cols === 0) {
    throw new KitError(`${path}: empty array, shape (${rows}, ${cols})`);
  }
  return { data: a.data, rows, cols };
}

/**
 * Reads paper D's embedding folder: `images.npy` (N × d) and `text_<lang>.npy` (N × d each,
 * row i = image i), float16/32/64, C order. Every file is checked (2-D, same N and d, finite,
 * no zero rows) with errors naming the file, rows are L2-normalised, and each file's sha256 is
 * recorded for provenance. `langs` restricts and orders the languages (default: D's nine when
 * all are present, else every `text_*.npy` in name order).
 */
export async function loadEmbeddingDir(
  dir: string,
  options: { langs?: readonly string[] } = {},
): Promise<AlignmentEmbeddings> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch {
    throw new KitError(`embedding folder ${dir} does not exist or cannot be read`, [
      "expected images.npy and text_<lang>.npy (N × d each, row i = image i)",
    ]);
  }
  if (!entries.includes("images.npy")) {
    throw new KitError(`${join(dir, "images.npy")} is missing`, [
      `found: ${entries.join(", ") || "(nothing)"}; expected images.npy and text_<lang>.npy`,
    ]);
  }
  const found = entries.filter((f) => /^text_.+\.npy$/.test(f)).map((f) => f.slice(5, -4));
  if (found.length === 0) {
    throw new KitError(`${dir}: no text_<lang>.npy files`, [
      "expected e.g. text_en.npy, text_de.npy, …",
    ]);
  }
  const langs = options.langs ??
    (PAPER_D_LANGUAGES.every((l) => found.includes(l)) ? [...PAPER_D_LANGUAGES] : found);
  for (const l of langs) {
    if (!found.includes(l)) {
      throw new KitError(`${join(dir, `text_${l}.npy`)} is missing`, [
        `languages found: ${found.join(", ")}`,
      ]);
    }
  }
  const imagesPath = join(dir, "images.npy");
  const images = await readMatrix(imagesPath);
  const checksums: Record<string, string> = { "images.npy": await sha256File(imagesPath) };
  const text: Record<string, RowMatrix> = {};
  for (const l of langs) {
    const p = join(dir, `text_${l}.npy`);
    const m = await readMatrix(p);
    if (m.rows !== images.rows) {
      throw new KitError(
        `${p}: ${m.rows} rows but ${
          basename(imagesPath)
        } has ${images.rows}; row i must be image i in every file (mismatched N)`,
      );
    }
    if (m.cols !== images.cols) {
      throw new KitError(`${p}: ${m.cols} columns but ${basename(imagesPath)} has ${images.cols}`);
    }
    text[l] = normalizedRows(m.data, m.rows, m.cols, p);
    checksums[`text_${l}.npy`] = await sha256File(p);
  }
  return {
    langs,
    n: images.rows,
    d: images.cols,
    images: normalizedRows(images.data, images.rows, images.cols, imagesPath),
    textByLang: text,
    checksums,
  };
}

/**
 * Writes embeddings as the folder `deno task align --emb` reads: `images.npy` and
 * `text_<lang>.npy` (float32, N × d, row i = image i), each written atomically.
 */
export async function writeEmbeddingDir(emb: AlignmentEmbeddings, dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, m: RowMatrix) => {
    const p = join(dir, name);
    await writeNpy(p, { dtype: "<f4", shape: [m.rows, m.cols], data: m.data });
    written.push(p);
  };
  await put("images.npy", emb.images);
  for (const l of emb.langs) await put(`text_${l}.npy`, emb.textByLang[l]!);
  return written;
}
