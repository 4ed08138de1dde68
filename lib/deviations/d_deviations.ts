import type { Deviation, DeviationArtifact } from "./deviation.ts";

const D_TABLES: readonly DeviationArtifact[] = ["D-T1", "D-T2", "D-T3", "D-T4", "D-T5", "D-T6"];
const D_ALL: readonly DeviationArtifact[] = [...D_TABLES, "D-F1", "CLAIMS"];

/**
 * Remaining differences from paper D's code (mattiadri/crosslingual-contrastive), compared line
 * by line with `build_webdataset.py`, `emb_from_image.py`, `emb_from_text.py`,
 * `align_text_to_image.py` and `do_umap.py`. What the kit already does as D does (and is
 * therefore not listed): WIT train+val+test shards, reference captions in all nine languages,
 * `sha256(url)[:20]` keys sorted; the CLIP input (composite on white, JPEG q95 round trip, PIL
 * bicubic shortest side 224, centre crop, CLIP mean/std; bit-exact on the Pillow fixture); no
 * byte dedupe; KFold(5, shuffle, 7) bit for bit; heads, their initial values' distributions,
 * symmetric InfoNCE with repeated images, τ 0.07, prox/ortho, Adam with coupled decay after
 * clipping at 1.0, warm-up (step+1)/120 then cosine to 0.1·lr, 20 × 12 steps, best epoch by
 * holdout t2i macro R@1 (strictly better, so never the untrained head); metrics and diagnostics
 * as [D] §4.5 (mattiadri/crosslingual-contrastive@e2a8979 `align_text_to_image.py`); lang-ID seed 0; D-F1 with 140 items including the anchor and spectral UMAP start.
 */
