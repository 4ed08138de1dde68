import type { ImageEncoder, SentenceEncoder } from "../encoders/encoder.ts";
import { iterateDataset } from "../dataset_build/read_dataset.ts";
import type { Partition } from "../dataset_build/sample.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import {
  type AlignmentEmbeddings,
  alignmentEmbeddings,
  PAPER_D_LANGUAGES,
} from "./embedding_dir.ts";

/** Options of {@link embedDatasetForImagePivot}. */
export interface DatasetEmbeddingOptions {
  /** Languages every kept item must have a caption in (default D's nine). */
  langs?: readonly string[];
  /** Partitions to take the items from (default val and test: never seen by the mini encoders). */
  partitions?: readonly Partition[];
  /** Keep at most this many items (first by key; smoke runs). */
  limit?: number;
}

/** Paper D's evaluation matrices for a built dataset, with the item keys behind the rows. */
export interface DatasetAlignmentEmbeddings extends AlignmentEmbeddings {
  /** Row i's dataset key (sorted ascending, as D sorts its WIT keys). */
  keys: string[];
  /** Each row's partition. */
  partitions: Partition[];
  /** Caption text per language, row-aligned (for figures). */
  captions: Record<string, string[]>;
}

/**
 * Paper D's data step on a built dataset: the items of `partitions` that have a caption in
 * **all** `langs`, sorted by key (so row i is the same image in every language), their images
 * and first captions embedded with the frozen pair, rows L2-normalised. The checksums record the
 * keys and both encoders' ids.
 */
export async function embedDatasetForImagePivot(
  datasetDir: string,
  pair: { image: ImageEncoder; text: SentenceEncoder },
  options: DatasetEmbeddingOptions = {},
): Promise<DatasetAlignmentEmbeddings> {
  const langs = [...(options.langs ?? PAPER_D_LANGUAGES)];
  const partitions = new Set(options.partitions ?? ["val", "test"]);
  const items: {
    key: string;
    partition: Partition;
    png: Uint8Array;
    caption: Record<string, string>;
  }[] = [];
  for await (const s of iterateDataset(datasetDir)) {
    if (!partitions.has(s.record.partition)) continue;
    const caption: Record<string, string> = {};
    let complete = true;
    for (const l of langs) {
      const c = s.record.captions[l]?.[0];
      if (c === undefined || c.trim() === "") {
        complete = false;
        break;
      }
      caption[l] = c;
    }
    if (complete) items.push({ key: s.key, partition: s.record.partition, png: s.png, caption });
  }
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const kept = options.limit !== undefined ? items.slice(0, options.limit) : items;
  if (kept.length < 10) {
    throw new KitError(
      `${datasetDir}: only ${kept.length} items of partitions ${
        [...partitions].join("+")
      } have captions in all of ${langs.join(" ")}; paper D's protocol needs at least 10`,
    );
  }
  const images = await pair.image.embed(kept.map((i) => i.png));
  const text: Record<string, { data: Float32Array; rows: number; cols: number }> = {};
  const captions: Record<string, string[]> = {};
  for (const l of langs) {
    captions[l] = kept.map((i) => i.caption[l]!);
    text[l] = await pair.text.embed(captions[l]!, l);
  }
  const emb = alignmentEmbeddings(images, text, {
    keys: sha256Hex(kept.map((i) => i.key).join("\n")),
    imageEncoder: pair.image.id,
    textEncoder: pair.text.id,
  });
  return {
    ...emb,
    keys: kept.map((i) => i.key),
    partitions: kept.map((i) => i.partition),
    captions,
  };
}
