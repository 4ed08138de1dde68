"""PyTorch counterpart of tools/k_real_shape_step.ts: paper K's training step at real shapes.

XLMRobertaModel (xlm-roberta-large config) + ViTModel (vit-base-patch16-224-in21k config),
random weights built from the kit's configs (no download), Linear(1024->512) and
Linear(768->512) projections, learned scale, text->image cross-entropy, dense torch.optim.Adam
(lr 1e-5) over every parameter, as the authors' code trains. Batch: 2 images with one caption
each (random ids, the second caption shorter and padded with id 1). Prints per-step times and
peak CUDA memory; --json writes them.

    python3 tools/k_real_shape_step_torch.py [--steps 6] [--tokens 32] [--images 2] [--json out]
(needs torch and transformers; runs on CUDA when available, else the CPU)
"""
import argparse
import json
import os
import statistics
import time

import torch
import transformers
from transformers import ViTConfig, ViTModel, XLMRobertaConfig, XLMRobertaModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(name):
    with open(os.path.join(ROOT, "lib", "encoders", "configs", name + ".json")) as f:
        c = json.load(f)
    return {k: v for k, v in c.items() if not k.startswith("_") and k != "model_type"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--json")
    a = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    t0 = time.perf_counter()
    tc = XLMRobertaConfig(**load("xlm-roberta-large"), hidden_dropout_prob=a.dropout,
                          attention_probs_dropout_prob=a.dropout)
    ic = ViTConfig(**{k: v for k, v in load("vit-base-patch16-224-in21k").items()
                      if k not in ("image_mean", "image_std")})
    text = XLMRobertaModel(tc, add_pooling_layer=False).to(dev).train()
    image = ViTModel(ic, add_pooling_layer=False).to(dev).train()
    tp = torch.nn.Linear(tc.hidden_size, 512).to(dev)
    ip = torch.nn.Linear(ic.hidden_size, 512).to(dev)
    scale = torch.nn.Parameter(torch.ones((), device=dev))
    params = [*text.parameters(), *image.parameters(), *tp.parameters(), *ip.parameters(), scale]
    opt = torch.optim.Adam(params, lr=1e-5)
    init_s = time.perf_counter() - t0

    g = torch.Generator().manual_seed(3)
    B, L = a.images, a.tokens
    ids = torch.full((B, L), tc.pad_token_id, dtype=torch.long)
    for r in range(B):
        n = L if r == 0 else max(3, L // 2)
        ids[r, 0] = 0
        ids[r, 1:n - 1] = torch.randint(3, tc.vocab_size, (n - 2,), generator=g)
        ids[r, n - 1] = 2
    ids = ids.to(dev)
    mask = (ids != tc.pad_token_id).long()
    pixels = (torch.rand(B, 3, 224, 224, generator=g) * 2 - 1).to(dev)
    target = torch.arange(B, device=dev)

    times, losses = [], []
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for s in range(a.steps):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        h = text(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(h.dtype)
        T = tp((h * m).sum(1) / m.sum(1))
        I = ip(image(pixel_values=pixels).last_hidden_state.mean(1))
        loss = torch.nn.functional.cross_entropy(T @ I.T * scale, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1000)
        losses.append(float(loss))
        print(f"step {s}: loss {losses[-1]:.5f} {times[-1]:.1f} ms", flush=True)
    rep = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "dtype": "float32",
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "attn_implementation": getattr(text.config, "_attn_implementation", None),
        "dropout": a.dropout,
        "parameters": sum(p.numel() for p in params),
        "images": B,
        "tokens": L,
        "init_s": init_s,
        "step_ms": times,
        "median_step_ms": statistics.median(times[1:] if len(times) > 1 else times),
        "peak_cuda_bytes": torch.cuda.max_memory_allocated() if dev.type == "cuda" else None,
        "losses": losses,
    }
    print(json.dumps(rep))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rep, f, indent=2)


if __name__ == "__main__":
    main()
