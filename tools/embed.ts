/**
 * `./kit task embed --model DIR --texts FILE|--images DIR --out X.npy [--batch-size 32] [--max-length 128]`
 *
 * Embeds one text per line of FILE (empty lines kept as empty texts) with the XLM-R model folder
 * DIR (config.json, model.safetensors, tokenizer.json, tokenizer_config.json): the last hidden
 * state mean-pooled over real tokens (`<s>` and `</s>` included, padding excluded), written as a
 * float32 `.npy` of shape [texts, hidden] (atomically). With `--images DIR` and a ViT folder
 * (config.json, model.safetensors, preprocessor_config.json): every .png/.jpg/.jpeg of DIR in
 * name order, preprocessed as the folder says, mean-pooled over all tokens. Shows a progress
 * bar. With `--projection` (texts only), DIR must be a trained K setup folder (notebook 02's,
 * with `projection.safetensors`): the pooled rows go through K's `text_projection`, as K's
 * evaluation embeds the tuned setups; a folder without one is an error. FILE must be UTF-8 with
 * lines of at most 100 000 bytes (checked before tokenising; the line is named otherwise).
 */
import { join } from "node:path";
import { type CliSpec, runCli, UsageError } from "../lib/util/cli.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  loadSafetensorsImageModel,
  loadSafetensorsTextModel,
} from "../lib/encoders/safetensors_model_folder.ts";
import { writeNpy } from "../lib/io/npy.ts";
import { applyKTextProjection, readKTextProjection } from "../lib/k_finetune/k_setup_folder.ts";
import { readTextLines } from "../lib/io/text_lines.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { ProgressBar } from "../lib/util/progress.ts";

/** Options of `embedTextsFile`. */
export interface EmbedOptions {
  model: string;
  texts: string;
  out: string;
  batchSize?: number;
  maxLength?: number;
  silent?: boolean;
  /** Apply the setup folder's `text_projection` (K's evaluated embedding). */
  projection?: boolean;
}

/** Image files of `dir` (.png, .jpg, .jpeg), sorted by name. */
export async function listImages(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /\.(png|jpe?g)$/i.test(e.name)) names.push(e.name);
    }
  } catch (err) {
    throw new KitError(`${dir}: cannot list images (${err instanceof Error ? err.message : err})`);
  }
  if (names.length === 0) throw new KitError(`${dir}: no .png/.jpg/.jpeg images`);
  return names.sort().map((n) => join(dir, n));
}

/** Embeds the images of directory `o.images` with the ViT folder `o.model`; returns [rows, dim]. */
export async function embedImagesDir(
  o: { model: string; images: string; out: string; batchSize?: number; silent?: boolean },
): Promise<[number, number]> {
  const paths = await listImages(o.images);
  const model = await loadSafetensorsImageModel(o.model, { batchSize: o.batchSize });
  try {
    const bytes = await Promise.all(paths.map(async (p) => {
      try {
        return await Deno.readFile(p);
      } catch (err) {
        throw new KitError(`${p}: cannot read (${err instanceof Error ? err.message : err})`);
      }
    }));
    const bar = new ProgressBar("embed", paths.length, { silent: o.silent, unit: "images" });
    let done = 0;
    const x = await model.embed(bytes, (n) => {
      bar.tick(n - done);
      done = n;
    }, paths);
    bar.done();
    await writeNpy(o.out, { dtype: "<f4", shape: [paths.length, model.hiddenSize], data: x });
    return [paths.length, model.hiddenSize];
  } finally {
    model.dispose();
  }
}

/** Embeds the texts of `o.texts` with `o.model` and writes `o.out`; returns [rows, dim]. */
export async function embedTextsFile(o: EmbedOptions): Promise<[number, number]> {
  const texts = await readTextLines(o.texts);
  if (texts.length === 0) throw new KitError(`${o.texts}: no texts (one a line)`);
  const proj = o.projection ? await readKTextProjection(o.model) : null;
  const model = await loadSafetensorsTextModel(o.model, {
    batchSize: o.batchSize,
    maxLength: o.maxLength,
  });
  try {
    const bar = new ProgressBar("embed", texts.length, { silent: o.silent, unit: "texts" });
    let done = 0;
    const x = await model.embed(texts, (n) => {
      bar.tick(n - done);
      done = n;
    });
    bar.done();
    if (proj) {
      if (proj.inDim !== model.hiddenSize) {
        throw new KitError(
          `${o.model}: projection expects ${proj.inDim}-d input, the model is ${model.hiddenSize}-d`,
        );
      }
      const y = await applyKTextProjection(proj, x, texts.length);
      await writeNpy(o.out, { dtype: "<f4", shape: [texts.length, proj.outDim], data: y });
      return [texts.length, proj.outDim];
    }
    await writeNpy(o.out, { dtype: "<f4", shape: [texts.length, model.hiddenSize], data: x });
    return [texts.length, model.hiddenSize];
  } finally {
    model.dispose();
  }
}

const CLI = {
  usage: "./kit task embed --model DIR (--texts FILE | --images DIR) --out X.npy [options]",
  options: {
    model: {
      type: "string",
      value: "DIR",
      help: "model folder (XLM-R for --texts, ViT for --images, a K setup with --projection)",
    },
    texts: { type: "string", value: "FILE", help: "one text per line (empty lines kept)" },
    images: { type: "string", value: "DIR", help: "every .png/.jpg/.jpeg of DIR in name order" },
    out: { type: "string", value: "X.npy", help: "the float32 .npy written (atomically)" },
    "batch-size": { type: "integer", value: "N", min: 1, help: "rows per forward pass" },
    "max-length": { type: "integer", value: "N", min: 1, help: "tokens per text at most" },
    backend: {
      type: "string",
      value: "NAME",
      help: "TF.js backend (default: KIT_BACKEND, else auto)",
    },
    projection: {
      type: "boolean",
      help: "texts only: through the K setup folder's text_projection",
    },
  },
} as const satisfies CliSpec;

if (import.meta.main) {
  await runCli(CLI, async (values) => {
    if (!values.model || !values.out || !values.texts === !values.images) {
      throw new UsageError(
        "expected --model DIR, --out X.npy and one of --texts FILE or --images DIR",
      );
    }
    if (values.projection && values.images) {
      throw new UsageError("--projection applies to text embeddings (--texts) only");
    }
    await initBackend(values.backend as Parameters<typeof initBackend>[0]);
    const batchSize = values["batch-size"];
    const [n, d] = values.images
      ? await embedImagesDir({
        model: values.model,
        images: values.images,
        out: values.out,
        batchSize,
      })
      : await embedTextsFile({
        model: values.model,
        texts: values.texts!,
        out: values.out,
        batchSize,
        maxLength: values["max-length"],
        projection: values.projection,
      });
    console.log(`wrote ${values.out}: ${n} × ${d} float32`);
  });
}
