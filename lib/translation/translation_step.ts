import { corpusBleu, corpusChrf } from "../mt_metrics/mod.ts";
import { KitError } from "../util/kit_error.ts";
import { loadAmericasNlpDev, loadAmericasNlpDictionary } from "./americasnlp_data.ts";
import { apertiumTranslator } from "./apertium_engine.ts";
import {
  buildCaptionRecords,
  type CaptionedSample,
  type CaptionRecord,
  writeCaptionRecords,
} from "./caption_records.ts";
import { buildGlossDictionary, glossTranslator } from "./gloss_engine.ts";
import { NLLB_MODEL_ID, nllbTranslator } from "./nllb_engine.ts";
import { pivotTranslator } from "./pivot_translator.ts";
import { type CachedTranslator, cachedTranslator } from "./translation_cache.ts";
import { engineSignature, type Translator } from "./translator.ts";

/** The engines of notebook 01, each behind its cache. */
export interface TranslationEngines {
  /** Apertium en→es. */
  apertium: CachedTranslator;
  /** Gloss es→qu (AmericasNLP dictionaries). */
  gloss: CachedTranslator;
  /** en→qu: Apertium to Spanish, then gloss. */
  enToQu: Translator;
  /** NLLB-200 when its model folder is present, else null … */
  nllb: CachedTranslator | null;
  /** … and why not (one line, for tables) … */
  nllbMissing: string | null;
  /** … and the full message with what to do. */
  nllbDetail: string | null;
}

/** Options of `translationEngines` (tests inject engines and a cache folder). */
export interface TranslationEnginesOptions {
  /** Cache folder (default `translationCacheDir()`). */
  cacheDir?: string;
  /** The Apertium command (default `apertium`; a missing one gives the install message). */
  apertiumCommand?: string;
  /** Engines to use instead of the real ones (tests: fakes that count calls). */
  engines?: { apertium?: Translator; gloss?: Translator; nllb?: Translator | null };
  /** NLLB model folder (default `nllbModelDir()`); `null` skips NLLB. */
  nllbModelDir?: string | null;
}

/**
 * Opens notebook 01's engines: Apertium en→es (required: a KitError naming the Debian packages
 * when missing), the gloss engine es→qu, the en→qu pivot through Spanish, and NLLB-200 when its
 * model is present. Every engine sits behind its append-only cache.
 */
export async function translationEngines(
  opts: TranslationEnginesOptions = {},
): Promise<TranslationEngines> {
  const dir = opts.cacheDir;
  const apertiumRaw = opts.engines?.apertium ??
    await apertiumTranslator(
      "en",
      "es",
      opts.apertiumCommand ? { command: opts.apertiumCommand } : {},
    );
  const glossRaw = opts.engines?.gloss ??
    glossTranslator(buildGlossDictionary(await loadAmericasNlpDictionary()));
  const apertium = await cachedTranslator(apertiumRaw, dir ? { dir } : {});
  const gloss = await cachedTranslator(glossRaw, dir ? { dir } : {});
  let nllb: CachedTranslator | null = null;
  let nllbMissing: string | null = null;
  let nllbDetail: string | null = null;
  if (opts.engines && "nllb" in opts.engines) {
    const e = opts.engines.nllb;
    if (e) nllb = await cachedTranslator(e, { ...(dir ? { dir } : {}), batchSize: 64 });
    else nllbMissing = "no NLLB engine given";
  } else if (opts.nllbModelDir === null) {
    nllbMissing = "NLLB skipped";
  } else {
    try {
      const e = await nllbTranslator(opts.nllbModelDir ? { modelDir: opts.nllbModelDir } : {});
      nllb = await cachedTranslator(e, { ...(dir ? { dir } : {}), batchSize: 64 });
    } catch (err) {
      if (!(err instanceof KitError)) throw err;
      nllbMissing = err.message.startsWith("NLLB-200 model not found")
        ? `NLLB-200 model not present (set KIT_NLLB_MODEL, or put ${NLLB_MODEL_ID} under .cache/models/)`
        : err.message;
      nllbDetail = err.describe();
    }
  }
  return {
    apertium,
    gloss,
    enToQu: pivotTranslator(apertium, gloss, "es"),
    nllb,
    nllbMissing,
    nllbDetail,
  };
}

