export * from "./cached_value_codec.ts";
export * from "./result_cache.ts";
export * from "./result_checkpoints.ts";
export * from "./code_fingerprint.ts";
export * from "./numeric_environment.ts";
export * from "./encoder_result_key.ts";
export * from "./value_fingerprint.ts";
export * from "./cache_usage.ts";
