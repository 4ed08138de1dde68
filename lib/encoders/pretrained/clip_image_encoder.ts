import type { ImageEncoder } from "../encoder.ts";
import { rowMatrix } from "../../retrieval/row_matrix.ts";
import { KitError } from "../../util/kit_error.ts";
import { inferenceError, wrapModelLoad } from "./load_errors.ts";
import { folderFingerprint } from "./mean_pooled_text_model.ts";
import {
  locateOnnxFile,
  modelFolderName,
  type OnnxDtype,
  PAPER_MODELS,
  paperModelFolder,
  readModelJson,
  requireModelFiles,
} from "./model_folder.ts";
import { loadTransformers } from "./transformers_runtime.ts";

const SPEC = PAPER_MODELS["clip-vit-b32-image"];

/** Options of `clipImageEncoder`. */
export interface ClipImageOptions {
  /** Images per ONNX call. Default 16. */
  batchSize?: number;
  /** `onnx/vision_model.onnx` (fp32, default), `_fp16` or `_quantized` (q8). */
  dtype?: OnnxDtype;
  device?: "cpu" | "cuda" | "webgpu";
}

interface TensorView {
  readonly dims: readonly number[];
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
  dispose?: () => void;
}

/**
 * CLIP ViT-B/32 image features (paper D's image side: OpenCLIP ViT-B-32 `openai` = Hugging
 * Face `openai/clip-vit-base-patch32`) through transformers.js: the folder's
 * `preprocessor_config.json` (resize, centre crop, CLIP mean/std) and
 * `onnx/vision_model.onnx` (`pixel_values` → `image_embeds`). Input: PNG/JPEG bytes. Rows are
 * the projected 512-d embeddings, **not** normalised.
 *
 * ```ts ignore
 * import { clipImageEncoder } from "./clip_image_encoder.ts";
 * const enc = await clipImageEncoder(); // .cache/models/openai/clip-vit-base-patch32
 * const m = await enc.embed([await Deno.readFile("cat.jpg")]); // 1 × 512
 * enc.dispose();
 * ```
 */
export async function clipImageEncoder(
  folder: string = paperModelFolder("clip-vit-b32-image"),
  opts: ClipImageOptions = {},
): Promise<ImageEncoder> {
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new KitError(`clipImageEncoder: batchSize must be a positive integer, got ${batchSize}`);
  }
  const dtype = opts.dtype ?? "fp32";
  const files = ["config.json", "preprocessor_config.json"];
  await requireModelFiles(folder, SPEC, files);
  const onnx = await locateOnnxFile(folder, SPEC, "vision_model", dtype);
  const config = await readModelJson(folder, "config.json", SPEC);
  const visionConfig = config.vision_config as Record<string, unknown> | undefined;
  const dim = config.projection_dim ?? visionConfig?.projection_dim;
  if (typeof dim !== "number" || !Number.isInteger(dim) || dim <= 0) {
    throw new KitError(
      `${folder}/config.json: expected a positive integer "projection_dim" (CLIP's embedding width), got ${
        JSON.stringify(dim)
      }`,
    );
  }
  const fingerprint = await folderFingerprint(folder, files, onnx.path, dtype);
  const tjs = await loadTransformers();
  const processor = await wrapModelLoad(
    SPEC,
    folder,
    "image processor (preprocessor_config.json)",
    () => tjs.AutoImageProcessor.from_pretrained(folder, { local_files_only: true }),
  );
  const model = await wrapModelLoad(
    SPEC,
    folder,
    `ONNX vision model (${onnx.path})`,
    () =>
      tjs.CLIPVisionModelWithProjection.from_pretrained(folder, {
        local_files_only: true,
        dtype,
        subfolder: onnx.subfolder,
        device: opts.device ?? "cpu",
      }),
  );
  const id = `hf/${modelFolderName(folder)}@${fingerprint}/image`;
  let disposed = false;

  async function embedBatch(images: readonly Uint8Array[], offset: number): Promise<Float32Array> {
    const raw = [];
    for (let i = 0; i < images.length; i++) {
      try {
        raw.push(await tjs.RawImage.fromBlob(new Blob([images[i]! as Uint8Array<ArrayBuffer>])));
      } catch (err) {
        throw new KitError(
          `${id}: image ${offset + i} could not be decoded as PNG/JPEG (${
            err instanceof Error ? err.message : err
          })`,
        );
      }
    }
    let out: Record<string, TensorView>;
    let pixels: TensorView | undefined;
    try {
      pixels = (await processor._call(raw)).pixel_values;
      out = await model._call({ pixel_values: pixels });
    } catch (err) {
      throw inferenceError(id, "running the CLIP vision model", err);
    }
    const e = out.image_embeds;
    if (
      e === undefined || e.dims.length !== 2 || e.dims[0] !== images.length || e.dims[1] !== dim
    ) {
      throw new KitError(
        `${onnx.path}: expected an output "image_embeds" of shape [${images.length}, ${dim}], got ${
          e ? `[${e.dims.join(", ")}]` : `outputs ${Object.keys(out).join(", ")}`
        }`,
      );
    }
    const data = Float32Array.from(e.data as ArrayLike<number>);
    for (const t of [...Object.values(out), pixels]) t?.dispose?.();
    return data;
  }

  return {
    id,
    dim,
    async embed(images: readonly Uint8Array[]) {
      if (disposed) throw new KitError(`${id}: used after dispose()`);
      const data = new Float32Array(images.length * dim);
      for (let s = 0; s < images.length; s += batchSize) {
        data.set(await embedBatch(images.slice(s, s + batchSize), s), s * dim);
      }
      return rowMatrix(data, images.length, dim, id);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      void model.dispose().catch(() => {});
    },
  };
}
