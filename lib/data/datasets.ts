import type { ArchiveSource, DatasetDeclaration } from "./dataset.ts";
import { witShardFileNames } from "../sources/wit.ts";

/** Pins of a Debian package: its bookworm Packages index entry. */
const DEBIAN_PIN =
  "Debian bookworm Packages index (Size, SHA256), checked against `apt-get download` of the package on 2026-12-05";

const COCO_PIN =
  "size from cocodataset.org's download listing; sha256 to be pinned (COCO publishes none; computed on a machine with internet: `sha256sum` of the download)";

/**
 * COCO 2017 train+val annotations. No publisher checksum: the size is pinned, and the files the
 * mini profile takes from it are pinned one by one in the manifests (authoritative after unpacking).
 */
const COCO_ANNOTATIONS: ArchiveSource = {
  url: "https://images.cocodataset.org/annotations/annotations_trainval2017.zip",
  sha256: null,
  bytes: 252_907_541,
  pinnedFrom: COCO_PIN,
  format: "zip",
  strip: "",
};

/** XNLI 1.0 (dev and test). No publisher checksum: size pinned; see COCO_ANNOTATIONS. */
const XNLI_ZIP: ArchiveSource = {
  url: "https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip",
  sha256: null,
  bytes: 17_865_352,
  pinnedFrom:
    "size from the publisher's download listing; sha256 to be pinned (none published; computed on a machine with internet: `sha256sum XNLI-1.0.zip`)",
  format: "zip",
  strip: "XNLI-1.0",
};

/**
 * Every dataset the kit reads, declared once. Mirrored datasets list their files (sizes and
 * sha256) in `data/manifests/<name>.json`, generated from the mirror by
 * `./kit task manifest`; paper-profile datasets are large upstream archives that the user
 * downloads (`./kit task fetch NAME`), checked against the sha256 given here where one is pinned.
 */
