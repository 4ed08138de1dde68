import { type DataRegistry, dataRegistry } from "../data/registry.ts";
import { readAllLines } from "../sources/text_io.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";

/** Line-aligned Spanish–Quechua pairs (AmericasNLP 2021, Ayacucho Quechua). */
export interface SpanishQuechuaPairs {
  es: string[];
  quy: string[];
  /** The two files read, relative to the dataset. */
  files: [string, string];
  /** sha256 over both files' contents (what the gloss engine's signature cites). */
  sha256: string;
}

async function readPair(
  registry: DataRegistry,
  esFile: string,
  quyFile: string,
): Promise<SpanishQuechuaPairs> {
  const esPath = await registry.resolveFile("americasnlp2021", esFile);
  const quyPath = await registry.resolveFile("americasnlp2021", quyFile);
  const strip = (s: string) => s.replace(/^\ufeff/, "");
  const es = (await readAllLines(esPath)).map(strip);
  const quy = (await readAllLines(quyPath)).map(strip);
  if (es.length !== quy.length) {
    throw new KitError(
      `${esPath} has ${es.length} lines but ${quyPath} has ${quy.length}: expected line-aligned files`,
    );
  }
  const sha256 = sha256Hex(
    `${await Deno.readTextFile(esPath)}\u0000${await Deno.readTextFile(quyPath)}`,
  );
  return { es, quy, files: [esFile, quyFile], sha256 };
}

/**
 * The AmericasNLP 2021 Spanish–Quechua dictionary pairs (`dict.es` / `dict.quy`: entries of the
 * MINEDU dictionary and Dict_misc, words, phrases and example sentences), via the data registry.
 */
export function loadAmericasNlpDictionary(
  registry: DataRegistry = dataRegistry(),
): Promise<SpanishQuechuaPairs> {
  return readPair(registry, "dict.es", "dict.quy");
}

/**
 * The AmericasNLP 2021 Spanish–Quechua dev set (`dev.es` / `dev.quy`, 996 sentences: XNLI-style
 * Spanish with professional Ayacucho Quechua translations): the references of the gloss engine's
 * MT-T1 row. `limit` keeps the first n lines (smoke runs).
 */
export async function loadAmericasNlpDev(
  opts: { limit?: number | null; registry?: DataRegistry } = {},
): Promise<SpanishQuechuaPairs> {
  const p = await readPair(opts.registry ?? dataRegistry(), "dev.es", "dev.quy");
  if (opts.limit == null) return p;
  return { ...p, es: p.es.slice(0, opts.limit), quy: p.quy.slice(0, opts.limit) };
}
