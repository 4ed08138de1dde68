import { KitError } from "../util/kit_error.ts";
import { type SourceIssue, sourceIssue } from "./source_issue.ts";
import { readText } from "./text_io.ts";

/** One image of a COCO caption file. */
export interface CocoImage {
  id: number;
  fileName: string;
  width: number;
  height: number;
  /** Licence id (see `CocoCaptions.licenses`). */
  license: number | null;
  cocoUrl: string | null;
  flickrUrl: string | null;
  /** `train2017` / `val2017` where the file says so (the mirror's subset adds it). */
  split: string | null;
  /** The image's captions in file order, trimmed. */
  captions: { id: number; caption: string }[];
}

/** The content of an MS-COCO caption annotation file (`captions_{train,val}2017.json`). */
export interface CocoCaptions {
  images: CocoImage[];
  licenses: Map<number, { name: string; url: string }>;
  issues: SourceIssue[];
}

type Json = Record<string, unknown>;

function num(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}
function str(x: unknown): string | null {
  return typeof x === "string" ? x : null;
}

/**
 * Parses an official MS-COCO caption file (`{info, licenses, images, annotations}`; the
 * `annotations` hold `{image_id, id, caption}`). Images are sorted by id, captions kept in file
 * order and trimmed. An annotation naming an unknown image, or with an empty caption, is an issue.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCocoCaptions } from "./coco_captions.ts";
 * const c = parseCocoCaptions({
 *   images: [{ id: 1, file_name: "000000000001.jpg", width: 2, height: 2 }],
 *   annotations: [{ image_id: 1, id: 9, caption: " A cat. " }],
 * }, "x.json");
 * assert(c.images[0]!.captions[0]!.caption === "A cat.");
 * ```
 */
export function parseCocoCaptions(json: unknown, file: string, source = "coco"): CocoCaptions {
  if (typeof json !== "object" || json === null) {
    throw new KitError(`${file}: expected a JSON object`);
  }
  const obj = json as Json;
  if (!Array.isArray(obj.images) || !Array.isArray(obj.annotations)) {
    throw new KitError(
      `${file}: not a COCO caption file (expected "images" and "annotations" arrays)`,
    );
  }
  const issues: SourceIssue[] = [];
  const licenses = new Map<number, { name: string; url: string }>();
  if (Array.isArray(obj.licenses)) {
    for (const l of obj.licenses as Json[]) {
      const id = num(l.id);
      if (id !== null) licenses.set(id, { name: str(l.name) ?? "", url: str(l.url) ?? "" });
    }
  }
  const byId = new Map<number, CocoImage>();
  (obj.images as Json[]).forEach((im, i) => {
    const id = num(im.id);
    const fileName = str(im.file_name);
    if (id === null || fileName === null) {
      issues.push(
        sourceIssue(source, file, "malformed image entry", {
          detail: `images[${i}] lacks id or file_name`,
        }),
      );
      return;
    }
    byId.set(id, {
      id,
      fileName,
      width: num(im.width) ?? 0,
      height: num(im.height) ?? 0,
      license: num(im.license),
      cocoUrl: str(im.coco_url),
      flickrUrl: str(im.flickr_url),
      split: str(im.split),
      captions: [],
    });
  });
  (obj.annotations as Json[]).forEach((a, i) => {
    const imageId = num(a.image_id);
    const caption = str(a.caption)?.trim() ?? "";
    const image = imageId === null ? undefined : byId.get(imageId);
    if (!image) {
      issues.push(
        sourceIssue(source, file, "caption of unknown image", {
          detail: `annotations[${i}] image_id ${a.image_id}`,
        }),
      );
      return;
    }
    if (caption === "") {
      issues.push(
        sourceIssue(source, file, "empty caption", { detail: `annotations[${i}] (id ${a.id})` }),
      );
      return;
    }
    image.captions.push({ id: num(a.id) ?? i, caption });
  });
  const images = [...byId.values()].sort((a, b) => a.id - b.id);
  return { images, licenses, issues };
}

/** Reads and parses an official MS-COCO caption file (plain or `.gz`). */
export async function loadCocoCaptions(path: string, source = "coco"): Promise<CocoCaptions> {
  let json: unknown;
  try {
    json = JSON.parse(await readText(path));
  } catch (err) {
    if (err instanceof SyntaxError) throw new KitError(`${path}: not valid JSON (${err.message})`);
    throw err;
  }
  return parseCocoCaptions(json, path, source);
}

/** The 12-digit COCO file name of an image id, e.g. `000000000139.jpg`. */
export function cocoFileName(id: number): string {
  return `${String(id).padStart(12, "0")}.jpg`;
}
