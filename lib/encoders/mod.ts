/**
 * Encoders: the `SentenceEncoder` / `ImageEncoder` interfaces, paper K's setup ids, and the
 * models behind them.
 */
export * from "./encoder.ts";
