import { basename, join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { cacheDir, PROJECT_ROOT } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";
import { languageCodes } from "./language_codes.ts";
import { type EngineInfo, engineSignature, type Translator } from "./translator.ts";

/** The Hugging Face repo of the ONNX export transformers.js reads (of facebook/nllb-200-distilled-600M). */
export const NLLB_MODEL_ID = "Xenova/nllb-200-distilled-600M";

/**
 * The NLLB-200 model folder: `KIT_NLLB_MODEL`, else `<KIT_MODELS_DIR or .cache/models>/Xenova/nllb-200-distilled-600M`
 * (transformers.js's `org/name` layout). The kit never downloads it.
 */
export function nllbModelDir(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string {
  if (env.KIT_NLLB_MODEL) return env.KIT_NLLB_MODEL;
  return join(env.KIT_MODELS_DIR || join(cacheDir(), "models"), ...NLLB_MODEL_ID.split("/"));
}

/** Options of the NLLB engine. */
export interface NllbOptions {
  /** Model folder (default `nllbModelDir()`). */
  modelDir?: string;
  /** Sentences per generate call. Default 8. */
  batchSize?: number;
  /** Default 128 (K's max length). */
  maxNewTokens?: number;
  /** Beam size. Default 1 (greedy; fast on CPU). */
  numBeams?: number;
}

// transformers.js file suffixes per dtype, in the order the kit prefers them.
const DTYPES: [string, string][] = [["q8", "_quantized"], ["fp32", ""], ["fp16", "_fp16"], [
  "int8",
  "_int8",
], ["q4", "_q4"]];

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** What an NLLB folder must hold, or the KitError saying what is missing and what to do. */
export async function checkNllbModel(dir: string): Promise<{ dtype: string; files: string[] }> {
  const missing: string[] = [];
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    if (!(await isFile(join(dir, f)))) missing.push(f);
  }
  let found: { dtype: string; files: string[] } | null = null;
  for (const [dtype, suffix] of DTYPES) {
    const files = [`onnx/encoder_model${suffix}.onnx`, `onnx/decoder_model_merged${suffix}.onnx`];
    if ((await Promise.all(files.map((f) => isFile(join(dir, f))))).every((x) => x)) {
      found = { dtype, files };
      break;
    }
  }
  if (!found) {
    missing.push(
      "onnx/encoder_model_quantized.onnx + onnx/decoder_model_merged_quantized.onnx (or another dtype)",
    );
  }
  if (missing.length > 0 || !found) {
    throw new KitError(
      `NLLB-200 model not found in ${dir} (missing: ${
        missing.join(", ")
      }); the nllb engine (paper profile, every language incl. Quechua quy_Latn) needs it`,
      [
        `put the transformers.js ONNX export ${NLLB_MODEL_ID} (of facebook/nllb-200-distilled-600M) in that folder, or set KIT_NLLB_MODEL=<folder>`,
        "the kit does not download models; without it, notebook 01 reports NLLB as not measured and uses Apertium and the gloss engine",
      ],
    );
  }
  return found;
}

/**
 * NLLB-200 (distilled 600M) through transformers.js, offline: the paper-profile engine, for every
 * language pair with a FLORES-200 code (en→es/ja/hi/quy). Throws a KitError naming the folder and
 * the files it needs when the model is absent.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { nllbTranslator } from "./nllb_engine.ts";
 * // With the model in `nllbModelDir()` (paper profile):
 * //   const t = await nllbTranslator();
 * //   await t.translate(["A red car."], "en", "quy_Latn");
 * // Without it: a KitError naming the folder and every missing file, before anything loads.
 * const modelDir = await Deno.makeTempDir();
 * await assert.rejects(
 *   () => nllbTranslator({ modelDir }),
 *   /NLLB-200 model not found in .* \(missing: config\.json, tokenizer\.json/,
 * );
 * await Deno.remove(modelDir);
 * ```
 */
export async function nllbTranslator(opts: NllbOptions = {}): Promise<Translator> {
  const dir = opts.modelDir ?? nllbModelDir();
  const { dtype } = await checkNllbModel(dir);
  const batchSize = opts.batchSize ?? 8;
  const maxNewTokens = opts.maxNewTokens ?? 128;
  const numBeams = opts.numBeams ?? 1;
  let tjsVersion = "-";
  try {
    tjsVersion = JSON.parse(
      await Deno.readTextFile(
        join(PROJECT_ROOT, "node_modules", "@huggingface", "transformers", "package.json"),
      ),
    ).version;
  } catch { /* keep "-" */ }
  const tjs = await import("@huggingface/transformers");
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.useBrowserCache = false;
  let pipe: (
    texts: string[],
    o: Record<string, unknown>,
  ) => Promise<{ translation_text: string }[]>;
  try {
    const p = await tjs.pipeline("translation", dir, { dtype: dtype as "q8" });
    pipe = p as unknown as typeof pipe;
  } catch (err) {
    throw new KitError(
      `NLLB-200 in ${dir}: transformers.js could not load it: ${(err as Error).message}`,
      [
        `expected the transformers.js ONNX export ${NLLB_MODEL_ID}`,
      ],
    );
  }
  const configSha = sha256Hex(await Deno.readFile(join(dir, "config.json"))).slice(0, 12);
  const info: EngineInfo = {
    name: "nllb",
    version: `transformers.js-${tjsVersion}`,
    model: `${basename(dir)}@config-${configSha}`,
    options: { dtype, beams: numBeams, maxNewTokens },
  };
  return {
    info,
    signature: engineSignature(info),
    supports: (f, t) => {
      try {
        languageCodes(f);
        languageCodes(t);
        return true;
      } catch {
        return false;
      }
    },
    async translate(texts, f, t) {
      const src = languageCodes(f).flores, tgt = languageCodes(t).flores;
      const out: string[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize);
        const res = await pipe([...batch], {
          src_lang: src,
          tgt_lang: tgt,
          max_new_tokens: maxNewTokens,
          num_beams: numBeams,
        });
        out.push(...res.map((r) => r.translation_text.trim()));
      }
      return out;
    },
  };
}
