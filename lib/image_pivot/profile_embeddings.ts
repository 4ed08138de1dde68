import { kitConfig } from "../config/kit_config.ts";
import { buildDataset } from "../dataset_build/build_dataset.ts";
import { D_WIT_BUILD } from "../dataset_build/d_wit_build.ts";
import { paperWitSource } from "../dataset_build/dataset_sources.ts";
import { buildMiniDataset } from "../dataset_build/mini_dataset.ts";
import type { Partition } from "../dataset_build/sample.ts";
import { loadClipSpacePair } from "../models/mod.ts";
import {
  type DatasetAlignmentEmbeddings,
  embedDatasetForImagePivot,
} from "./dataset_embeddings.ts";

/** Paper D's evaluation embeddings for the active profile, and what they were made from. */
export interface ProfileImagePivotEmbeddings {
  embeddings: DatasetAlignmentEmbeddings;
  datasetDir: string;
  /** The frozen pair's ids and training data, for notes and provenance. */
  imageEncoder: string;
  textEncoder: string;
  trainedOn: string;
  partitions: Partition[];
}

/**
 * The embeddings notebook 05 analyses. Mini: the mini dataset's val+test stamps with captions in
 * all nine of D's languages, embedded with the kit's own frozen CLIP-space pair (trained on the
 * train stamps only, so no evaluated image was seen); smoke runs use every partition of the
 * 60-stamp smoke set. Paper: D's WIT set (train+val+test shards, nine languages, images as
 * D's CLIP input, no byte dedupe: `D_WIT_BUILD`; built by notebook 00) embedded with OpenCLIP
 * ViT-B-32 and clip-ViT-B-32-multilingual-v1.
 */
export async function profileImagePivotEmbeddings(
  opts: { smoke?: boolean; profile?: "mini" | "paper" } = {},
): Promise<ProfileImagePivotEmbeddings> {
  const cfg = kitConfig();
  const smoke = opts.smoke ?? cfg.smoke;
  const profile = opts.profile ?? cfg.profile;
  const datasetDir = profile === "paper"
    ? (await buildDataset({
      sources: [await paperWitSource()],
      profile: "paper",
      ...D_WIT_BUILD,
    })).dir
    : (await buildMiniDataset({ smoke })).dir;
  const partitions: Partition[] = profile === "paper" || smoke
    ? ["train", "val", "test"]
    : ["val", "test"];
  const pair = await loadClipSpacePair({ smoke });
  try {
    const embeddings = await embedDatasetForImagePivot(datasetDir, pair, { partitions });
    return {
      embeddings,
      datasetDir,
      imageEncoder: pair.image.id,
      textEncoder: pair.text.id,
      trainedOn: pair.trainedOn,
      partitions,
    };
  } finally {
    pair.image.dispose();
    pair.text.dispose();
  }
}
