import { join } from "node:path";
import { dataRegistry } from "../data/registry.ts";
import { loadSib200 } from "../sources/sib200.ts";
import { loadMulti30k } from "../sources/multi30k.ts";
import { loadCocoCaptions } from "../sources/coco_captions.ts";
import { readAllLines } from "../sources/text_io.ts";
import { sha256Hex } from "../util/sha256.ts";
import { trainEmojiNames } from "../dataset_build/emoji_source.ts";
import type { StampSample } from "./stamp_samples.ts";

/** One monolingual training sentence and where it came from. */
export interface CorpusSentence {
  text: string;
  /** Language code as the source writes it (stamp locale, FLORES code, `quy`, `en`…). */
  lang: string;
  /** `stamps-train`, `emoji-names-train`, `sib200-train`, `sib200-dev`, `americasnlp-quy`, `tatoeba-que`, `multi30k-train`, `coco-captions`. */
  source: string;
}

/** The masked-LM pretraining text of the mini XLM-R analog. */
export interface PretrainingCorpus {
  sentences: CorpusSentence[];
  /** Keys of the stamps whose captions are in the corpus (all in the train partition). */
  stampKeys: string[];
  /** Emoji concepts (`emoji:<id>`) whose CLDR names are in the corpus (all train concepts). */
  emojiConcepts: string[];
  /** Per source: sentences and distinct languages. */
  counts: Record<string, { sentences: number; languages: number }>;
  /** sha256 of the sentences (text, language, source), for cache keys. */
  fingerprint: string;
}

/** How much of each large source to take. */
export interface CorpusLimits {
  /** Multi30k train captions per language (en, de, fr, cs). */
  multi30kPerLang: number;
  /** MS-COCO val2017 English captions. */
  cocoCaptions: number;
  /** Cap on sentences per source (smoke runs). */
  perSource: number;
}

export const MINI_CORPUS_LIMITS: CorpusLimits = {
  multi30kPerLang: 2000,
  cocoCaptions: 4000,
  perSource: Infinity,
};
export const SMOKE_CORPUS_LIMITS: CorpusLimits = {
  multi30kPerLang: 40,
  cocoCaptions: 40,
  perSource: 300,
};

/**
 * Monolingual text of many languages for masked-LM pretraining (the XLM-R analog), each sentence
 * on its own — never as pairs: the captions of **train** stamps in every locale, the CLDR names
 * of **train** emoji concepts in every locale (`trainEmojiNames`: once per concept, each locale
 * in its own seeded order), SIB-200
 * **train + dev** sentences in its 14 languages (never test, which is evaluated), the Quechua
 * side of AmericasNLP 2021 (dev, MINEDU) and of Tatoeba's eng–que / que–spa pairs, and Multi30k
 * train / MS-COCO captions (limited). XNLI and AmericasNLI are never read.
 */
export async function buildPretrainingCorpus(
  stamps: readonly StampSample[],
  limits: CorpusLimits = MINI_CORPUS_LIMITS,
): Promise<PretrainingCorpus> {
  const reg = dataRegistry();
  const sentences: CorpusSentence[] = [];
  const add = (list: CorpusSentence[]) => {
    // a loop, not push(...list): large lists overflow the call stack's argument limit
    for (const x of list.slice(0, limits.perSource)) sentences.push(x);
  };
  const stampKeys: string[] = [];
  const fromStamps: CorpusSentence[] = [];
  for (const s of stamps) {
    if (s.partition !== "train" || s.concept.startsWith("emoji:")) continue;
    stampKeys.push(s.key);
    for (const [lang, text] of Object.entries(s.captions)) {
      fromStamps.push({ text, lang, source: "stamps-train" });
    }
  }
  add(fromStamps);

  // Emoji: each train concept's CLDR name once per locale (not once per drawing), every locale's
  // list in its own seeded order — monolingual text, never paired across languages.
  const emojiSamples = stamps.filter((s) => s.concept.startsWith("emoji:"));
  const emojiConcepts = [
    ...new Set(emojiSamples.filter((s) => s.partition === "train").map((s) => s.concept)),
  ].sort();
  const fromEmoji: CorpusSentence[] = [];
  if (emojiSamples.length > 0) {
    const perLocale = await trainEmojiNames(
      emojiSamples.map((s) => ({ group: s.concept, partition: s.partition })),
      { seed: 7, registry: reg },
    );
    for (const [lang, names] of Object.entries(perLocale)) {
      for (const text of names) fromEmoji.push({ text, lang, source: "emoji-names-train" });
    }
  }
  add(fromEmoji);

  const sib = await loadSib200((await reg.resolve("sib200")).root, { splits: ["train", "dev"] });
  const fromSib: CorpusSentence[] = [];
  for (const lang of sib.languages) {
    sib.sentences[lang]!.forEach((text, i) =>
      fromSib.push({ text, lang, source: `sib200-${sib.labels.split[i]}` })
    );
  }
  add(fromSib);

  const anlp = (await reg.resolve("americasnlp2021")).root;
  const quy: CorpusSentence[] = [];
  for (const f of ["dev.quy", "parallel_data/es-quy/minedu.quy-es.quy"]) {
    for (const line of await readAllLines(join(anlp, f))) {
      if (line.trim() !== "") {
        quy.push({ text: line.trim(), lang: "quy", source: "americasnlp-quy" });
      }
    }
  }
  add(quy);

  const tat = (await reg.resolve("tatoeba-quechua")).root;
  const que: CorpusSentence[] = [];
  for (const [f, col] of [["eng-que.test.txt", 3], ["que-spa.test.txt", 2]] as const) {
    for (const line of await readAllLines(join(tat, f))) {
      const text = line.split("\t")[col]?.trim();
      if (text) que.push({ text, lang: "que", source: "tatoeba-que" });
    }
  }
  add(que);

  const m30k = await loadMulti30k((await reg.resolve("multi30k")).root, "train");
  const fromM30k: CorpusSentence[] = [];
  for (const [lang, caps] of Object.entries(m30k.captions)) {
    for (const text of caps.slice(0, limits.multi30kPerLang)) {
      if (text !== "") fromM30k.push({ text, lang, source: "multi30k-train" });
    }
  }
  add(fromM30k);

  const coco = await loadCocoCaptions(
    await reg.resolveFile("coco-captions-val2017", "captions_val2017.json"),
  );
  const fromCoco: CorpusSentence[] = [];
  for (const im of [...coco.images].sort((a, b) => a.id - b.id)) {
    for (const c of im.captions) {
      if (fromCoco.length < limits.cocoCaptions) {
        fromCoco.push({ text: c.caption.trim(), lang: "en", source: "coco-captions" });
      }
    }
  }
  add(fromCoco);

  const counts: Record<string, { sentences: number; languages: number }> = {};
  const langs = new Map<string, Set<string>>();
  for (const s of sentences) {
    counts[s.source] ??= { sentences: 0, languages: 0 };
    counts[s.source]!.sentences += 1;
    if (!langs.has(s.source)) langs.set(s.source, new Set());
    langs.get(s.source)!.add(s.lang);
  }
  for (const [src, set] of langs) counts[src]!.languages = set.size;
  const fingerprint = sha256Hex(
    sentences.map((s) => `${s.source}\t${s.lang}\t${s.text}`).join("\n"),
  );
  return { sentences, stampKeys, emojiConcepts, counts, fingerprint };
}
