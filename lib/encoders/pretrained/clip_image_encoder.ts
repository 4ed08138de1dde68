import type { EmbedOptions, ImageEncoder } from "../encoder.ts";
import { rowMatrix } from "../../retrieval/row_matrix.ts";
import { KitError } from "../../util/kit_error.ts";
import { inferenceError, wrapModelLoad } from "./load_errors.ts";
import { folderFingerprint } from "./mean_pooled_text_model.ts";
import {
  modelContentFingerprint,
  type ModelContentFingerprintOptions,
  onnxModelFiles,
} from "./model_content_fingerprint.ts";
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
import {
  clipNormalise,
  clipResizeCrop,
  decodeForClip,
  type RgbImage,
} from "../../images/clip_preprocess.ts";

const SPEC = PAPER_MODELS["clip-vit-b32-image"];

/** Options of `clipImageEncoder`. */
export interface ClipImageOptions extends ModelContentFingerprintOptions {
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
 * Face `openai/clip-vit-base-patch32`) through transformers.js's ONNX runtime
 * (`onnx/vision_model.onnx`, `pixel_values` → `image_embeds`). The pixels are made by the kit
 * as OpenCLIP's eval transform makes them (`lib/images/clip_preprocess.ts`: EXIF orientation,
 * transparency on white, shortest side to `size.shortest_edge` with PIL's bicubic filter,
 * centre crop `crop_size` with torchvision's offsets, `image_mean`/`image_std` of the folder's
 * `preprocessor_config.json`) — not by transformers.js's image processor, whose resampling and
 * crop offsets differ from PIL/torchvision. Input: PNG/JPEG bytes. Rows are the projected 512-d
 * embeddings, **not** normalised. Its `fingerprint` (the result caches' key, e.g. of paper D's
 * embeddings) is the content hash of the ONNX file, config.json and preprocessor_config.json and
 * the options that decide the rows (`modelContentFingerprint`; the ONNX file's hash is
 * remembered, so only the first load of a folder reads it whole).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipImageEncoder } from "./clip_image_encoder.ts";
 * // With the paper profile's model (`./kit task fetch --models`):
 * //   const enc = await clipImageEncoder(); // .cache/models/openai/clip-vit-base-patch32
 * //   const m = await enc.embed([await Deno.readFile("cat.jpg")]); // 1 × 512
 * //   enc.dispose();
 * // Without it, each problem is a clear error before anything is loaded:
 * const empty = await Deno.makeTempDir();
 * await assert.rejects(() => clipImageEncoder(empty), /config\.json is missing/);
 * await assert.rejects(() => clipImageEncoder(`${empty}/none`), /does not exist/);
 * await assert.rejects(() => clipImageEncoder(empty, { batchSize: 0 }), /positive integer, got 0/);
 * await Deno.remove(empty);
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
  const device = opts.device ?? "cpu";
  const contentFingerprint = await modelContentFingerprint(
    folder,
    [...files, ...await onnxModelFiles(folder, onnx.path)],
    { encoder: "clip-vit-image", dtype, batchSize, device, preprocess: "openclip-eval" },
    opts.hashCache ? { hashCache: opts.hashCache } : {},
  );
  const pre = clipPreprocessorConfig(
    folder,
    await readModelJson(folder, "preprocessor_config.json", SPEC),
  );
  const tjs = await loadTransformers();
  const model = await wrapModelLoad(
    SPEC,
    folder,
    `ONNX vision model (${onnx.path})`,
    () =>
      tjs.CLIPVisionModelWithProjection.from_pretrained(folder, {
        local_files_only: true,
        dtype,
        subfolder: onnx.subfolder,
        device,
      }),
  );
  const id = `hf/${modelFolderName(folder)}@${fingerprint}/image`;
  let disposed = false;

  async function embedBatch(images: readonly Uint8Array[], offset: number): Promise<Float32Array> {
    const S = pre.crop;
    const pixelData = new Float32Array(images.length * 3 * S * S);
    for (let i = 0; i < images.length; i++) {
      let rgb: RgbImage;
      try {
        rgb = clipResizeCrop(
          await decodeForClip(images[i]!, { jpegRoundTrip: false }),
          pre.resize,
          pre.crop,
        );
      } catch (err) {
        throw new KitError(
          `${id}: image ${offset + i} could not be decoded as PNG/JPEG (${
            err instanceof Error ? err.message : err
          })`,
        );
      }
      pixelData.set(clipNormalise(rgb, pre.mean, pre.std), i * 3 * S * S);
    }
    let out: Record<string, TensorView>;
    const pixels = new tjs.Tensor("float32", pixelData, [images.length, 3, S, S]);
    try {
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
    for (const t of Object.values(out)) t.dispose?.();
    pixels.dispose();
    return data;
  }

  return {
    id,
    dim,
    fingerprint: contentFingerprint,
    async embed(images: readonly Uint8Array[], opts: EmbedOptions = {}) {
      if (disposed) throw new KitError(`${id}: used after dispose()`);
      const data = new Float32Array(images.length * dim);
      for (let s = 0; s < images.length; s += batchSize) {
        const batch = images.slice(s, s + batchSize);
        data.set(await embedBatch(batch, s), s * dim);
        opts.onRows?.(batch.length);
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

/** The geometry and normalisation of a CLIP `preprocessor_config.json`. */
export interface ClipPreprocessorConfig {
  resize: number;
  crop: number;
  mean: number[];
  std: number[];
}

/** Reads `size.shortest_edge`, `crop_size`, `image_mean`, `image_std` (KitError naming the key). */
export function clipPreprocessorConfig(
  folder: string,
  cfg: Record<string, unknown>,
): ClipPreprocessorConfig {
  const where = `${folder}/preprocessor_config.json`;
  const side = (v: unknown, key: string, field: string): number => {
    const n = typeof v === "number" ? v : (v as Record<string, unknown> | undefined)?.[field];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new KitError(
        `${where}: expected "${key}" as a positive integer or {${field}}, got ${JSON.stringify(v)}`,
      );
    }
    return n;
  };
  const triple = (v: unknown, key: string): number[] => {
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === "number")) {
      throw new KitError(`${where}: expected "${key}" as three numbers, got ${JSON.stringify(v)}`);
    }
    return v as number[];
  };
  const resize = side(cfg.size, "size", "shortest_edge");
  const crop = cfg.crop_size === undefined ? resize : side(cfg.crop_size, "crop_size", "height");
  if (crop > resize) {
    throw new KitError(`${where}: crop_size ${crop} is larger than the resized side ${resize}`);
  }
  return {
    resize,
    crop,
    mean: triple(cfg.image_mean, "image_mean"),
    std: triple(cfg.image_std, "image_std"),
  };
}
