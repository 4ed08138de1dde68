import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { isoCode } from "./language_codes.ts";
import { type EngineInfo, engineSignature, type Translator } from "./translator.ts";

/** An item with human captions per language (a dataset sample's `captions`). */
export interface HumanCaptioned {
  captions: Record<string, readonly string[] | string>;
}

/**
 * The `human` engine: the dataset's own human caption in the target language for a source
 * caption of the same item — the upper bound a machine engine is compared with, and what K's
 * en/ja/hi captions are in the mini profile. When several items share a source caption with
 * different targets the first item (in the order given) answers; a source caption whose item has
 * no human caption in the target language is a KitError (there is nothing to fall back on).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { humanTranslator } from "./human_engine.ts";
 * const t = humanTranslator([{ captions: { en: ["A cat."], es: ["Un gato."] } }], "dataset-x");
 * assert.deepEqual(await t.translate(["A cat."], "en", "es"), ["Un gato."]);
 * ```
 */
export function humanTranslator(items: readonly HumanCaptioned[], datasetId: string): Translator {
  const first = (
    v: readonly string[] | string | undefined,
  ) => (Array.isArray(v) ? v[0] : v as string | undefined);
  const tables = new Map<string, Map<string, string>>();
  const table = (from: string, to: string) => {
    const key = `${from}>${to}`;
    let m = tables.get(key);
    if (!m) {
      m = new Map();
      for (const it of items) {
        const s = first(it.captions[from]), t = first(it.captions[to]);
        if (s !== undefined && t !== undefined && !m.has(s)) m.set(s, t);
      }
      tables.set(key, m);
    }
    return m;
  };
  const info: EngineInfo = {
    name: "human",
    version: "-",
    model: `dataset:${datasetId}`,
    options: {},
  };
  return {
    info,
    signature: engineSignature(info),
    supports: (f, t) => table(isoCode(f), isoCode(t)).size > 0,
    // deno-lint-ignore require-await
    async translate(texts, f, t) {
      const m = table(isoCode(f), isoCode(t));
      return texts.map((s) => {
        if (s.trim() === "") return "";
        const hit = m.get(s);
        if (hit === undefined) {
          throw new KitError(
            `human engine (${datasetId}): no human ${isoCode(t)} caption for the ${
              isoCode(f)
            } caption "${s.slice(0, 60)}"`,
          );
        }
        return hit;
      });
    },
  };
}

/** A short id for a list of items (for the human engine's signature). */
export function itemsDigest(keys: readonly string[]): string {
  return sha256Hex(keys.join("\n")).slice(0, 12);
}
