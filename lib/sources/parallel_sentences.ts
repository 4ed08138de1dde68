/**
 * Sentences aligned across languages: `sentences[lang][i]` are translations of each other for
 * every language. FLORES-200 and SIB-200 load into this shape (bitext retrieval, t-SNE).
 */
export interface ParallelSentences {
  /** Language codes as the source writes them (FLORES: `eng_Latn`, `quy_Latn`, ...). */
  languages: string[];
  /** A stable id per row (FLORES: 1-based line number; SIB-200: `index_id`). */
  ids: string[];
  sentences: Record<string, string[]>;
  /** Per row, extra labels where the source has them (SIB-200: topic category and split). */
  labels?: { category: string[]; split: string[] };
}
