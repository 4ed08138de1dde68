import type { ImageEncoder, SentenceEncoder } from "../encoders/encoder.ts";
import { iterateDataset } from "../dataset_build/read_dataset.ts";
import type { Partition, SampleRecord } from "../dataset_build/sample.ts";
import { dMiniItems } from "../dataset_build/d_mini_items.ts";
import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { ProgressBar } from "../util/progress.ts";
import type { RowMatrix } from "../retrieval/row_matrix.ts";
import { cachedResult } from "../eval_cache/result_cache.ts";
import { encoderResultKey, inputFingerprint } from "../eval_cache/encoder_result_key.ts";
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
  /** Fail (KitError) when fewer items qualify (the mini profile asks for 1,000). */
  minItems?: number;
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
 * **all** `langs`, **one image per concept** (`dMiniItems`: an emoji's drawings share their
 * names, which would make the ground truth ambiguous; a stamp or a WIT image is its own concept),
 * sorted by key (so row i is the same image in every language), their images
 * and first captions embedded with the frozen pair, rows L2-normalised. The checksums record the
 * keys and both encoders' ids. The raw embeddings are cached on disk (lib/eval_cache,
 * `.cache/results/d-embeddings/`) when both encoders have a `fingerprint`, keyed by them, every
 * image's bytes and caption, the code and the numeric backend.
 */
export async function embedDatasetForImagePivot(
  datasetDir: string,
  pair: { image: ImageEncoder; text: SentenceEncoder },
  options: DatasetEmbeddingOptions = {},
): Promise<DatasetAlignmentEmbeddings> {
  const langs = [...(options.langs ?? PAPER_D_LANGUAGES)];
  const partitions = [...(options.partitions ?? ["val", "test"])] as Partition[];
  const records = new Map<string, SampleRecord>();
  const pngs = new Map<string, Uint8Array>();
  for await (const s of iterateDataset(datasetDir)) {
    if (!partitions.includes(s.record.partition)) continue;
    records.set(s.key, s.record);
    pngs.set(s.key, s.png);
  }
  // one image per concept (an emoji's drawings share their captions), sorted by key; the
  // captions are the records' first captions as written (not trimmed: D embeds WIT's as is)
  const items = dMiniItems([...records.values()], {
    languages: langs,
    partitions,
    ...(options.minItems !== undefined ? { minItems: options.minItems } : {}),
  }).map((it) => ({
    key: it.key,
    partition: it.partition,
    png: pngs.get(it.key)!,
    caption: Object.fromEntries(langs.map((l) => [l, records.get(it.key)!.captions[l]![0]!])),
  }));
  const kept = options.limit !== undefined ? items.slice(0, options.limit) : items;
  if (kept.length < 10) {
    throw new KitError(
      `${datasetDir}: only ${kept.length} items of partitions ${
        partitions.join("+")
      } have captions in all of ${langs.join(" ")}; paper D's protocol needs at least 10`,
    );
  }
  const captions: Record<string, string[]> = {};
  for (const l of langs) captions[l] = kept.map((i) => i.caption[l]!);
  const embed = async () => {
    // progress: per batch where the encoder reports it (the paper pair), else per call
    const counted = async <T>(
      bar: ProgressBar,
      rows: number,
      run: (onRows: (k: number) => void) => Promise<T>,
    ) => {
      let seen = 0;
      const out = await run((k) => {
        seen += k;
        bar.tick(k);
      });
      if (seen < rows) bar.tick(rows - seen);
      return out;
    };
    const imageBar = new ProgressBar("embed images", kept.length, { unit: "images" });
    const images = await counted(
      imageBar,
      kept.length,
      (onRows) => pair.image.embed(kept.map((i) => i.png), { onRows }),
    );
    imageBar.done();
    const textBar = new ProgressBar(
      `embed captions (${langs.join(" ")})`,
      kept.length * langs.length,
      { unit: "captions" },
    );
    const text: Record<string, RowMatrix> = {};
    for (const l of langs) {
      text[l] = await counted(
        textBar,
        kept.length,
        (onRows) => pair.text.embed(captions[l]!, l, { onRows }),
      );
    }
    textBar.done();
    return { images, text };
  };
  const key = await encoderResultKey(
    [pair.image, pair.text],
    ["lib/image_pivot/dataset_embeddings.ts"],
    {
      what: "embedDatasetForImagePivot",
      langs,
      images: sha256Hex(kept.map((i) => sha256Hex(i.png)).join("\n")),
      captions: inputFingerprint(captions),
    },
  );
  const { images, text } = key === null ? await embed() : await cachedResult(
    "d-embeddings",
    key,
    embed,
  );
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
