import type { SentenceEncoder } from "../encoder.ts";
import { rowMatrix } from "../../retrieval/row_matrix.ts";
import { loadMeanPooledTextModel, type TextModelOptions } from "./mean_pooled_text_model.ts";
import { modelFolderName, PAPER_MODELS, paperModelFolder } from "./model_folder.ts";

/**
 * Paper K's untuned baseline: XLM-R (`FacebookAI/xlm-roberta-large`, an ONNX export) with its
 * last hidden states mean-pooled over **real tokens** — the tokenizer's attention mask, not
 * `input_ids != 0` (XLM-R's `<s>` is id 0 and its padding id 1; K's code got this wrong, see
 * SPEC §1). Truncates at 128 tokens by default (K's max length). Works for any BERT-like ONNX
 * encoder folder. Rows are not normalised.
 *
 * ```ts ignore
 * import { xlmrMeanPooledEncoder } from "./xlmr_encoder.ts";
 * const enc = await xlmrMeanPooledEncoder(); // .cache/models/FacebookAI/xlm-roberta-large
 * const m = await enc.embed(["Hello world"], "en"); // 1 × 1024
 * enc.dispose();
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
  const id = `hf/${modelFolderName(folder)}@${model.fingerprint}/mean`;
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
