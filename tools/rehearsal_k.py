#!/usr/bin/python3
"""Stand-ins of paper K's evaluation inputs (notebooks 03 and 04) for
`./kit task reproduce --profile paper --rehearse`, at the REAL architectures and sizes, in the
formats the kit reads (Debian's python3 + python3-torch; no transformers/safetensors packages):

  xlmr OUT          FacebookAI/xlm-roberta-large layout: config.json (24 layers, hidden 1024,
                    16 heads, FFN 4096, vocab 250,002, 514 positions), model.safetensors (F32,
                    XLMRobertaForMaskedLM names, random weights: N(0, 0.02), LayerNorm 1/0;
                    ~560M parameters, ~2.24 GB, written tensor by tensor), tokenizer.json (a
                    SentencePiece-Unigram model with Metaspace pre-tokenizer over a synthetic
                    vocabulary of the real size: syllables, characters and whole words of 33
                    scripts) and tokenizer_config.json (XLMRobertaTokenizer).
  k-setups OUT XLMR K's four trained setups in the layout of saveKSetupFolder, OUT/<setup>/:
                    config.json, model.safetensors, tokenizer.json, tokenizer_config.json
                    hard-linked (symlinked if hard links fail) to the XLMR stand-in's files, and
                    each its own projection.safetensors (text_projection [512, 1024] + bias,
                    random) and training.json (a note saying it is a stand-in).
  flores OUT        FLORES-200 layout: OUT/devtest/<lang>.devtest (1,012 lines) and
                    OUT/dev/<lang>.dev (997 lines) for the 204 languages, line i of every file
                    "parallel" (same word count up to a per-language factor); synthetic words in
                    each language's script (no spaces for zho/jpn/tha/khm/lao/mya/bod/dzo).
  xnli OUT          XNLI-1.0 layout: xnli.test.tsv (5,010 pairs x 15 languages) and xnli.dev.tsv
                    (2,490 x 15), the official 19 tab-separated columns (parse columns empty),
                    three hypotheses (one per label) a premise, pairIDs shared across languages.
  multinli OUT      MultiNLI 1.0 layout: multinli_1.0_train.jsonl (392,702 pairs, 5 genres, three
                    hypotheses a premise), _dev_matched.jsonl and _dev_mismatched.jsonl (10,000
                    lines each, 185 and 168 without a gold label, as the real files); the fields
                    the kit reads (sentence1, sentence2, gold_label, genre, pairID, promptID) and
                    annotator_labels; no parse fields (the real train file is ~440 MB with them).

Sentence lengths: premises/FLORES ~ N(21, 8) words clipped to 4..60, hypotheses ~ N(11, 4);
~65% of words in the vocabulary (one token), the rest split into 2-4 syllable tokens (lower
coverage for languages outside XLM-R's 100), so XLM-R-style token counts of ~1.3-2.3 a word.

Usage: rehearsal_k.py xlmr|k-setups|flores|xnli|multinli OUT [XLMR] [--scale tiny] [--seed N]
(--scale tiny: a 2-layer width-32 XLM-R with a 5,000-piece vocabulary, 16-d projections,
FLORES 6 languages x 20/16 lines, XNLI 30/15 pairs x 15 languages, MultiNLI 120/40/40 lines).
The caller writes into a temporary folder and renames it when this exits 0.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

TINY_VOCAB = 5000
K_SETUPS = ["eng-only", "eng-pivot", "multilingual", "multilingual-qu"]
XNLI_LANGUAGES = {"ar": "Arab", "bg": "Cyrl", "de": "Latn", "el": "Grek", "en": "Latn",
                  "es": "Latn", "fr": "Latn", "hi": "Deva", "ru": "Cyrl", "sw": "Latn",
                  "th": "Thai", "tr": "Latn", "ur": "Arab", "vi": "Latn", "zh": "Hans"}
FLORES_LANGUAGES = """
ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab
als_Latn arb_Arab arb_Latn ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab
azj_Latn bak_Cyrl bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn
bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn
cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn
eus_Latn ewe_Latn fao_Latn fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gaz_Latn
gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva
hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan
kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor kaz_Cyrl kbp_Latn kea_Latn
khk_Cyrl khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kmr_Latn knc_Arab knc_Latn kon_Latn
kor_Hang lao_Laoo lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn
lug_Latn luo_Latn lus_Latn lvs_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Arab min_Latn
mkd_Cyrl mlt_Latn mni_Beng mos_Latn mri_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva
nso_Latn nus_Latn nya_Latn oci_Latn ory_Orya pag_Latn pan_Guru pap_Latn pbt_Arab pes_Arab
plt_Latn pol_Latn por_Latn prs_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva
sat_Olck scn_Latn shn_Mymr sin_Sinh slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn
sot_Latn spa_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn swe_Latn swh_Latn szl_Latn tam_Taml
taq_Latn taq_Tfng tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi tpi_Latn tsn_Latn
tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab
uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans
zho_Hant zsm_Latn zul_Latn
""".split()
TINY_FLORES = ["eng_Latn", "spa_Latn", "hin_Deva", "quy_Latn", "ayr_Latn", "zho_Hans"]
# languages of XLM-R's pretraining (ISO 639-3 of FLORES codes, approximate): higher coverage
XLMR_COVERED = set("""afr amh arb ars ary arz asm azj bel ben bos bul cat ces cym dan deu ell eng
epo est eus pes fin fra gle gla glg guj hau heb hin hrv hun hye ind isl ita jav jpn kat kaz khm
kan kor kir lao lit lvs mal mar mkd khk mya npi nld nob ory pan pol pbt por ron rus san snd sin
slk slv som als srp sun swe swh tam tel tha tgl tur uig ukr urd uzn vie xho ydd zho zsm
yue""".split())
NO_SPACE = {"Hans", "Hant", "Jpan", "Thai", "Khmr", "Laoo", "Mymr", "Tibt"}
# (first code point, count, characters a syllable) of each script's synthetic alphabet
SCRIPTS = {
    "Arab": (0x0628, 35, 2), "Armn": (0x0561, 38, 2), "Beng": (0x0995, 36, 2),
    "Cyrl": (0x0430, 32, 2), "Deva": (0x0915, 37, 2), "Ethi": (0x1200, 340, 1),
    "Geor": (0x10D0, 33, 2), "Grek": (0x03B1, 25, 2), "Gujr": (0x0A95, 36, 2),
    "Guru": (0x0A15, 36, 2), "Hang": (0xAC00, 2000, 1), "Hans": (0x4E00, 3500, 1),
    "Hant": (0x6000, 3500, 1), "Hebr": (0x05D0, 27, 2), "Jpan": (0x3041, 83, 1),
    "Khmr": (0x1780, 35, 2), "Knda": (0x0C95, 37, 2), "Laoo": (0x0E81, 35, 2),
    "Mlym": (0x0D15, 37, 2), "Mymr": (0x1000, 33, 2), "Olck": (0x1C5A, 36, 2),
    "Orya": (0x0B15, 37, 2), "Sinh": (0x0D9A, 45, 2), "Taml": (0x0B95, 37, 2),
    "Telu": (0x0C15, 37, 2), "Tfng": (0x2D30, 54, 2), "Thai": (0x0E01, 46, 2),
    "Tibt": (0x0F40, 44, 2),
}


def script_syllables(script, tiny=False):
    """The script's syllables: Latin consonant+vowel pairs, else code points (pairs of them);
    `tiny`: the first 24 (the tiny vocabulary must hold every script's)."""
    if script == "Latn":
        syl = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    else:
        first, count, size = SCRIPTS[script]
        chars = [chr(first + i) for i in range(count)]
        syl = chars if size == 1 else [c + v for c in chars[5:] for v in chars[:5]][:400]
    return syl[:24] if tiny else syl


def script_words(script, n, rng, tiny=False):
    """`n` distinct whole words (2-3 syllables) of a script, deterministic from `rng`."""
    syl = script_syllables(script, tiny)
    out, seen = [], set()
    while len(out) < n:
        w = "".join(syl[int(i)] for i in rng.integers(0, len(syl), int(rng.integers(2, 4))))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


ALL_SCRIPTS = ["Latn"] + sorted(SCRIPTS)


def vocabulary(size, seed=250002):
    """(pieces with Unigram scores, whole words per script): specials, per-script characters and
    syllables (as word starts and continuations), then whole words ("▁w") until `size`."""
    rng = np.random.default_rng(seed)
    tiny = size < 100_000
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -5.0)]
    seen = {p for p, _ in pieces}

    def add(p, score):
        if p not in seen and len(pieces) < size - 1:
            seen.add(p)
            pieces.append((p, score))

    for s in ALL_SCRIPTS:
        syl = script_syllables(s, tiny)
        for ch in sorted({c for x in syl for c in x}):
            add(ch, -14.0)
        for x in syl:
            add(x, -10.0)
            add("▁" + x, -9.5)
    room = size - 1 - len(pieces)
    # whole words: Latin gets a third (XLM-R's vocabulary is Latin-heavy), the rest shared
    share = {s: (room // 3 if s == "Latn" else (room - room // 3) // (len(ALL_SCRIPTS) - 1))
             for s in ALL_SCRIPTS}
    words = {}
    for s in ALL_SCRIPTS:
        words[s] = script_words(s, share[s], rng, tiny)
        for rank, w in enumerate(words[s]):
            add("▁" + w, -8.0 - 2.0 * rank / max(1, share[s]))
    k = 0
    latn = script_syllables("Latn")
    while len(pieces) < size - 1:  # rounding: fill with 5-syllable Latin words (k in base 70)
        add("▁" + "".join(latn[(k // 70 ** j) % 70] for j in range(5)), -11.0)
        k += 1
    pieces.append(("<mask>", 0.0))
    return pieces, words


def tokenizer_json(pieces):
    def special(i, c):
        return {"id": i, "content": c, "single_word": False, "lstrip": c == "<mask>",
                "rstrip": False, "normalized": False, "special": True}
    n = len(pieces)
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(0, "<s>"), special(1, "<pad>"), special(2, "</s>"),
                         special(3, "<unk>"), special(n - 1, "<mask>")],
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                          "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                    "split": True},
        "model": {"type": "Unigram", "unk_id": 3, "vocab": [[p, s] for p, s in pieces],
                  "byte_fallback": False},
    }


def write_json(path, value):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)


def write_safetensors_streamed(path, specs, make):
    """F32 safetensors of `specs` [(name, shape)], each tensor made by `make(name, shape)` and
    written in chunks of rows (a 1 GB embedding table is never held twice)."""
    header, offset = {}, 0
    for name, shape in specs:
        n = 4 * math.prod(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, shape in specs:
            for chunk in make(name, shape):
                f.write(chunk.detach().to(torch.float32).contiguous().numpy().tobytes())


def xlmr(out, tiny, seed):
    vocab_size, d, layers, heads, ffn = (TINY_VOCAB, 32, 2, 2, 64) if tiny else (250002, 1024, 24, 16, 4096)
    config = {
        "architectures": ["XLMRobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1,
        "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "hidden_size": d, "initializer_range": 0.02, "intermediate_size": ffn,
        "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "xlm-roberta",
        "num_attention_heads": heads, "num_hidden_layers": layers, "pad_token_id": 1,
        "position_embedding_type": "absolute", "type_vocab_size": 1, "vocab_size": vocab_size,
        "rehearsal": "random weights and a synthetic vocabulary (tools/rehearsal_k.py), not FacebookAI/xlm-roberta-large",
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), config)
    pieces, _ = vocabulary(vocab_size)
    assert len(pieces) == vocab_size, len(pieces)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer_json(pieces))
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "XLMRobertaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
        "sep_token": "</s>", "cls_token": "<s>", "pad_token": "<pad>", "unk_token": "<unk>",
        "mask_token": "<mask>", "model_max_length": 512,
    })
    p = "roberta."
    specs = [(p + "embeddings.word_embeddings.weight", (vocab_size, d)),
             (p + "embeddings.position_embeddings.weight", (514, d)),
             (p + "embeddings.token_type_embeddings.weight", (1, d)),
             (p + "embeddings.LayerNorm.weight", (d,)), (p + "embeddings.LayerNorm.bias", (d,))]
    for l in range(layers):
        q = f"{p}encoder.layer.{l}."
        for n in ["attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense"]:
            specs += [(q + n + ".weight", (d, d)), (q + n + ".bias", (d,))]
        specs += [(q + "attention.output.LayerNorm.weight", (d,)),
                  (q + "attention.output.LayerNorm.bias", (d,)),
                  (q + "intermediate.dense.weight", (ffn, d)), (q + "intermediate.dense.bias", (ffn,)),
                  (q + "output.dense.weight", (d, ffn)), (q + "output.dense.bias", (d,)),
                  (q + "output.LayerNorm.weight", (d,)), (q + "output.LayerNorm.bias", (d,))]
    specs += [("lm_head.dense.weight", (d, d)), ("lm_head.dense.bias", (d,)),
              ("lm_head.layer_norm.weight", (d,)), ("lm_head.layer_norm.bias", (d,)),
              ("lm_head.bias", (vocab_size,))]
    g = torch.Generator().manual_seed(seed)

    def make(name, shape):
        if "LayerNorm.weight" in name or "layer_norm.weight" in name:
            yield torch.ones(shape)
        elif len(shape) == 1:
            yield torch.zeros(shape)
        else:
            rows = max(1, (16 << 20) // shape[1])
            for r in range(0, shape[0], rows):
                t = torch.randn((min(rows, shape[0] - r), shape[1]), generator=g) * 0.02
                if name.endswith("word_embeddings.weight") and r == 0:
                    t[1] = 0  # the padding row, as Hugging Face initialises it
                yield t
    write_safetensors_streamed(os.path.join(out, "model.safetensors"), specs, make)


def k_setups(out, xlmr_dir, tiny, seed):
    cfg = json.load(open(os.path.join(xlmr_dir, "config.json")))
    d, P = cfg["hidden_size"], 16 if tiny else 512
    g = torch.Generator().manual_seed(seed + 1)
    for s in K_SETUPS:
        dst = os.path.join(out, s)
        os.makedirs(dst, exist_ok=True)
        for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]:
            src = os.path.join(os.path.abspath(xlmr_dir), f)
            try:
                os.link(src, os.path.join(dst, f))
            except OSError:
                os.symlink(src, os.path.join(dst, f))
        w = torch.randn((P, d), generator=g) / math.sqrt(d)
        tensors = {"text_projection.weight": w, "text_projection.bias": torch.zeros(P),
                   "logit_scale": torch.tensor([math.log(1 / 0.07)])}
        write_safetensors_streamed(os.path.join(dst, "projection.safetensors"),
                                   [(k, tuple(v.shape)) for k, v in tensors.items()],
                                   lambda name, shape: iter([tensors[name]]))
        write_json(os.path.join(dst, "training.json"), {
            "rehearsal": f"stand-in for K's {s} setup: the XLM-R stand-in's random weights "
                         "(shared file) and a random text projection; not trained",
        })