export const DATASETS: readonly DatasetDeclaration[] = [
  // ---------------------------------------------------------------- mini profile (mirrored)
  {
    name: "tuxpaint-stamps",
    title: "Tux Paint stamps (photos and SVGs with multilingual descriptions)",
    profile: "mini",
    mirrorDir: "tuxpaint-stamps",
    homepage: "https://tuxpaint.org/download/stamps/ (Debian package tuxpaint-stamps-default)",
    license: "GPL-2.0 (see COPYRIGHT in the package)",
    citation:
      "Tux Paint stamps collection, version 2022.06.04, New Breed Software and contributors.",
    upstream: {
      kind: "archives",
      archives: [{
        url:
          "https://deb.debian.org/debian/pool/main/t/tuxpaint-stamps/tuxpaint-stamps-default_2022.06.04-1_all.deb",
        sha256: "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34",
        bytes: 160_880_444,
        pinnedFrom: DEBIAN_PIN,
        format: "deb",
        strip: "usr/share/tuxpaint",
        debianPackage: "tuxpaint-stamps-default=2022.06.04-1",
      }],
    },
    files: [],
    sizeBytes: 38_000_000,
    notes:
      "Debian users can also `apt-get install tuxpaint-stamps-default` and copy /usr/share/tuxpaint/stamps into the cache folder.",
  },
  // ------------------------------------------------ mini profile (pinned npm packages)
  {
    name: "cldr-annotations",
    title: "Unicode CLDR emoji annotations: short names (tts) and keywords in ~168 locales",
    profile: "mini",
    mirrorDir: null,
    mirrorInclude: ["annotations/", "LICENSE", "package.json"],
    homepage: "https://cldr.unicode.org/ (npm cldr-annotations-full, unicode-org/cldr-json)",
    license: "Unicode-3.0 (Unicode License v3; LICENSE in the package)",
    citation:
      "Unicode Common Locale Data Repository (CLDR) 48, emoji annotations; npm cldr-annotations-full 48.2.0, Unicode, Inc.",
    upstream: { kind: "npm", package: "cldr-annotations-full", version: "48.2.0" },
    files: [],
    sizeBytes: 56_000_000,
  },
  {
    name: "twemoji-svg",
    title: "Twemoji 15.0 emoji drawings (SVG, one file per code point sequence)",
    profile: "mini",
    mirrorDir: null,
    homepage: "https://github.com/jdecked/twemoji (npm @twemoji/svg)",
    license:
      "graphics CC-BY-4.0 (Copyright Twitter, Inc. and other contributors; jdecked/twemoji); npm packaging MIT (Samuel Kopp)",
    citation:
      "Twemoji 15.0 by Twitter, Inc. and contributors (jdecked/twemoji), licensed under CC-BY 4.0; npm @twemoji/svg 15.0.0.",
    upstream: { kind: "npm", package: "@twemoji/svg", version: "15.0.0" },
    files: [],
    sizeBytes: 17_000_000,
  },
  {
    name: "noto-emoji",
    title: "Noto Emoji drawings (SVG bodies in Iconify JSON)",
    profile: "mini",
    mirrorDir: null,
    mirrorInclude: ["icons.json", "chars.json", "info.json", "package.json"],
    homepage: "https://github.com/googlefonts/noto-emoji (npm @iconify-json/noto)",
    license: "Apache-2.0 (Google Inc.; googlefonts/noto-emoji svg/LICENSE)",
    citation:
      "Noto Emoji by Google Inc., Apache License 2.0; npm @iconify-json/noto 1.2.9 (Iconify).",
    upstream: { kind: "npm", package: "@iconify-json/noto", version: "1.2.9" },
    files: [],
    sizeBytes: 25_000_000,
  },
  {
    name: "fluent-emoji-flat",
    title: "Microsoft Fluent Emoji (flat) drawings (SVG bodies in Iconify JSON)",
    profile: "mini",
    mirrorDir: null,
    mirrorInclude: ["icons.json", "chars.json", "info.json", "package.json"],
    homepage: "https://github.com/microsoft/fluentui-emoji (npm @iconify-json/fluent-emoji-flat)",
    license: "MIT (Microsoft Corporation; microsoft/fluentui-emoji LICENSE)",
    citation:
      "Fluent Emoji (flat) by Microsoft Corporation, MIT License; npm @iconify-json/fluent-emoji-flat 1.2.6 (Iconify).",
    upstream: { kind: "npm", package: "@iconify-json/fluent-emoji-flat", version: "1.2.6" },
    files: [],
    sizeBytes: 8_800_000,
  },
  {
    name: "coco-captions-val2017",
    title: "MS-COCO 2017 validation captions (official JSON)",
    profile: "mini",
    mirrorDir: "coco",
    mirrorInclude: ["captions_val2017.json"],
    homepage: "https://cocodataset.org/#download",
    license: "CC BY 4.0 (annotations)",
    citation: "Lin et al., Microsoft COCO: Common Objects in Context, ECCV 2014.",
    upstream: {
      kind: "archives",
      archives: [{ ...COCO_ANNOTATIONS, strip: "annotations" }],
    },
    files: [],
    sizeBytes: 3_870_000,
  },
  {
    name: "coco-subset",
    title: "51 CC-licensed MS-COCO 2017 val images with their captions",
    profile: "mini",
    mirrorDir: "coco",
    mirrorInclude: ["captions_subset.json", "images/"],
    homepage: "https://cocodataset.org/#download",
    license: "per-image Flickr licence (CC BY / CC BY-SA), listed in captions_subset.json",
    citation: "Lin et al., Microsoft COCO: Common Objects in Context, ECCV 2014.",
    upstream: {
      kind: "recipe",
      recipe: "coco-subset",
      from:
        "COCO 2017 caption annotations (train and val) and https://images.cocodataset.org/<split>/<id>.jpg",
      archives: [{
        ...COCO_ANNOTATIONS,
        strip: "annotations",
        keep: ["captions_train2017.json", "captions_val2017.json"],
      }],
      baseUrl: "https://images.cocodataset.org/",
    },
    files: [],
    sizeBytes: 9_100_000,
  },
  {
    name: "sib200",
    title: "SIB-200 (FLORES-200 sentences with topic labels), 14 languages",
    profile: "mini",
    mirrorDir: "sib200",
    homepage: "https://github.com/dadelani/sib-200",
    license: "CC BY-SA 4.0 (FLORES-200 text)",
    citation:
      "Adelani et al., SIB-200: A Simple, Inclusive, and Big Evaluation Dataset for Topic Classification in 200+ Languages and Dialects, EACL 2024.",
    upstream: {
      kind: "files",
      baseUrl: "https://raw.githubusercontent.com/dadelani/sib-200/main/data/annotated/",
      mirrorOnly: ["LICENSE.code"],
    },
    files: [],
    sizeBytes: 2_600_000,
  },
  {
    name: "xnli-dev",
    title: "XNLI dev, 15 languages (XTREME TSV)",
    profile: "mini",
    mirrorDir: "xnli",
    homepage: "https://github.com/google-research/xtreme",
    license: "CC BY-NC 4.0",
    citation:
      "Conneau et al., XNLI: Evaluating Cross-lingual Sentence Representations, EMNLP 2018.",
    upstream: {
      kind: "recipe",
      recipe: "xnli-xtreme-dev",
      from:
        "XNLI-1.0.zip's xnli.dev.tsv, split into one TSV per language as XTREME's utils_preprocess.py does",
      archives: [{ ...XNLI_ZIP, keep: ["xnli.dev.tsv"] }],
    },
    files: [],
    sizeBytes: 9_200_000,
  },
  {
    name: "americasnli",
    title: "AmericasNLI (10 indigenous languages of the Americas, incl. Quechua)",
    profile: "both",
    mirrorDir: "americasnli",
    homepage: "https://github.com/abteen/americasnli",
    license: "CC BY-SA 4.0",
    citation:
      "Ebrahimi et al., AmericasNLI: Evaluating Zero-shot Natural Language Understanding of Pretrained Multilingual Models in Truly Low-resource Languages, ACL 2022.",
    upstream: {
      kind: "files",
      baseUrl: "https://raw.githubusercontent.com/abteen/americasnli/main/data/anli_final/",
      mirrorOnly: ["LICENSE.md"],
    },
    files: [],
    sizeBytes: 4_700_000,
  },
  {
    name: "americasnlp2021",
    title: "AmericasNLP 2021 Quechua–Spanish dev set and dictionaries",
    profile: "mini",
    mirrorDir: "americasnlp2021",
    homepage: "https://github.com/AmericasNLP/americasnlp2021",
    license: "see the upstream README (per-source licences)",
    citation:
      "Mager et al., Findings of the AmericasNLP 2021 Shared Task on Open Machine Translation for Indigenous Languages of the Americas, AmericasNLP 2021.",
    upstream: {
      kind: "files",
      baseUrl:
        "https://raw.githubusercontent.com/AmericasNLP/americasnlp2021/main/data/quechua-spanish/",
      // the mirror's README.upstream.md is the repository's top-level README
      remotePaths: { "README.upstream.md": "../../README.md" },
    },
    files: [],
    sizeBytes: 1_000_000,
  },
  {
    name: "tatoeba-quechua",
    title: "Tatoeba Challenge test pairs eng–que and que–spa",
    profile: "mini",
    mirrorDir: "tatoeba",
    homepage: "https://github.com/Helsinki-NLP/Tatoeba-Challenge",
    license: "CC BY 2.0 FR",
    citation: "Tiedemann, The Tatoeba Translation Challenge, WMT 2020.",
    upstream: {
      kind: "files",
      baseUrl: "https://raw.githubusercontent.com/Helsinki-NLP/Tatoeba-Challenge/master/data/test/",
      remotePaths: {
        "eng-que.test.txt": "eng-que/test.txt",
        "que-spa.test.txt": "que-spa/test.txt",
      },
    },
    files: [],
    sizeBytes: 32_000,
  },
  {
    name: "multi30k",
    title: "Multi30k task 1 captions (en, de, fr, cs) and image splits",
    profile: "mini",
    mirrorDir: "multi30k",
    homepage: "https://github.com/multi30k/dataset",
    license: "Flickr30k / COCO research terms",
    citation: "Elliott et al., Multi30K: Multilingual English-German Image Descriptions, VL 2016.",
    upstream: {
      kind: "files",
      baseUrl: "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/",
    },
    files: [],
    sizeBytes: 3_300_000,
  },
  {
    name: "xtd10",
    title: "XTD10: 1000 COCO images with captions in 11 languages",
    profile: "mini",
    mirrorDir: "xtd10",
    homepage: "https://github.com/adobe-research/Cross-lingual-Test-Dataset-XTD10",
    license: "Adobe research licence, non-commercial",
    citation: "Aggarwal and Kale, Towards Zero-shot Cross-lingual Image Retrieval, 2020.",
    upstream: {
      kind: "files",
      baseUrl:
        "https://raw.githubusercontent.com/adobe-research/Cross-lingual-Test-Dataset-XTD10/main/",
    },
    files: [],
    sizeBytes: 840_000,
  },
  {
    name: "exttextcat",
    title: "libexttextcat n-gram language profiles (en es ja hi ay quz)",
    profile: "mini",
    mirrorDir: "exttextcat",
    homepage: "https://packages.debian.org/bookworm/libexttextcat-data",
    license: "BSD-style",
    citation: "Cavnar and Trenkle, N-Gram-Based Text Categorization, 1994; libexttextcat.",
    upstream: {
      kind: "archives",
      archives: [{
        url:
          "https://deb.debian.org/debian/pool/main/libe/libexttextcat/libexttextcat-data_3.4.5-1_all.deb",
        sha256: "5298fb1661f0e145124a5129621fb290635309aecc87d8f524cf16a3dc66dcfe",
        bytes: 164_332,
        pinnedFrom: DEBIAN_PIN,
        format: "deb",
        strip: "usr/share/libexttextcat",
        debianPackage: "libexttextcat-data=3.4.5-1",
      }],
    },
    files: [],
    sizeBytes: 36_000,
  },
  {
    name: "clip-bpe",
    title: "CLIP BPE vocabulary",
    profile: "mini",
    mirrorDir: "clip",
    homepage: "https://github.com/openai/CLIP",
    license: "MIT",
    citation:
      "Radford et al., Learning Transferable Visual Models From Natural Language Supervision, ICML 2021.",
    upstream: {
      kind: "files",
      baseUrl: "https://raw.githubusercontent.com/openai/CLIP/main/",
      remotePaths: { "bpe_simple_vocab_16e6.txt.gz": "clip/bpe_simple_vocab_16e6.txt.gz" },
    },
    files: [],
    sizeBytes: 1_360_000,
  },
  // ---------------------------------------------------------------- paper profile (user downloads)
  {
    name: "mscoco-2017",
    title: "MS-COCO 2017 (train/val images and caption annotations)",
    profile: "paper",
    mirrorDir: null,
    homepage: "https://cocodataset.org/#download",
    license: "CC BY 4.0 (annotations); Flickr terms per image",
    citation: "Lin et al., Microsoft COCO: Common Objects in Context, ECCV 2014.",
    upstream: {
      kind: "archives",
      archives: [
        {
          url: "https://images.cocodataset.org/annotations/annotations_trainval2017.zip",
          sha256: null,
          bytes: 252_907_541,
          pinnedFrom: COCO_PIN,
          format: "zip",
          strip: "",
          into: "",
        },
        {
          url: "https://images.cocodataset.org/zips/train2017.zip",
          sha256: null,
          bytes: 19_336_861_798,
          pinnedFrom: COCO_PIN,
          format: "zip",
          strip: "",
          into: "",
        },
        {
          url: "https://images.cocodataset.org/zips/val2017.zip",
          sha256: null,
          bytes: 815_585_330,
          pinnedFrom: COCO_PIN,
          format: "zip",
          strip: "",
          into: "",
        },
      ],
    },
    files: [],
    sizeBytes: 20_405_354_669,
    notes:
      "Expected layout after unpacking: annotations/captions_{train,val}2017.json, train2017/*.jpg, val2017/*.jpg.",
  },
  {
    name: "wit-v1",
    title: "WIT v1 (Wikipedia-based Image Text), train, val and test TSV shards",
    profile: "paper",
    mirrorDir: null,
    homepage: "https://github.com/google-research-datasets/wit",
    license: "CC BY-SA 3.0 (text); images under their own Wikimedia licences",
    citation:
      "Srinivasan et al., WIT: Wikipedia-based Image Text Dataset for Multimodal Multilingual Machine Learning, SIGIR 2021.",
    upstream: {
      kind: "archives",
      // D's build_webdataset.py reads train, val and test (SPLIT_PATTERNS["full"]); N = 2770 needs all.
      archives: witShardFileNames().map((name) => ({
        url: `https://storage.googleapis.com/gresearch/wit/${name}`,
        sha256: null,
        bytes: null,
        pinnedFrom:
          "not pinned: Google publishes no checksums or sizes for the WIT shards (fetch with --trust-unpinned)",
        format: "gz" as const,
        strip: "",
      })),
    },
    files: [],
    sizeBytes: 25_300_000_000,
    notes:
      "Images are downloaded from each kept row's image_url by `./kit task fetch wit-v1` (downloadPaperWitImages, into .cache/wit-images); notebooks never touch the network.",
  },
  {
    name: "flores200",
    title: "FLORES-200 (dev and devtest, 204 languages)",
    profile: "paper",
    mirrorDir: null,
    homepage: "https://github.com/facebookresearch/flores/tree/main/flores200",
    license: "CC BY-SA 4.0",
    citation:
      "NLLB Team, No Language Left Behind: Scaling Human-Centered Machine Translation, 2022.",
    upstream: {
      kind: "archives",
      archives: [{
        url: "https://dl.fbaipublicfiles.com/nllb/flores200_dataset.tar.gz",
        sha256: null,
        bytes: 25_585_843,
        pinnedFrom:
          "size from the publisher's download listing; sha256 to be pinned (computed on a machine with internet: `sha256sum flores200_dataset.tar.gz`)",
        format: "tar.gz",
        strip: "flores200_dataset",
      }],
    },
    files: [],
    sizeBytes: 25_585_843,
    notes: "Expected layout: devtest/<lang>.devtest (e.g. devtest/quy_Latn.devtest).",
  },
  {
    name: "xnli-1.0",
    title: "XNLI 1.0 (dev and test, 15 languages)",
    profile: "paper",
    mirrorDir: null,
    homepage: "https://github.com/facebookresearch/XNLI",
    license: "CC BY-NC 4.0",
    citation:
      "Conneau et al., XNLI: Evaluating Cross-lingual Sentence Representations, EMNLP 2018.",
    upstream: {
      kind: "archives",
      archives: [XNLI_ZIP],
    },
    files: [],
    sizeBytes: 17_865_352,
    notes: "Expected layout: xnli.dev.tsv, xnli.test.tsv.",
  },
  {
    name: "multinli-1.0",
    title: "MultiNLI 1.0 (English training data for the XNLI classifier)",
    profile: "paper",
    mirrorDir: null,
    homepage: "https://cims.nyu.edu/~sbowman/multinli/",
    license: "OANC / CC BY-SA 3.0 / CC BY 3.0 (per genre; see the data description)",
    citation:
      "Williams, Nangia and Bowman, A Broad-Coverage Challenge Corpus for Sentence Understanding through Inference, NAACL 2018.",
    upstream: {
      kind: "archives",
      archives: [{
        url: "https://cims.nyu.edu/~sbowman/multinli/multinli_1.0.zip",
        sha256: null,
        bytes: 226_850_426,
        pinnedFrom:
          "size from the publisher's download listing; sha256 to be pinned (computed on a machine with internet)",
        format: "zip",
        strip: "multinli_1.0",
      }],
    },
    files: [],
    sizeBytes: 226_850_426,
    notes:
      "Expected layout: multinli_1.0_train.jsonl, multinli_1.0_dev_matched.jsonl, multinli_1.0_dev_mismatched.jsonl.",
  },
];