/** Engine calls made so far by all cached engines (0 on a rerun: the caches answer). */
export function engineCalls(e: TranslationEngines): number {
  return e.apertium.stats.engineCalls + e.gloss.stats.engineCalls +
    (e.nllb?.stats.engineCalls ?? 0);
}

/**
 * K's caption records in the mini profile. Stamps: en, ja, hi are the stamps' human captions; es
 * is Apertium's translation of the English caption; qu is the gloss engine's Quechua of that
 * Spanish (en→es→qu); each machine caption carries its engine signature. Emoji (samples with an
 * `emoji:` group): all five languages are CLDR's **human** names of the emoji in en, es, ja, hi
 * and qu (a deviation from K's machine-translated captions: human names exist for them, and the
 * offline engines would translate a two-word name worse). Records are sorted by image key.
 */
export async function miniCaptionRecords(
  samples: readonly (CaptionedSample & { group?: string })[],
  e: TranslationEngines,
): Promise<CaptionRecord[]> {
  const isEmoji = (s: { group?: string }) => s.group?.startsWith("emoji:") ?? false;
  const stamps = await buildCaptionRecords(samples.filter((s) => !isEmoji(s)), {
    en: { kind: "human" },
    es: { kind: "machine", translator: e.apertium, from: "en" },
    ja: { kind: "human" },
    hi: { kind: "human" },
    qu: { kind: "machine", translator: e.enToQu, from: "en" },
  });
  const human = { kind: "human" } as const;
  const emoji = await buildCaptionRecords(samples.filter(isEmoji), {
    en: human,
    es: human,
    ja: human,
    hi: human,
    qu: human,
  });
  return [...stamps, ...emoji].sort((a, b) =>
    a.image_id < b.image_id ? -1 : a.image_id > b.image_id ? 1 : 0
  );
}

/** One MT-T1 row. Scores are fractions in [0, 1] (sacrebleu's 0–100 score / 100). */
export interface MtT1Row {
  [column: string]: string | number | null;
  engine: string;
  pair: string;
  test_set: string;
  n_sentences: number;
  chrf: number | null;
  bleu: number | null;
  status: "measured" | "not measured";
  chrf_signature: string;
  bleu_signature: string;
  engine_signature: string;
  note: string;
}

/** chrF2 and BLEU (sacrebleu defaults) of hypotheses against one reference stream, as an MT-T1 row. */
export function scoreRow(
  base: { engine: string; pair: string; test_set: string; engine_signature: string; note?: string },
  hyps: readonly string[],
  refs: readonly string[],
): MtT1Row {
  const c = corpusChrf(hyps, [refs]);
  const b = corpusBleu(hyps, [refs]);
  return {
    ...base,
    n_sentences: hyps.length,
    chrf: c.score / 100,
    bleu: b.score / 100,
    status: "measured",
    chrf_signature: `${c.name}|${c.signature}`,
    bleu_signature: `${b.name}|${b.signature}`,
    note: base.note ?? "",
  };
}

function notMeasured(
  base: { engine: string; pair: string; test_set: string },
  n: number,
  note: string,
): MtT1Row {
  return {
    ...base,
    n_sentences: n,
    chrf: null,
    bleu: null,
    status: "not measured",
    chrf_signature: "",
    bleu_signature: "",
    engine_signature: "",
    note,
  };
}

/** Options of `mtT1Rows`. */
export interface MtT1Options {
  /** AmericasNLP dev sentences scored (default all 996; smoke runs use fewer). */
  devLimit?: number | null;
}

/**
 * MT-T1: chrF and BLEU per engine and language pair against human references — Apertium en→es
 * against the stamps' human Spanish; gloss es→qu against AmericasNLP 2021 dev (dev.es → dev.quy),
 * with the copy-the-source baseline beside it; NLLB on both when its model is present (else
 * "not measured" rows saying why). All translations go through the engines' caches.
 */
