/**
 * Encoders: the `SentenceEncoder` / `ImageEncoder` interfaces, paper K's setup ids, and the
 * models behind them — TF.js XLM-R and ViT encoders with Hugging Face parameter names (so
 * safetensors checkpoints load directly), their configs, the kit's own subword tokenizer and
 * image preprocessing.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEncoderConfig, XlmRobertaEncoder, type XlmRobertaConfig } from "./mod.ts";
 * const c = parseEncoderConfig({ model_type: "xlm-roberta", vocab_size: 10, hidden_size: 4,
 *   num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8,
 *   max_position_embeddings: 8, type_vocab_size: 1 }) as XlmRobertaConfig;
 * const m = new XlmRobertaEncoder(c);
 * assert(m.params.names[0] === "roberta.embeddings.word_embeddings.weight");
 * m.dispose();
 * ```
 */
export * from "./encoder.ts";
export * from "./batch_mat_mul.ts";
export * from "./parameter_set.ts";
export * from "./transformer_ops.ts";
export * from "./encoder_config.ts";
export * from "./xlm_roberta_encoder.ts";
export * from "./vit_encoder.ts";
export * from "./safetensors_weights.ts";
export * from "./image_pixels.ts";
export * from "./subword_tokenizer.ts";
export * from "./pretrained/mod.ts";
export * from "./safetensors_model_folder.ts";
export * from "./dropout.ts";
export * from "./resident_encoder_pool.ts";
export * from "./xlmr_wasm_heap_budget.ts";
export * from "./length_sorted_batches.ts";
