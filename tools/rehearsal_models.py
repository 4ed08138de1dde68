#!/usr/bin/python3
"""Random-weight stand-ins of paper D's frozen pair at the REAL architectures and sizes, written
as the folders the kit reads (`./kit task reproduce --profile paper --rehearse`; Debian's
python3-torch; torch.onnx.export needs no onnx package):

  clip-vision  openai/clip-vit-base-patch32 layout: config.json, preprocessor_config.json,
               onnx/vision_model.onnx (pixel_values [b,3,224,224] -> image_embeds [b,512]);
               ViT-B/32: patch 32, width 768, 12 layers, 12 heads, MLP 3072, quick-GELU,
               pre-LN, 512-d projection (CLIP's vision tower).
  mclip-text   sentence-transformers/clip-ViT-B-32-multilingual-v1 layout: DistilBERT config,
               WordPiece tokenizer.json with a synthetic vocabulary of the real size (119,547),
               onnx/model.onnx (input_ids, attention_mask -> last_hidden_state [b,t,768]);
               6 layers, 12 heads, FFN 3072, GELU, 512 positions; 1_Pooling (mean),
               sentence_bert_config.json (max_seq_length 128), 2_Dense (768 -> 512, no bias).

Usage: rehearsal_models.py clip-vision|mclip-text OUT_DIR [--seed N] [--scale tiny]
(--scale tiny: 2 layers, width 64, vocab 2,000, for the wiring test). Writes into OUT_DIR, which
the caller creates as a temporary folder and renames when this exits 0. The synthetic words are
`synthetic_words(n)` below; tools/rehearsal.ts builds captions from the same generator.
"""
import json
import math
import os
import struct
import sys

import torch
from torch import nn

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70 syllables


def synthetic_words(n):
    """The i-th synthetic word: i written in base 70 over SYLLABLES (distinct, 1+ syllables)."""
    out = []
    for i in range(n):
        w, x = "", i
        while True:
            w = SYLLABLES[x % 70] + w
            x = x // 70
            if x == 0:
                break
        out.append(w)
    return out


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


class Block(nn.Module):
    def __init__(self, d, heads, ffn, act, pre_ln, eps):
        super().__init__()
        self.h, self.pre = heads, pre_ln
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d, eps=eps)
        self.ln2 = nn.LayerNorm(d, eps=eps)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.act = act

    def attn(self, x, bias):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.h)
        if bias is not None:
            a = a + bias
        return self.out((a.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, x, bias=None):
        if self.pre:
            x = x + self.attn(self.ln1(x), bias)
            return x + self.fc2(self.act(self.fc1(self.ln2(x))))
        x = self.ln1(x + self.attn(x, bias))
        return self.ln2(x + self.fc2(self.act(self.fc1(x))))


class QuickGelu(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ClipVision(nn.Module):
    def __init__(self, width, layers, heads, ffn, patch, size, proj):
        super().__init__()
        self.patch = nn.Conv2d(3, width, patch, patch, bias=False)
        n = (size // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.randn(width) * 0.02)
        self.pos = nn.Parameter(torch.randn(n, width) * 0.02)
        self.pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList(
            [Block(width, heads, ffn, QuickGelu(), True, 1e-5) for _ in range(layers)]
        )
        self.post = nn.LayerNorm(width)
        self.proj = nn.Linear(width, proj, bias=False)

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        cls = self.cls.expand(x.shape[0], 1, -1)
        x = self.pre(torch.cat([cls, x], 1) + self.pos)
        for b in self.blocks:
            x = b(x)
        return self.proj(self.post(x[:, 0]))


class DistilBert(nn.Module):
    def __init__(self, vocab, dim, layers, heads, ffn, positions):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(positions, dim)
        self.ln = nn.LayerNorm(dim, eps=1e-12)
        self.blocks = nn.ModuleList(
            [Block(dim, heads, ffn, nn.GELU(), False, 1e-12) for _ in range(layers)]
        )

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.ln(self.tok(input_ids) + self.pos(pos))
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -1e9
        for b in self.blocks:
            x = b(x, bias)
        return x


def export(model, args, path, inputs, outputs, axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=14, do_constant_folding=True)


def clip_vision(out, tiny):
    width, layers, heads, ffn = (64, 2, 4, 128) if tiny else (768, 12, 12, 3072)
    size, patch, proj = 224, 32, 512
    model = ClipVision(width, layers, heads, ffn, patch, size, proj)
    write_json(os.path.join(out, "config.json"), {
        "model_type": "clip",
        "architectures": ["CLIPModel"],
        "projection_dim": proj,
        "vision_config": {"model_type": "clip_vision_model", "image_size": size, "patch_size": patch,
                          "hidden_size": width, "num_hidden_layers": layers,
                          "num_attention_heads": heads, "intermediate_size": ffn,
                          "hidden_act": "quick_gelu"},
        "rehearsal": "random weights (tools/rehearsal_models.py), not openai/clip-vit-base-patch32",
    })
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "image_processor_type": "CLIPImageProcessor", "do_resize": True,
        "size": {"shortest_edge": size}, "resample": 3, "do_center_crop": True,
        "crop_size": {"height": size, "width": size}, "do_rescale": True,
        "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD, "do_convert_rgb": True,
    })
    export(model, (torch.zeros(1, 3, size, size),), os.path.join(out, "onnx", "vision_model.onnx"),
           ["pixel_values"], ["image_embeds"], {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}})