export const D_DEVIATIONS: readonly Deviation[] = [
  {
    id: "d-image-download",
    paper: "D",
    topic: "image download",
    authors:
      "build_webdataset.py fetch_bytes: image_url with retries; on 404 falls back to Special:FilePath and to the MediaWiki API's thumbnail (≤ 4096 px wide)",
    kit:
      "downloadWitImages fetches image_url only (retries, HTML replies rejected); no 404 fallbacks",
    reason:
      "the fallbacks need live Wikimedia API calls the kit does not make; images that only the fallbacks reach are missing, and images that changed or vanished since D's crawl differ, so N may not be 2770",
    profiles: ["paper"],
    affects: [...D_ALL, "DATA-T1"],
  },
  {
    id: "d-image-validation",
    paper: "D",
    topic: "image validation",
    authors:
      "is_valid_image_bytes: rejects < 64 bytes and HTML, PIL verify() + full open; SVG rasterised by cairosvg at 96 dpi",
    kit:
      "prepareImage: format sniffed from the bytes, full libvips decode (truncation rejected), shorter side ≥ 2 px, ≤ 100 MP; SVG rasterised by librsvg at its natural size",
    reason:
      "the kit validates with sharp/libvips (no Python); the same images almost always pass both, but edge cases (truncated files PIL tolerates, huge images, SVG rendering) can differ",
    profiles: ["paper"],
    affects: [...D_ALL, "DATA-T1"],
  },
  {
    id: "d-pixel-conversions",
    paper: "D",
    topic: "pixel conversions beyond RGB/RGBA",
    authors:
      "PIL's convert(): CMYK, 16-bit, palette and grey-alpha images converted by Pillow; JPEG re-encoded by Pillow/libjpeg-turbo (optimize=True)",
    kit:
      "libvips decodes (ICC profiles ignored, as PIL does), then Pillow's composite and resampling arithmetic; JPEG q95 re-encoded with sharp's libjpeg-compatible settings",
    reason:
      "bit-identical to Pillow on 8-bit RGB/RGBA images (fixture tests/fixtures/make_clip_preprocess.py); CMYK and 16-bit conversions are libvips's, not Pillow's",
    profiles: ["paper"],
    affects: D_ALL,
  },
  {
    id: "d-duplicate-caption-rows",
    paper: "D",
    topic: "several rows of one image in one language",
    authors:
      "polars group_by(image_url) without order, then structs_to_langdict keeps the last struct per language: an arbitrary row",
    kit: "the first row in file order (train, val, test shards, each sorted)",
    reason: "D's choice is not deterministic; the kit needs a reproducible one",
    profiles: ["paper"],
    affects: D_ALL,
  },
  {
    id: "d-wit-grouping-key",
    paper: "D",
    topic: "which WIT rows are one image",
    authors:
      "build_webdataset.py (mattiadri/crosslingual-contrastive e2a8979) groups rows by the raw image_url column (polars group_by, no whitespace strip, http:// and https:// spellings of one file in separate groups) and keeps groups covering all 9 languages; the key sha256(normalize_url(url))[:20] is computed afterwards",
    kit:
      "lib/sources/wit.ts groups rows by witImageKey of the trimmed URL with http://upload.wikimedia.org/ upgraded to https:// (normaliseWitUrl): rows differing only in surrounding whitespace or that scheme count as one image",
    reason:
      "the same on WIT v1, whose image_url values are https://upload.wikimedia.org/… without surrounding whitespace; not checked on the real shards here (the offline data mirror has no WIT), so listed",
    profiles: ["paper"],
    affects: D_ALL,
  },
  {
    id: "d-encoder-runtime",
    paper: "D",
    topic: "encoder runtime and precision",
    authors:
      "OpenCLIP ViT-B-32 under CUDA autocast fp16; sentence-transformers clip-ViT-B-32-multilingual-v1 in PyTorch fp32",
    kit: "the same weights as ONNX exports run by transformers.js (onnxruntime), fp32 by default",
    reason:
      "no PyTorch in the kit; fp16 autocast and the ONNX export change embeddings at about the 1e-3 level",
    profiles: ["paper"],
    affects: D_ALL,
  },
  {
    id: "d-train-rng",
    paper: "D",
    topic: "training random streams",
    authors:
      "torch.manual_seed(7) once; batches by torch.randint, the MLP's fc1 by nn.Linear's init, one stream running through all folds (and heads run in separate invocations)",
    kit:
      "SeededRandom(7) per head and fold for batches (with replacement) and for fc1 (uniform ±1/√512, as nn.Linear)",
    reason:
      "torch's generator cannot be reproduced in TF.js; same distributions, different draws, so trained heads and their scores differ within the fold-to-fold spread",
    profiles: ["mini", "paper"],
    affects: D_ALL,
  },
  {
    id: "d-numerics",
    paper: "D",
    topic: "training numerics",
    authors: "PyTorch fp32 (GPU), exact erf GELU",
    kit:
      "TF.js fp32 on WebGPU/wasm/cpu; erf by TF.js's polynomial approximation; InfoNCE over repeated images computed in closed form (same value and gradient)",
    reason: "TF.js backend; differences at the float32 rounding level",
    profiles: ["mini", "paper"],
    affects: D_ALL,
  },
  {
    id: "d-langid-probe",
    paper: "D",
    topic: "lang-ID probe split and solver",
    authors:
      "default_rng(0).choice of ≤ 2000 rows per language, scikit-learn train_test_split(test_size 0.3, stratify, random_state 0), LogisticRegression(lbfgs, C 1, max_iter 2000)",
    kit:
      "the first ≤ 2000 rows per language, the kit's stratified 70/30 split seeded 0 (not scikit-learn's stream), L-BFGS on the same objective to gradient 1e-7",
    reason:
      "numpy's Generator and scikit-learn's shuffle are not reproduced; the accuracy differs by a few test rows",
    profiles: ["mini", "paper"],
    affects: ["D-T6", "CLAIMS"],
  },
  {
    id: "d-ties",
    paper: "D",
    topic: "ties in rankings and kNN",
    authors: "torch.argsort / np.argpartition: tie order unspecified",
    kit: "ties broken by row index",
    reason:
      "deterministic results; matters only for exactly equal similarities (duplicate captions or images)",
    profiles: ["mini", "paper"],
    affects: D_ALL,
  },
  {
    id: "d-umap",
    paper: "D",
    topic: "UMAP implementation (D-F1)",
    authors:
      "umap-learn (n_neighbors 25, min_dist 0.1, cosine, random_state 7): exact kNN, spectral init by ARPACK eigsh (multi-component layout when disconnected), numba SGD; images in argpartition order, captions in index order",
    kit:
      "umap-js with exact cosine kNN, umap-learn's spectral init computed by subspace iteration (signs: largest entry positive; random start if the graph is disconnected), umap-js SGD with SeededRandom(7); all four point groups in the same item order",
    reason: "no umap-learn in TypeScript; the layout's geometry is comparable, coordinates are not",
    profiles: ["mini", "paper"],
    affects: ["D-F1"],
  },
  {
    id: "d-mini-data-and-encoders",
    paper: "D",
    topic: "mini profile data and frozen pair",
    authors:
      "WIT v1, N = 2770, OpenCLIP ViT-B-32 + clip-ViT-B-32-multilingual-v1 (512-d), 224-px CLIP input",
    kit:
      "the mini dataset's held-out (val+test) concepts, Tux Paint stamps and emoji, with captions in all nine languages, one drawing per concept (N = 1,162 in the committed run), byte-identical images deduplicated; the kit's own small CLIP-style pair: a 64-d mini CLIP (ViT analog on 64-px letterboxed images + English text tower) trained 1,000 steps on the train concepts' images and English names, and a multilingual student distilled onto its text side for 1,000 steps (train-concept names in the nine languages + SIB-200 train/dev), so no evaluated concept trained either; fewer than 140 items per D-F1 panel only when N is small (smoke)",
    reason:
      "the mini profile runs offline on 2 CPU cores; no pretrained CLIP or WIT images can be downloaded. Unlike D's pair, which met WIT's captions for the first time, the mini student was distilled on names of the same kind (other concepts), so the heads have less domain shift to correct",
    profiles: ["mini"],
    affects: [...D_ALL, "DATA-T1"],
  },
];