class SentenceMaker:
    """Synthetic sentences of one language: its script's words (in-vocabulary with probability
    `cover`, else out-of-vocabulary syllable strings the tokenizer splits)."""

    def __init__(self, script, vocab_words, cover, rng, tiny=False):
        self.script, self.words, self.cover, self.rng = script, vocab_words, cover, rng
        self.syl = script_syllables(script, tiny)

    def word(self):
        r = self.rng
        if r.random() < self.cover:
            # Zipf-like rank over the script's vocabulary words
            i = min(len(self.words) - 1, int(r.pareto(1.1) * 20))
            return self.words[i]
        return "".join(self.syl[int(i)] for i in r.integers(0, len(self.syl), int(r.integers(3, 5))))

    def sentence(self, n_words):
        ws = [self.word() for _ in range(max(1, n_words))]
        if self.script in NO_SPACE:
            return "".join(ws) + "。" if self.script in ("Hans", "Hant", "Jpan") else "".join(ws)
        return " ".join(ws) + " ."


def makers(langs, scripts, covers, words, seed, tiny):
    out = {}
    for i, lang in enumerate(langs):
        rng = np.random.default_rng(seed + 7919 * i)
        out[lang] = SentenceMaker(scripts[lang], words[scripts[lang]], covers[lang], rng, tiny)
    return out


