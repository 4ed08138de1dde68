/**
 * What each notebook of the paper profile reads — datasets (from the data registry), model
 * folders (the paper's pretrained models, K's towers, K's trained setups), the translations file —
 * and whether each is there, how big it is, where it comes from and which step gets it.
 */
import { join } from "node:path";
import type { DataRegistry } from "../data/registry.ts";
import { KitError } from "../util/kit_error.ts";
import { cacheDir } from "../util/paths.ts";
import {
  isModelFile,
  PAPER_MODELS,
  paperModelFolder,
  type PaperModelKey,
} from "../encoders/pretrained/model_folder.ts";
import { kPaperModelFolders } from "../k_finetune/k_paper_setups.ts";
import { NLLB_MODEL_ID, nllbModelDir } from "../translation/nllb_engine.ts";
import { pathExists } from "../util/path_exists.ts";

/** One input of a notebook. */
export interface PlanInput {
  kind: "dataset" | "model" | "file";
  /** Registry name, Hugging Face id or variable name. */
  name: string;
  title: string;
  /** `present`, `missing`, or `produced` (written by an earlier notebook of the run). */
  status: "present" | "missing" | "produced";
  /** Where it is or goes. */
  where: string;
  /** Download size in bytes (approximate for models); null where unknown. */
  sizeBytes: number | null;
  /** Where to get it (URL, Hugging Face id). */
  source: string;
  /** The step that gets it (a command, or what to do by hand). */
  step: string;
  /** Needed for the notebook to run (false: optional, e.g. NLLB for notebook 01). */
  required: boolean;
}

/** Approximate download sizes of the paper's model folders (fp32 weights; Hugging Face). */
export const MODEL_DOWNLOAD_BYTES = {
  "xlm-roberta-large": 2_240_000_000,
  "vit-base-patch16-224-in21k": 346_000_000,
  "clip-vit-b32-image": 352_000_000,
  "multilingual-clip-text": 542_000_000,
  nllb: 2_460_000_000,
} as const;

/** The notebooks, in order. */
export const NOTEBOOKS = [
  "00_dataset_build",
  "01_translation",
  "02_training",
  "03_bitext_retrieval",
  "04_xnli",
  "05_representation_diagnostics",
] as const;
export type NotebookName = (typeof NOTEBOOKS)[number];

/** The datasets each notebook reads in the paper profile (registry names). */
export const PAPER_NOTEBOOK_DATASETS: Readonly<Record<NotebookName, readonly string[]>> = {
  "00_dataset_build": [
    "mscoco-2017",
    "wit-v1",
    "tuxpaint-stamps",
    "cldr-annotations",
    "twemoji-svg",
    "noto-emoji",
    "fluent-emoji-flat",
  ],
  // the mini dataset (built by 00) and AmericasNLP 2021 dev as the human references (MT-T1)
  "01_translation": ["tuxpaint-stamps", "americasnlp2021"],
  "02_training": ["mscoco-2017"],
  "03_bitext_retrieval": ["flores200"],
  "04_xnli": ["multinli-1.0", "xnli-1.0", "americasnli"],
  "05_representation_diagnostics": ["wit-v1"],
};

async function datasetInput(registry: DataRegistry, name: string): Promise<PlanInput> {
  const d = registry.declaration(name);
  let status: PlanInput["status"] = "missing", where = registry.cachePath(name);
  try {
    const r = await registry.resolve(name);
    status = "present";
    where = r.root;
  } catch (err) {
    if (!(err instanceof KitError)) throw err;
  }
  const u = d.upstream;
  const source = u.kind === "archives"
    ? u.archives.length > 2
      ? `${u.archives.length} archives from ${new URL(u.archives[0]!.url).origin}`
      : u.archives.map((a) => a.url).join(", ")
    : u.kind === "files"
    ? u.baseUrl
    : u.kind === "npm"
    ? `npm ${u.package}@${u.version}`
    : `derived from ${u.from}`;
  return {
    kind: "dataset",
    name,
    title: d.title,
    status,
    where,
    sizeBytes: d.sizeBytes,
    source,
    step: u.kind === "npm" ? "./kit task setup (npm install)" : `./kit task fetch ${name}`,
    required: true,
  };
}

