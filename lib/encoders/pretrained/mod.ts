/**
 * Frozen pretrained encoders for the paper profile, run offline through transformers.js
 * (ONNX): CLIP ViT-B/32 image features, the multilingual CLIP text encoder
 * (`sentence-transformers/clip-ViT-B-32-multilingual-v1`: mean pooling + its Dense layer) and
 * mean-pooled XLM-R; clear errors for missing model files; and an on-disk embedding cache that
 * works with any `SentenceEncoder` / `ImageEncoder`.
 *
 * transformers.js is imported lazily (on the first model load), so importing this module costs
 * nothing for notebooks that never load a pretrained model.
 */
export * from "./transformers_runtime.ts";
export * from "./model_folder.ts";
export * from "./load_errors.ts";
export * from "./mean_pooling.ts";
export * from "./dense_layer.ts";
export * from "./mean_pooled_text_model.ts";
export * from "./xlmr_encoder.ts";
export * from "./multilingual_clip_text_encoder.ts";
export * from "./clip_image_encoder.ts";
export * from "./embedding_cache.ts";
export * from "./model_content_fingerprint.ts";
