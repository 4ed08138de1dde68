#!/usr/bin/python3
"""Synthetic stand-ins of the paper profile's datasets, in the real formats and at the real
sizes, for `./kit task reproduce --profile paper --rehearse` (Debian's python3 + PIL + numpy).

  coco OUT     MS-COCO 2017 layout: annotations/captions_train2017.json (118,287 images,
               591,753 captions) and captions_val2017.json (5,000 images, 25,014 captions),
               train2017/ and val2017/ with one JPEG per image at COCO's sizes (640 px on the
               long side). The pixels come from a pool of 64 generated base images; every file
               is distinct in its bytes (a JPEG comment naming the image), so the build's
               byte-level de-duplication keeps them all. Captions: synthetic words.
  wit OUT IMG  WIT v1 layout: one gzipped shard each of train, val and test (17 columns; items
               8:1:1) with 2,770 images x 9 languages (D's set), and IMG/<witImageKey>.jpg, one JPEG per image
               (1,200 px on the long side; Wikimedia originals are often larger). Captions: words of
               the multilingual text stand-in's vocabulary (tools/rehearsal_models.py).

`--scale tiny` (the wiring test): 40 COCO train / 10 val images, 30 WIT items. The caller writes
into temporary folders and renames them when this exits 0.
"""
import gzip
import hashlib
import io
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rehearsal_models import synthetic_words  # noqa: E402

D_LANGUAGES = ["ar", "de", "en", "es", "fr", "it", "ja", "pt", "zh"]
WIT_COLUMNS = [
    "language", "page_url", "image_url", "page_title", "section_title", "hierarchical_section_title",
    "caption_reference_description", "caption_attribution_description", "caption_alt_text_description",
    "mime_type", "original_height", "original_width", "is_main_image", "attribution_passes_lang_id",
    "page_changed_recently", "context_page_description", "context_section_description",
]


def base_images(rng, n, long_side):
    """`n` JPEG byte strings: smooth colour fields with blobs and mild noise (photo-like sizes)."""
    out = []
    for i in range(n):
        w, h = (long_side, int(long_side * 0.75)) if i % 3 else (int(long_side * 0.75), long_side)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.zeros((h, w, 3), np.float32)
        for c in range(3):
            a, b, p = rng.uniform(0.002, 0.02, 3)
            img[..., c] = 128 + 90 * np.sin(a * x + b * y + p * 40)
        for _ in range(10):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, long_side / 4)
            m = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
            img[m] = rng.uniform(0, 255, 3)
        img += rng.normal(0, 1.5, img.shape)  # mild grain; more makes the 224 px PNGs of the build large
        buf = io.BytesIO()
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=85)
        out.append((buf.getvalue(), w, h))
    return out


def with_comment(jpeg, text):
    """The JPEG with a COM segment after SOI: same pixels, distinct bytes."""
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def sentence(rng, words, lo, hi):
    n = int(rng.integers(lo, hi + 1))
    return " ".join(words[int(k)] for k in rng.integers(0, len(words), n)) + " ."


def coco(out, tiny):
    rng = np.random.default_rng(2017)
    words = synthetic_words(5000)
    pool = base_images(rng, 8 if tiny else 64, 640)
    splits = {"train2017": (40, 200) if tiny else (118_287, 591_753),
              "val2017": (10, 50) if tiny else (5_000, 25_014)}
    os.makedirs(os.path.join(out, "annotations"), exist_ok=True)
    next_id, ann_id = 1, 1
    for split, (n_images, n_captions) in splits.items():
        os.makedirs(os.path.join(out, split), exist_ok=True)
        images, anns = [], []
        extra = n_captions - 5 * n_images
        for i in range(n_images):
            jpeg, w, h = pool[i % len(pool)]
            name = f"{next_id:012d}.jpg"
            with open(os.path.join(out, split, name), "wb") as f:
                f.write(with_comment(jpeg, f"rehearsal {split} {next_id}"))
            images.append({"license": 1, "file_name": name, "height": h, "width": w, "id": next_id})
            for _ in range(5 + (1 if i < extra else 0)):
                anns.append({"image_id": next_id, "id": ann_id, "caption": sentence(rng, words, 8, 14)})
                ann_id += 1
            next_id += 1
        with open(os.path.join(out, "annotations", f"captions_{split}.json"), "w") as f:
            json.dump({"info": {"description": "kit rehearsal stand-in (synthetic)"},
                       "licenses": [{"id": 1, "name": "synthetic", "url": ""}],
                       "images": images, "annotations": anns}, f)


def wit_key(url):
    if url.startswith("http://"):
        url = "https://" + url[len("http://"):]
    return hashlib.sha256(url.encode()).hexdigest()[:20]


def wit(out, img_out, tiny):
    rng = np.random.default_rng(2770)
    words = synthetic_words(119_547 - 6)
    n = 30 if tiny else 2_770
    pool = base_images(rng, 8 if tiny else 48, 1200)
    os.makedirs(out, exist_ok=True)
    os.makedirs(img_out, exist_ok=True)
    header = "\t".join(WIT_COLUMNS)
    rows = {"train": [], "val": [], "test": []}
    for i in range(n):
        url = f"https://upload.wikimedia.org/wikipedia/commons/r/rh/Rehearsal_{i}.jpg"
        jpeg, w, h = pool[i % len(pool)]
        with open(os.path.join(img_out, wit_key(url) + ".jpg"), "wb") as f:
            f.write(with_comment(jpeg, f"rehearsal wit {i}"))
        for lang in D_LANGUAGES:
            v = {"language": lang, "page_url": f"https://{lang}.wikipedia.org/wiki/Page_{i}",
                 "image_url": url, "page_title": f"Page {i}",
                 "caption_reference_description": sentence(rng, words, 3, 25),
                 "mime_type": "image/jpeg", "original_height": str(h), "original_width": str(w),
                 "is_main_image": "false"}
            split = "train" if i % 10 < 8 else "val" if i % 10 == 8 else "test"
            rows[split].append("\t".join(v.get(c, "") for c in WIT_COLUMNS))
    for split, n_shards in (("train", 10), ("val", 5), ("test", 5)):
        name = f"wit_v1.{split}.all-00000-of-{n_shards:05d}.tsv.gz"
        with gzip.open(os.path.join(out, name), "wt") as f:
            f.write("\n".join([header] + rows[split]) + "\n")


def main(argv):
    tiny = "--scale" in argv and argv[argv.index("--scale") + 1] == "tiny"
    if len(argv) >= 3 and argv[1] == "coco":
        coco(argv[2], tiny)
    elif len(argv) >= 4 and argv[1] == "wit":
        wit(argv[2], argv[3], tiny)
    else:
        sys.exit(f"usage: {argv[0]} coco OUT | wit OUT IMAGES_OUT  [--scale tiny]")


if __name__ == "__main__":
    main(sys.argv)