def flores(out, tiny, seed):
    langs = TINY_FLORES if tiny else FLORES_LANGUAGES
    assert len(set(langs)) == len(langs) and (tiny or len(langs) == 204), len(langs)
    _, words = vocabulary(TINY_VOCAB if tiny else 250002)
    scripts = {l: l.split("_")[1] for l in langs}
    scripts = {l: ("Latn" if s not in SCRIPTS else s) for l, s in scripts.items()}
    covers = {l: (0.7 if l.split("_")[0] in XLMR_COVERED else 0.4) for l in langs}
    mk = makers(langs, scripts, covers, words, seed, tiny)
    rng = np.random.default_rng(seed)
    factor = {l: float(rng.uniform(0.8, 1.25)) for l in langs}
    for split, n in (("devtest", 16 if tiny else 1012), ("dev", 12 if tiny else 997)):
        lengths = np.clip(rng.normal(21, 8, n), 4, 60)
        os.makedirs(os.path.join(out, split), exist_ok=True)
        for l in langs:
            with open(os.path.join(out, split, f"{l}.{split}"), "w", encoding="utf-8") as f:
                for k in range(n):
                    f.write(mk[l].sentence(int(round(lengths[k] * factor[l]))) + "\n")


NLI_LABELS = ["entailment", "neutral", "contradiction"]
XNLI_COLUMNS = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
                "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "promptID",
                "pairID", "genre", "label1", "label2", "label3", "label4", "label5",
                "sentence1_tokenized", "sentence2_tokenized", "match"]