export async function mtT1Rows(
  samples: readonly CaptionedSample[],
  e: TranslationEngines,
  opts: MtT1Options = {},
): Promise<MtT1Row[]> {
  const pairs = [...samples]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((s) => ({ en: s.captions.en?.[0]?.trim() ?? "", es: s.captions.es?.[0]?.trim() ?? "" }))
    .filter((p) => p.en !== "" && p.es !== "");
  const stamps = `Tux Paint stamps (${pairs.length} with en and human es)`;
  const dev = await loadAmericasNlpDev({ limit: opts.devLimit ?? null });
  const devSet = `AmericasNLP 2021 dev (${dev.es.length} sentences)`;
  const rows: MtT1Row[] = [];
  const enEs = { pair: "en→es", test_set: stamps };
  const esQu = { pair: "es→qu", test_set: devSet };

  const apertiumEs = await e.apertium.translate(pairs.map((p) => p.en), "en", "es", {
    progress: "MT-T1 apertium en→es",
  });
  rows.push(
    scoreRow(
      { engine: e.apertium.info.name, ...enEs, engine_signature: e.apertium.signature },
      apertiumEs,
      pairs.map((p) => p.es),
    ),
  );
  if (e.nllb) {
    const out = await e.nllb.translate(pairs.map((p) => p.en), "en", "es", {
      progress: "MT-T1 nllb en→es",
    });
    rows.push(
      scoreRow(
        { engine: "nllb", ...enEs, engine_signature: e.nllb.signature },
        out,
        pairs.map((p) => p.es),
      ),
    );
  } else {rows.push(
      notMeasured({ engine: "nllb", ...enEs }, pairs.length, e.nllbMissing ?? "no model"),
    );}

  const glossQu = await e.gloss.translate(dev.es, "es", "qu", { progress: "MT-T1 gloss es→qu" });
  rows.push(
    scoreRow(
      { engine: e.gloss.info.name, ...esQu, engine_signature: e.gloss.signature },
      glossQu,
      dev.quy,
    ),
  );
  const copyInfo = { name: "copy", version: "-", model: "-", options: {} };
  rows.push(scoreRow(
    {
      engine: "copy",
      ...esQu,
      engine_signature: engineSignature(copyInfo),
      note: "baseline: the Spanish source left untranslated",
    },
    dev.es,
    dev.quy,
  ));
  if (e.nllb) {
    const out = await e.nllb.translate(dev.es, "es", "qu", { progress: "MT-T1 nllb es→qu" });
    rows.push(
      scoreRow({ engine: "nllb", ...esQu, engine_signature: e.nllb.signature }, out, dev.quy),
    );
  } else {rows.push(
      notMeasured({ engine: "nllb", ...esQu }, dev.es.length, e.nllbMissing ?? "no model"),
    );}
  return rows;
}

/**
 * Builds the mini profile's caption records (`miniCaptionRecords`) and writes them where
 * `loadCaptionRecords` reads them; returns the records and the file.
 */
export async function writeMiniCaptionRecords(
  samples: readonly (CaptionedSample & { group?: string })[],
  e: TranslationEngines,
  opts: { dataset: string; smoke?: boolean; path?: string },
): Promise<{ records: CaptionRecord[]; path: string }> {
  const records = await miniCaptionRecords(samples, e);
  const sources = {
    en: "human",
    es: `${e.apertium.signature} (stamps); human CLDR names (emoji)`,
    ja: "human",
    hi: "human",
    qu: `${e.enToQu.signature} (stamps); human CLDR names (emoji)`,
  };
  const path = await writeCaptionRecords(records, { dataset: opts.dataset, sources }, {
    ...(opts.smoke === undefined ? {} : { smoke: opts.smoke }),
    ...(opts.path ? { path: opts.path } : {}),
  });
  return { records, path };
}

/** A Markdown table of the first `n` records with English captions: captions and whether human (h) or machine (m). */
export function captionRecordsPreview(records: readonly CaptionRecord[], n = 8): string {
  const langs = ["en", "es", "qu", "ja", "hi"] as const;
  const cell = (r: CaptionRecord, l: (typeof langs)[number]) => {
    const t = r.captions[l];
    if (t === undefined) return "–";
    return `${t.replaceAll("|", "\\|")} <sub>${r.origin[l]?.kind === "machine" ? "m" : "h"}</sub>`;
  };
  const rows = records.filter((r) => r.captions.en).slice(0, n).map((r) =>
    `| ${r.image_id} | ${r.partition} | ${langs.map((l) => cell(r, l)).join(" | ")} |`
  );
  return [
    `| image | partition | ${langs.join(" | ")} |`,
    `|---|---|${langs.map(() => "---").join("|")}|`,
    ...rows,
  ].join("\n");
}
