import { join } from "node:path";
import type { SentenceEncoder } from "../encoder.ts";
import { KitError } from "../../util/kit_error.ts";
import { applyDenseLayer, loadDenseLayer } from "./dense_layer.ts";
import { rowMatrix } from "../../retrieval/row_matrix.ts";
import {
  describeMeanPooledTextModel,
  loadMeanPooledTextModel,
  type TextModelOptions,
} from "./mean_pooled_text_model.ts";
import { modelFolderName, PAPER_MODELS, paperModelFolder } from "./model_folder.ts";

/**
 * Paper K's untuned baseline: XLM-R (`FacebookAI/xlm-roberta-large`, an ONNX export) with its
 * last hidden states mean-pooled over **real tokens** — the tokenizer's attention mask, not
 * `input_ids != 0` (XLM-R's `<s>` is id 0 and its padding id 1; K's code got this wrong, see
 * nkrasner/cl-clip-align@d75b729 `Alignment/text-image/finetune_clip.py`). Truncates at 128 tokens by default (K's max length). Works for any BERT-like ONNX
 * encoder folder. Rows are not normalised.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { xlmrMeanPooledEncoder } from "./xlmr_encoder.ts";
 * // With the paper profile's model (`./kit task fetch --models`):
 * //   const enc = await xlmrMeanPooledEncoder(); // .cache/models/FacebookAI/xlm-roberta-large
 * //   const m = await enc.embed(["Hello world"], "en"); // 1 × 1024
 * //   enc.dispose();
 * // Without it: an error naming the folder, before anything is loaded.
 * const dir = await Deno.makeTempDir();
 * await assert.rejects(() => xlmrMeanPooledEncoder(`${dir}/xlm-roberta-large`), /does not exist/);
 * await Deno.remove(dir);
 * ```
 */
export async function xlmrMeanPooledEncoder(
  folder: string = paperModelFolder("xlm-roberta-large"),
  opts: TextModelOptions = {},
): Promise<SentenceEncoder> {
  const model = await loadMeanPooledTextModel(folder, PAPER_MODELS["xlm-roberta-large"], {
    ...opts,
    defaultMaxLength: 128,
  });
  const id = xlmrMeanPooledEncoderId(folder, model.fingerprint);
  return {
    id,
    dim: model.hiddenSize,
    async embed(texts: readonly string[], _lang: string) {
      const data = await model.embedPooled(texts);
      return rowMatrix(data, texts.length, model.hiddenSize, id);
    },
    dispose: () => model.dispose(),
  };
}

function xlmrMeanPooledEncoderId(folder: string, fingerprint: string): string {
  return `hf/${modelFolderName(folder)}@${fingerprint}/mean`;
}

/**
 * The `id` and `dim` that `xlmrMeanPooledEncoder(folder, opts)` would have, read from the
 * folder's config, tokenizer files and ONNX file size without loading the model (for encoders
 * that load their weights on first use), with the files besides the ONNX file that decide its
 * rows and the ONNX file it would load (for content fingerprints). Missing files are
 * `KitError`s, as when loading.
 */
export async function xlmrMeanPooledEncoderInfo(
  folder: string = paperModelFolder("xlm-roberta-large"),
  opts: Pick<TextModelOptions, "dtype"> = {},
): Promise<{ id: string; dim: number; files: readonly string[]; onnxPath: string }> {
  const info = await describeMeanPooledTextModel(folder, PAPER_MODELS["xlm-roberta-large"], opts);
  return {
    id: xlmrMeanPooledEncoderId(folder, info.fingerprint),
    dim: info.hiddenSize,
    files: info.files,
    onnxPath: info.onnx.path,
  };
}

/**
 * One of paper K's fine-tuned setups as the authors evaluate it (their `encode_text`): the
 * fine-tuned XLM-R text tower (an ONNX export in `folder`) mean-pooled over real tokens, then
 * K's `text_dense` projection (1024 → 512) read from the sentence-transformers-style Dense
 * module beside it, `<folder>/2_Dense/config.json` + `<folder>/2_Dense/model.safetensors`
 * (`linear.weight` `[512, 1024]`, `linear.bias`, `activation_function`
 * `torch.nn.modules.linear.Identity`). A folder without those files is a `KitError` naming
 * the missing file. Rows are not normalised.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { kProjectedSetupEncoder } from "./xlmr_encoder.ts";
 * // With a paper-profile setup trained and exported:
 * //   const enc = await kProjectedSetupEncoder(".cache/models/k-setups/multilingual");
 * //   const m = await enc.embed(["Hola"], "es"); // 1 × 512
 * //   enc.dispose();
 * // A folder without K's projection: an error naming the missing file.
 * const folder = await Deno.makeTempDir();
 * await assert.rejects(() => kProjectedSetupEncoder(folder), /2_Dense/);
 * await Deno.remove(folder);
 * ```
 */
export async function kProjectedSetupEncoder(
  folder: string,
  opts: TextModelOptions = {},
): Promise<SentenceEncoder> {
  const spec = PAPER_MODELS["xlm-roberta-large"];
  const dense = await loadDenseLayer(folder, spec, "2_Dense");
  const model = await loadMeanPooledTextModel(folder, spec, { ...opts, defaultMaxLength: 128 });
  if (dense.inFeatures !== model.hiddenSize) {
    model.dispose();
    throw new KitError(
      `${
        join(folder, "2_Dense", "config.json")
      }: in_features ${dense.inFeatures} does not match the encoder's hidden size ${model.hiddenSize}`,
    );
  }
  const id = `hf/${modelFolderName(folder)}@${model.fingerprint}/mean+dense`;
  return {
    id,
    dim: dense.outFeatures,
    async embed(texts: readonly string[], _lang: string) {
      const pooled = await model.embedPooled(texts);
      return rowMatrix(
        applyDenseLayer(dense, pooled, texts.length),
        texts.length,
        dense.outFeatures,
        id,
      );
    },
    dispose: () => model.dispose(),
  };
}