XNLI_GENRES = ["facetoface", "fiction", "government", "nineeleven", "oup", "slate",
               "telephone", "travel", "verbatim", "letters"]


def xnli(out, tiny, seed):
    _, words = vocabulary(TINY_VOCAB if tiny else 250002)
    langs = list(XNLI_LANGUAGES)
    covers = {l: 0.7 for l in langs}
    mk = makers(langs, XNLI_LANGUAGES, covers, words, seed + 15, tiny)
    rng = np.random.default_rng(seed + 1)
    os.makedirs(out, exist_ok=True)
    for split, n_pairs, first_prompt in (("test", 15 * 2 if tiny else 5010, 1),
                                         ("dev", 15 if tiny else 2490, 100001)):
        n_premises = n_pairs // 3
        p_len = np.clip(rng.normal(21, 8, n_premises), 4, 60)
        h_len = np.clip(rng.normal(11, 4, n_pairs), 3, 30)
        genres = [XNLI_GENRES[int(g)] for g in rng.integers(0, len(XNLI_GENRES), n_premises)]
        rows = []
        for l in langs:
            for pi in range(n_premises):
                premise = mk[l].sentence(int(p_len[pi]))
                for j in range(3):
                    k = 3 * pi + j
                    label = NLI_LABELS[j]
                    v = {"language": l, "gold_label": label, "sentence1": premise,
                         "sentence2": mk[l].sentence(int(h_len[k])),
                         "promptID": str(first_prompt + pi), "pairID": str(first_prompt * 3 + k),
                         "genre": genres[pi], "label1": label, "label2": label,
                         "label3": label, "label4": label, "label5": label, "match": "True"}
                    rows.append("\t".join(v.get(c, "") for c in XNLI_COLUMNS))
        with open(os.path.join(out, f"xnli.{split}.tsv"), "w", encoding="utf-8") as f:
            f.write("\t".join(XNLI_COLUMNS) + "\n" + "\n".join(rows) + "\n")


