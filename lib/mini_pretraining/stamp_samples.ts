import { buildMiniDataset } from "../dataset_build/mini_dataset.ts";
import { iterateDataset } from "../dataset_build/read_dataset.ts";
import type { Partition } from "../dataset_build/sample.ts";
import { kitConfig } from "../config/kit_config.ts";

/** One image of the mini dataset as the training code uses it. */
export interface StampSample {
  /** Dataset key (20 hex characters). */
  key: string;
  partition: Partition;
  /** Dataset source (`tuxpaint-stamps`, `cldr-emoji`, …). */
  source: string;
  /** Item id in its source: stamp path (`food/fruit/cartoon/grapes`), emoji drawing (`noto/1f408`). */
  sourceId: string;
  /**
   * The concept the image shows: the record's `group` (`emoji:1f408`; every drawing of an emoji
   * shares it), else the key. Partitions are split by it.
   */
  concept: string;
  /**
   * The ViT analog's pretraining class: a stamp's category folder (`food/fruit`), an emoji's
   * concept (`emoji:1f408`, so its drawing sets share a class — not the drawing set).
   */
  category: string;
  /** First caption per locale. */
  captions: Record<string, string>;
  /** 64×64 RGB PNG. */
  png: Uint8Array;
}

/** The stamp's category folder (first two folders of `sourceId`). */
export function stampCategory(sourceId: string): string {
  const folders = sourceId.split("/").slice(0, -1);
  return (folders.length > 0 ? folders : ["(root)"]).slice(0, 2).join("/");
}

/**
 * The mini dataset's images with captions and partition, in key order (building the dataset
 * first when notebook 00 has not: the build is idempotent and cached).
 */
export async function loadStampSamples(
  opts: { smoke?: boolean } = {},
): Promise<{ samples: StampSample[]; datasetHash: string; dir: string }> {
  const smoke = opts.smoke ?? kitConfig().smoke;
  const built = await buildMiniDataset({ smoke });
  const samples: StampSample[] = [];
  for await (const s of iterateDataset(built.dir, { manifest: built.manifest })) {
    const captions: Record<string, string> = {};
    for (const [lang, list] of Object.entries(s.record.captions)) {
      if (list[0] && list[0].trim() !== "") captions[lang] = list[0].trim();
    }
    const concept = s.record.group ?? s.key;
    samples.push({
      key: s.key,
      partition: s.record.partition,
      source: s.record.source,
      sourceId: s.record.sourceId,
      concept,
      category: s.record.group ? concept : stampCategory(s.record.sourceId),
      captions,
      png: s.png,
    });
  }
  samples.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { samples, datasetHash: built.manifest.configHash, dir: built.dir };
}