async function modelInput(
  name: string,
  title: string,
  folder: string,
  marker: string,
  sizeBytes: number,
  step: string,
  required = true,
): Promise<PlanInput> {
  const present = await isModelFile(join(folder, marker));
  return {
    kind: "model",
    name,
    title,
    status: present ? "present" : "missing",
    where: folder,
    sizeBytes,
    source: `https://huggingface.co/${name}`,
    step,
    required,
  };
}

function paperModel(key: PaperModelKey, marker: string, size: number): Promise<PlanInput> {
  const spec = PAPER_MODELS[key];
  return modelInput(
    spec.hfId,
    spec.title,
    paperModelFolder(key),
    marker,
    size,
    `by hand: ${spec.howToGet[0] ?? ""} (./kit task fetch --models shows the layout)`,
  );
}

/** WIT's images of D's set, downloaded by `./kit task fetch wit-v1` into `.cache/wit-images`. */
async function witImagesInput(): Promise<PlanInput> {
  const dir = join(cacheDir(), "wit-images");
  let n = 0, bytes = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      n++;
      bytes += (await Deno.stat(join(dir, e.name))).size;
    }
  } catch { /* absent */ }
  return {
    kind: "file",
    name: "wit-images",
    title: `WIT images of D's set (${n} in the folder; D keeps 2,770)`,
    status: n > 0 ? "present" : "missing",
    where: dir,
    // about 2,770 Wikimedia originals, ~1 MB each (no pinned size: they are separate downloads)
    sizeBytes: n > 0 ? bytes : 2_770 * 1_000_000,
    source: "each kept WIT row's image_url (upload.wikimedia.org)",
    step: "./kit task fetch wit-v1 (downloads the images after the shards)",
    required: true,
  };
}

/** K's translations file (`KIT_K_TRANSLATIONS`). */
async function translationsInput(): Promise<PlanInput> {
  const path = Deno.env.get("KIT_K_TRANSLATIONS") ?? "";
  let size: number | null = null;
  if (path) {
    try {
      size = (await Deno.stat(path)).size;
    } catch { /* missing */ }
  }
  return {
    kind: "file",
    name: "KIT_K_TRANSLATIONS",
    title: "K's translated COCO captions (es, ja, hi, qu), one caption record a line",
    status: size !== null ? "present" : "missing",
    where: path || "(KIT_K_TRANSLATIONS not set)",
    sizeBytes: size,
    source:
      "yours: K's Google-Translate captions, or NLLB over COCO (notebook 01's engines; days on a CPU)",
    step: "set KIT_K_TRANSLATIONS=FILE (without it only Eng-Only trains)",
    required: true,
  };
}

/** K's four trained setups: produced by notebook 02, or given with `KIT_K_SETUPS_DIR`. */
async function kSetupsInput(): Promise<PlanInput> {
  const given = Deno.env.get("KIT_K_SETUPS_DIR");
  let present = false;
  if (given) present = await pathExists(join(given, "eng-only"));
  else {
    try {
      for await (const e of Deno.readDir(join(cacheDir(), "models"))) {
        if (e.isDirectory && e.name.startsWith("k-paper-")) present = true;
      }
    } catch { /* none */ }
  }
  return {
    kind: "model",
    name: "k-paper-setups",
    title: "K's four trained setups (model folders)",
    status: present ? "present" : "produced",
    where: given ?? join(cacheDir(), "models", "k-paper-<setup>@<hash>"),
    sizeBytes: 4 * (MODEL_DOWNLOAD_BYTES["xlm-roberta-large"] + 346_000_000),
    source: "notebook 02 (or K's checkpoints converted to the kit's layout)",
    step: "notebook 02 trains them; KIT_K_SETUPS_DIR=DIR reads DIR/<setup>/ instead",
    required: true,
  };
}