def multinli(out, tiny, seed):
    _, words = vocabulary(TINY_VOCAB if tiny else 250002)
    mk = SentenceMaker("Latn", words["Latn"], 0.75, np.random.default_rng(seed + 2), tiny)
    rng = np.random.default_rng(seed + 3)
    os.makedirs(out, exist_ok=True)
    specs = (("train", 120 if tiny else 392_702, 0,
              ["fiction", "government", "slate", "telephone", "travel"]),
             ("dev_matched", 40 if tiny else 10_000, 2 if tiny else 185,
              ["fiction", "government", "slate", "telephone", "travel"]),
             ("dev_mismatched", 40 if tiny else 10_000, 2 if tiny else 168,
              ["facetoface", "letters", "nineeleven", "oup", "verbatim"]))
    pair_id = 0
    for split, n, no_gold, genres in specs:
        unlabelled = set(int(i) for i in rng.choice(n, no_gold, replace=False)) if no_gold else set()
        path = os.path.join(out, f"multinli_1.0_{split}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            premise, genre, prompt = "", "", 0
            for i in range(n):
                if i % 3 == 0:
                    premise = mk.sentence(int(np.clip(rng.normal(21, 8), 4, 60)))
                    genre = genres[int(rng.integers(0, len(genres)))]
                    prompt = pair_id // 3
                label = NLI_LABELS[i % 3]
                gold = "-" if i in unlabelled else label
                f.write(json.dumps({
                    "annotator_labels": [label], "genre": genre, "gold_label": gold,
                    "pairID": f"{pair_id}{label[0]}", "promptID": prompt, "sentence1": premise,
                    "sentence2": mk.sentence(int(np.clip(rng.normal(11, 4), 3, 30))),
                }, ensure_ascii=False) + "\n")
                pair_id += 1


def main(argv):
    args = [a for a in argv[1:]]
    tiny = "--scale" in args and args[args.index("--scale") + 1] == "tiny"
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and
           (i == 0 or args[i - 1] not in ("--scale", "--seed"))]
    what = pos[0] if pos else ""
    if what == "xlmr" and len(pos) == 2:
        xlmr(pos[1], tiny, seed)
    elif what == "k-setups" and len(pos) == 3:
        k_setups(pos[1], pos[2], tiny, seed)
    elif what in ("flores", "xnli", "multinli") and len(pos) == 2:
        {"flores": flores, "xnli": xnli, "multinli": multinli}[what](pos[1], tiny, seed)
    else:
        sys.exit(f"usage: {argv[0]} xlmr|flores|xnli|multinli OUT | k-setups OUT XLMR_DIR "
                 "[--scale tiny] [--seed N]")


if __name__ == "__main__":
    main(sys.argv)
