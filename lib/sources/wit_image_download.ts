import { join } from "node:path";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { ProgressBar } from "../util/progress.ts";
import { sniffImageBytes } from "../images/sniff_image.ts";
import type { WitRecord } from "./wit.ts";
import { type SourceIssue, sourceIssue } from "./source_issue.ts";
import { pathExists } from "./text_io.ts";

/** Options of `downloadWitImages`. */
export interface WitDownloadOptions {
  /** Injected for tests; default `globalThis.fetch`. */
  fetchFn?: typeof fetch;
  /** Parallel requests (default 4; Wikimedia asks for moderation). */
  concurrency?: number;
  /** Sent as `User-Agent` (Wikimedia's policy requires a descriptive one with contact). */
  userAgent?: string;
  /** Attempts per image for network errors and HTTP 429/5xx (default 3). */
  retries?: number;
  /** First back-off in ms, doubled per attempt (default 500). */
  retryDelayMs?: number;
  quiet?: boolean;
}

const EXT: Record<string, string> = {
  png: "png",
  jpeg: "jpg",
  gif: "gif",
  webp: "webp",
  tiff: "tif",
  svg: "svg",
  avif: "avif",
  heif: "heic",
};

/**
 * Downloads the images of WIT records into `dir` as `<key>.<ext>` (extension from the bytes),
 * skipping keys already present, each written atomically (a killed run leaves no partial image).
 * `http://upload.wikimedia.org` is fetched over https. Responses that are not images (an HTML or
 * JSON error page with status 200, an empty body) and HTTP errors are returned as issues, not
 * written. Validation proper (decoding, truncation) happens in the dataset build.
 */
export async function downloadWitImages(
  records: readonly WitRecord[],
  dir: string,
  opts: WitDownloadOptions = {},
): Promise<{ downloaded: number; present: number; issues: SourceIssue[] }> {
  const fetchFn = opts.fetchFn ?? globalThis.fetch.bind(globalThis);
  const retries = opts.retries ?? 3;
  const ua = opts.userAgent ??
    "image-pivot-repro-kit/1.0 (dataset build; offline reproduction of two papers)";
  await Deno.mkdir(dir, { recursive: true });
  const have = new Set<string>();
  for await (const e of Deno.readDir(dir)) {
    const m = /^([0-9a-f]{20})\.[a-z]+$/.exec(e.name);
    if (e.isFile && m) have.add(m[1]!);
  }
  const todo = records.filter((r) => !have.has(r.key));
  const issues: SourceIssue[] = [];
  let downloaded = 0;
  const bar = new ProgressBar("download WIT images", todo.length, {
    silent: opts.quiet ?? false,
    unit: "images",
  });
  let next = 0;
  const worker = async () => {
    for (;;) {
      const r = todo[next++];
      if (!r) return;
      const url = r.imageUrl.startsWith("http://upload.wikimedia.org/")
        ? `https://${r.imageUrl.slice(7)}`
        : r.imageUrl;
      let bytes: Uint8Array | null = null;
      let why = "";
      for (let attempt = 1; attempt <= retries && !bytes; attempt++) {
        try {
          const res = await fetchFn(url, {
            headers: { "User-Agent": ua, Accept: "image/*,*/*;q=0.8" },
          });
          if (res.ok) {
            bytes = new Uint8Array(await res.arrayBuffer());
          } else {
            why = `HTTP ${res.status}`;
            await res.body?.cancel();
            if (res.status !== 429 && res.status < 500) break;
          }
        } catch (err) {
          why = `network error: ${err instanceof Error ? err.message : err}`;
        }
        if (!bytes && attempt < retries) {
          await new Promise((ok) =>
            setTimeout(ok, (opts.retryDelayMs ?? 500) * 2 ** (attempt - 1))
          );
        }
      }
      if (!bytes) {
        issues.push(sourceIssue("wit", `${r.key}`, "download failed", { detail: `${why} ${url}` }));
      } else {
        const s = sniffImageBytes(bytes);
        if (s.kind === "not-image") {
          issues.push(sourceIssue("wit", `${r.key}`, s.reason, { detail: `${s.detail} (${url})` }));
        } else {
          const target = join(dir, `${r.key}.${EXT[s.format] ?? "img"}`);
          if (!(await pathExists(target))) await atomicWriteFile(target, bytes);
          downloaded++;
        }
      }
      bar.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  bar.done();
  return { downloaded, present: have.size, issues };
}