def wordpiece_tokenizer(vocab):
    def special(i, c):
        return {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(i, c) for i, c in enumerate(vocab[:5])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": False},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


def mclip_text(out, tiny):
    vocab_size, dim, layers, heads, ffn = (2000, 64, 2, 4, 128) if tiny else (119547, 768, 6, 12, 3072)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."]
    vocab = specials + synthetic_words(vocab_size - len(specials))
    model = DistilBert(vocab_size, dim, layers, heads, ffn, 512)
    write_json(os.path.join(out, "config.json"), {
        "model_type": "distilbert", "architectures": ["DistilBertModel"], "dim": dim,
        "n_layers": layers, "n_heads": heads, "hidden_dim": ffn, "vocab_size": vocab_size,
        "max_position_embeddings": 512, "pad_token_id": 0,
        "rehearsal": "random weights (tools/rehearsal_models.py), not clip-ViT-B-32-multilingual-v1",
    })
    write_json(os.path.join(out, "tokenizer.json"), wordpiece_tokenizer(vocab))
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "DistilBertTokenizer", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]",
        "do_lower_case": False, "model_max_length": 512,
    })
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": dim, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": 128, "do_lower_case": False})
    write_json(os.path.join(out, "2_Dense", "config.json"), {
        "in_features": dim, "out_features": 512, "bias": False,
        "activation_function": "torch.nn.modules.linear.Identity",
    })
    write_safetensors(os.path.join(out, "2_Dense", "model.safetensors"),
                      {"linear.weight": torch.randn(512, dim) / math.sqrt(dim)})
    ids = torch.ones(2, 7, dtype=torch.int64)
    export(model, (ids, torch.ones(2, 7, dtype=torch.int64)), os.path.join(out, "onnx", "model.onnx"),
           ["input_ids", "attention_mask"], ["last_hidden_state"],
           {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"}})


def main(argv):
    if len(argv) < 3 or argv[1] not in ("clip-vision", "mclip-text"):
        sys.exit(f"usage: {argv[0]} clip-vision|mclip-text OUT_DIR [--seed N] [--scale tiny]")
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    tiny = "--scale" in argv and argv[argv.index("--scale") + 1] == "tiny"
    torch.manual_seed(seed)
    {"clip-vision": clip_vision, "mclip-text": mclip_text}[argv[1]](argv[2], tiny)


if __name__ == "__main__":
    main(sys.argv)
