#!/usr/bin/python3
"""Stand-ins of paper K's training inputs (notebook 02) for
`./kit task reproduce --profile paper --rehearse`, beside `tools/rehearsal_k.py` (whose
XLM-R-large stand-in is 02's text tower; its helpers are imported, so its stand-ins keep their
keys), in the formats the kit reads (Debian's python3 + python3-torch, numpy):

  vit OUT           google/vit-base-patch16-224-in21k layout (02's image tower, KIT_K_IMAGE_MODEL):
                    config.json (ViTModel: 12 layers, hidden 768, 12 heads, MLP 3072, patch 16,
                    224 px, dropout 0.0 as the real config), preprocessor_config.json (resize to
                    224, bilinear, 1/255, mean = std = 0.5) and model.safetensors (F32, ViTModel
                    names with the pooler, random weights N(0, 0.02), LayerNorm 1/0; ~86.4M
                    parameters, ~346 MB).
  k-translations OUT COCO
                    KIT_K_TRANSLATIONS for the COCO stand-in at COCO (02's non-English captions):
                    OUT/k_translations.jsonl, one line per COCO image of train2017 and val2017
                    (one caption record an image, as the kit's plan counts K's: 118,287 + 5,000),
                    {"image_id", "captions": {"en": the image's first COCO caption (lowest
                    annotation id), "es", "ja", "hi", "qu"}}: synthetic words of each language's script (the XLM-R
                    stand-in's vocabulary words with probability 0.7, qu 0.4, else longer
                    out-of-vocabulary words the tokenizer splits) at realistic lengths (es ~1.15x,
                    hi ~1.2x, qu ~0.8x the English word count, ja ~1x without spaces), generated
                    vectorised per language.

Usage: rehearsal_k_training.py vit OUT | k-translations OUT COCO_DIR [--scale tiny] [--seed N]
(--scale tiny: a 2-layer width-12 ViT at 32 px, 3 heads, MLP 24; the translations follow the COCO
folder given, with the tiny vocabulary). The caller writes into a temporary folder and renames
it when this exits 0.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rehearsal_k import (NO_SPACE, TINY_VOCAB, script_words, vocabulary,  # noqa: E402
                         write_json, write_safetensors_streamed)


def vit(out, tiny, seed):
    d, layers, heads, mlp, size = (12, 2, 3, 24, 32) if tiny else (768, 12, 12, 3072, 224)
    patch, channels = 16, 3
    config = {
        "architectures": ["ViTModel"], "attention_probs_dropout_prob": 0.0, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0, "hidden_size": d, "image_size": size,
        "initializer_range": 0.02, "intermediate_size": mlp, "layer_norm_eps": 1e-12,
        "model_type": "vit", "num_attention_heads": heads, "num_channels": channels,
        "num_hidden_layers": layers, "patch_size": patch, "qkv_bias": True,
        "rehearsal": "random weights (tools/rehearsal_k.py), not google/vit-base-patch16-224-in21k",
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "do_normalize": True, "do_resize": True, "do_rescale": True,
        "image_processor_type": "ViTImageProcessor", "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5], "resample": 2, "rescale_factor": 1 / 255,
        "size": {"height": size, "width": size},
    })
    n_patches = (size // patch) ** 2
    specs = [("embeddings.cls_token", (1, 1, d)),
             ("embeddings.position_embeddings", (1, n_patches + 1, d)),
             ("embeddings.patch_embeddings.projection.weight", (d, channels, patch, patch)),
             ("embeddings.patch_embeddings.projection.bias", (d,))]
    for l in range(layers):
        q = f"encoder.layer.{l}."
        for n in ["attention.attention.query", "attention.attention.key",
                  "attention.attention.value", "attention.output.dense"]:
            specs += [(q + n + ".weight", (d, d)), (q + n + ".bias", (d,))]
        specs += [(q + "intermediate.dense.weight", (mlp, d)), (q + "intermediate.dense.bias", (mlp,)),
                  (q + "output.dense.weight", (d, mlp)), (q + "output.dense.bias", (d,)),
                  (q + "layernorm_before.weight", (d,)), (q + "layernorm_before.bias", (d,)),
                  (q + "layernorm_after.weight", (d,)), (q + "layernorm_after.bias", (d,))]
    specs += [("layernorm.weight", (d,)), ("layernorm.bias", (d,)),
              ("pooler.dense.weight", (d, d)), ("pooler.dense.bias", (d,))]
    g = torch.Generator().manual_seed(seed + 16)

    def make(name, shape):
        if name.endswith("norm_before.weight") or name.endswith("norm_after.weight") or \
                name == "layernorm.weight":
            yield torch.ones(shape)
        elif len(shape) == 1:
            yield torch.zeros(shape)
        else:
            yield torch.randn(shape, generator=g) * 0.02
    write_safetensors_streamed(os.path.join(out, "model.safetensors"), specs, make)


# K's caption languages besides English: (script, word-count factor vs English, vocabulary cover)
K_TRANSLATION_LANGS = {"es": ("Latn", 1.15, 0.7), "ja": ("Jpan", 1.0, 0.7),
                       "hi": ("Deva", 1.2, 0.7), "qu": ("Latn", 0.8, 0.4)}


def k_translations(out, coco_dir, tiny, seed):
    """One line per COCO image of the stand-in at `coco_dir` (its first caption in English),
    vectorised per language."""
    caps = []
    for split in ["train2017", "val2017"]:
        with open(os.path.join(coco_dir, "annotations", f"captions_{split}.json")) as f:
            coco = json.load(f)
        first = {}
        for a in sorted(coco["annotations"], key=lambda a: a["id"]):
            first.setdefault(a["image_id"], a["caption"])
        caps += [(im["id"], first[im["id"]]) for im in coco["images"]]
    n = len(caps)
    en_words = np.array([len(c.split()) for _, c in caps])
    _, vocab_words = vocabulary(TINY_VOCAB if tiny else 250002)
    out_text = {}
    for li, (lang, (script, factor, cover)) in enumerate(K_TRANSLATION_LANGS.items()):
        rng = np.random.default_rng(seed + 101 * (li + 1))
        counts = np.maximum(1, np.rint(en_words * factor + rng.normal(0, 1.5, n))).astype(np.int64)
        total = int(counts.sum())
        known = vocab_words[script]
        oov = script_words(script, 20_000 if not tiny else 500, rng, tiny)
        oov = ["".join(w) + o for w, o in zip(oov, oov[1:] + oov[:1])]  # 4-6 syllables: split
        pool = np.array(known + oov, dtype=object)
        zipf = np.minimum(len(known) - 1, (rng.pareto(1.1, total) * 20).astype(np.int64))
        pick = np.where(rng.random(total) < cover, zipf,
                        len(known) + rng.integers(0, len(oov), total))
        words = pool[pick]
        ends = np.cumsum(counts)
        sep = "" if script in NO_SPACE else " "
        end = "。" if script == "Jpan" else " ."
        out_text[lang] = [sep.join(words[e - c:e]) + end for c, e in zip(counts, ends)]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "k_translations.jsonl"), "w", encoding="utf-8") as f:
        for i, (image_id, en) in enumerate(caps):
            f.write(json.dumps({"image_id": image_id, "captions": {
                "en": en, **{lang: out_text[lang][i] for lang in K_TRANSLATION_LANGS}}},
                ensure_ascii=False) + "\n")


def main(argv):
    args = argv[1:]
    tiny = "--scale" in args and args[args.index("--scale") + 1] == "tiny"
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and
           (i == 0 or args[i - 1] not in ("--scale", "--seed"))]
    what = pos[0] if pos else ""
    if what == "vit" and len(pos) == 2:
        vit(pos[1], tiny, seed)
    elif what == "k-translations" and len(pos) == 3:
        k_translations(pos[1], pos[2], tiny, seed)
    else:
        sys.exit(f"usage: {argv[0]} vit OUT | k-translations OUT COCO_DIR [--scale tiny] [--seed N]")


if __name__ == "__main__":
    main(sys.argv)
