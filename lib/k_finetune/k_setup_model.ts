import { join } from "node:path";
import { ParameterSet } from "../encoders/parameter_set.ts";
import { XlmRobertaEncoder } from "../encoders/xlm_roberta_encoder.ts";
import { VitEncoder } from "../encoders/vit_encoder.ts";
import {
  readEncoderConfig,
  type VitConfig,
  type XlmRobertaConfig,
} from "../encoders/encoder_config.ts";
import { loadSafetensorsWeights } from "../encoders/safetensors_weights.ts";
import { SubwordTokenizer } from "../encoders/subword_tokenizer.ts";
import { readTrainingRecord, type TrainingRecord } from "../model_cache/training_record.ts";
import { readParameterSetInto } from "../resumable_training/parameter_set_file.ts";
import { kHeadSpecs } from "./k_head_specs.ts";
import type { KFineTunePlan } from "./k_setup_loop.ts";
import type { KTrainedSetup } from "./k_training_set.ts";
import { modelFileReadOptions } from "../model_cache/model_file_policy.ts";

/** A trained K setup: both towers, projections, scale and the tokenizer. */
export interface KSetupModel {
  setup: KTrainedSetup;
  dir: string;
  text: XlmRobertaEncoder;
  image: VitEncoder;
  head: ParameterSet;
  tokenizer: SubwordTokenizer;
  maxLength: number;
  training: TrainingRecord;
  dispose(): void;
}

/** Loads a finished K setup folder. */
export async function loadKSetupModel(
  dir: string,
  setup: KTrainedSetup,
  maxLength: number,
): Promise<KSetupModel> {
  const tc = await readEncoderConfig(join(dir, "text_config.json")) as XlmRobertaConfig;
  const ic = await readEncoderConfig(join(dir, "image_config.json")) as VitConfig;
  const text = new XlmRobertaEncoder(tc);
  const image = new VitEncoder(ic);
  await loadSafetensorsWeights(
    text,
    join(dir, "text_encoder.safetensors"),
    modelFileReadOptions(join(dir, "text_encoder.safetensors")),
  );
  await loadSafetensorsWeights(
    image,
    join(dir, "image_encoder.safetensors"),
    modelFileReadOptions(join(dir, "image_encoder.safetensors")),
  );
  const training = await readTrainingRecord(dir);
  const pd = (training.plan as KFineTunePlan).projectionDim;
  const head = new ParameterSet(kHeadSpecs(text.dim, image.dim, pd), 0);
  await readParameterSetInto(
    head,
    join(dir, "projection.safetensors"),
    modelFileReadOptions(join(dir, "projection.safetensors")),
  );
  const tokenizer = await SubwordTokenizer.read(join(dir, "tokenizer.json"));
  return {
    setup,
    dir,
    text,
    image,
    head,
    tokenizer,
    maxLength,
    training,
    dispose: () => [text, image, head].forEach((m) => m.dispose()),
  };
}
