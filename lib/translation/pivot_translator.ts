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
 * import { pivotTranslator } from "./pivot_translator.ts";
 * // const enQu = pivotTranslator(await cachedTranslator(apertium), await cachedTranslator(gloss), "es");
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
