import { KitError } from "../util/kit_error.ts";
import { isoCode } from "./language_codes.ts";
import {
  type EngineInfo,
  engineSignature,
  type TranslateOptions,
  type Translator,
} from "./translator.ts";

/**
 * Chains two translators through a pivot language: `from → via` by `first`, then `via → to` by
 * `second` (e.g. English → Spanish by Apertium, Spanish → Quechua by the gloss engine). Its
 * signature contains both signatures, so a change in either engine changes it. Pass cached
 * translators: each stage then has its own cache.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { pivotTranslator } from "./pivot_translator.ts";
 * import { humanTranslator } from "./human_engine.ts";
 * // in the kit: pivotTranslator(cached apertium en→es, cached gloss es→qu, "es")
 * const enEs = humanTranslator([{ captions: { en: ["A dog."], es: ["Un perro."] } }], "a");
 * const esQu = humanTranslator([{ captions: { es: ["Un perro."], qu: ["Allqu."] } }], "b");
 * const enQu = pivotTranslator(enEs, esQu, "es");
 * assert.deepEqual(await enQu.translate(["A dog."], "en", "qu"), ["Allqu."]);
 * assert(enQu.signature.includes(enEs.signature) && enQu.signature.includes(esQu.signature));
 * ```
 */
export function pivotTranslator(first: Translator, second: Translator, via: string): Translator {
  const pivot = isoCode(via);
  const info: EngineInfo = {
    name: "pivot",
    version: "1",
    model: `${first.info.name}+${second.info.name}`,
    options: { via: pivot, first: `[${first.signature}]`, second: `[${second.signature}]` },
  };
  return {
    info,
    signature: engineSignature(info),
    supports: (f, t) => first.supports(f, pivot) && second.supports(pivot, t),
    async translate(texts, f, t, opts: TranslateOptions = {}) {
      if (!first.supports(f, pivot) || !second.supports(pivot, t)) {
        throw new KitError(
          `pivot ${first.info.name}→${second.info.name} via ${pivot}: cannot translate ${f}→${t}`,
        );
      }
      const mid = await first.translate(texts, f, pivot, opts);
      return await second.translate(mid, pivot, t, opts);
    },
  };
}