/**
 * The untuned XLM-R baseline of notebooks 03/04. `loadKSetupEncoders` reads it from K's text-tower
 * folder (`kPaperModelFolders().text`, `KIT_K_TEXT_MODEL`): TF.js from its `model.safetensors`
 * (the download notebook 02 trains from), else an ONNX export in that folder (for a run that
 * skips 02 with `KIT_K_SETUPS_DIR`). It is the same folder and the same download as 02's text
 * tower, so the plan lists it under the same name and place and counts its bytes once; it is
 * present when either weight file is there.
 */
async function kUntunedXlmrInput(folder: string): Promise<PlanInput> {
  let present = false;
  for (const f of ["model.safetensors", "onnx/model.onnx", "model.onnx"]) {
    if (await isModelFile(join(folder, f))) present = true;
  }
  return {
    kind: "model",
    name: "FacebookAI/xlm-roberta-large",
    title:
      "untuned XLM-R baseline: K's text-tower folder (model.safetensors, the same download as notebook 02's; or an ONNX export there when 02 is skipped)",
    status: present ? "present" : "missing",
    where: folder,
    sizeBytes: MODEL_DOWNLOAD_BYTES["xlm-roberta-large"],
    source: "https://huggingface.co/FacebookAI/xlm-roberta-large",
    step:
      "the folder of notebook 02's text tower (KIT_K_TEXT_MODEL); without model.safetensors: optimum-cli export onnx --model FacebookAI/xlm-roberta-large --task feature-extraction <folder>",
    required: true,
  };
}

/** Every input of every notebook in the paper profile, with its status. */
export async function paperNotebookInputs(
  registry: DataRegistry,
): Promise<Record<NotebookName, PlanInput[]>> {
  const ds = async (nb: NotebookName) =>
    await Promise.all(PAPER_NOTEBOOK_DATASETS[nb].map((n) => datasetInput(registry, n)));
  const k = kPaperModelFolders();
  const kText = await modelInput(
    "FacebookAI/xlm-roberta-large",
    "K's text tower (safetensors, fine-tuned by notebook 02)",
    k.text,
    "model.safetensors",
    MODEL_DOWNLOAD_BYTES["xlm-roberta-large"],
    "by hand: huggingface-cli download FacebookAI/xlm-roberta-large config.json model.safetensors tokenizer.json tokenizer_config.json",
  );
  const kImage = await modelInput(
    "google/vit-base-patch16-224-in21k",
    "K's image tower (safetensors)",
    k.image,
    "model.safetensors",
    MODEL_DOWNLOAD_BYTES["vit-base-patch16-224-in21k"],
    "by hand: huggingface-cli download google/vit-base-patch16-224-in21k config.json model.safetensors preprocessor_config.json",
  );
  const xlmrUntuned = await kUntunedXlmrInput(k.text);
  const setups = await kSetupsInput();
  const nllb = await modelInput(
    NLLB_MODEL_ID,
    "NLLB-200 distilled 600M (optional engine of notebook 01)",
    nllbModelDir(),
    "config.json",
    MODEL_DOWNLOAD_BYTES.nllb,
    `by hand: the transformers.js ONNX export ${NLLB_MODEL_ID} (KIT_NLLB_MODEL)`,
    false,
  );
  return {
    "00_dataset_build": [...await ds("00_dataset_build"), await witImagesInput()],
    "01_translation": [...await ds("01_translation"), nllb],
    "02_training": [...await ds("02_training"), kText, kImage, await translationsInput()],
    "03_bitext_retrieval": [...await ds("03_bitext_retrieval"), xlmrUntuned, setups],
    "04_xnli": [...await ds("04_xnli"), xlmrUntuned, setups],
    "05_representation_diagnostics": [
      ...await ds("05_representation_diagnostics"),
      await witImagesInput(),
      await paperModel(
        "clip-vit-b32-image",
        "config.json",
        MODEL_DOWNLOAD_BYTES["clip-vit-b32-image"],
      ),
      await paperModel(
        "multilingual-clip-text",
        "config.json",
        MODEL_DOWNLOAD_BYTES["multilingual-clip-text"],
      ),
    ],
  };
}
