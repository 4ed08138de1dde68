/**
 * One loader per data source, with typed records; every dropped item is a `SourceIssue`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStampDescription, witImageKey } from "./mod.ts";
 * assert(parseStampDescription("A cat.\n", "cat.txt").captions.en === "A cat.");
 * assert(witImageKey("https://x/y.jpg").length === 20);
 * ```
 */
export * from "./source_issue.ts";
export * from "./text_io.ts";
export * from "./tuxpaint_stamps.ts";
export * from "./coco_captions.ts";
export * from "./caption_records.ts";
export * from "./wit.ts";
export * from "./multi30k.ts";
export * from "./xtd10.ts";
export * from "./parallel_sentences.ts";
export * from "./flores.ts";
export * from "./sib200.ts";
export * from "./nli_example.ts";
export * from "./xnli.ts";
export * from "./multinli.ts";
export * from "./americasnli.ts";
export * from "./wit_image_download.ts";
export * from "./cldr_emoji.ts";
