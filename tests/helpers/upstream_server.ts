/**
 * A local stand-in for the datasets' upstream servers: an HTTP server on 127.0.0.1 that serves
 * `/<host>/<path>` for each upstream URL `https://<host>/<path>` (what `KIT_DATA_BASE_URL`
 * redirects to), with range requests. `miniUpstreamRoutes` builds every mini-profile upstream
 * from the data mirror's files: plain files as they are; archives rebuilt in their declared
 * format (a .deb with `dpkg-deb`, zips with the tests' own writer); COCO's train captions and
 * XNLI's xnli.dev.tsv re-assembled from the mirror's derived files.
 */
import { join } from "node:path";
import { DataRegistry } from "../../lib/data/registry.ts";
import { miniProfileDatasets } from "../../lib/data/preflight.ts";
import { buildDeb, buildZip } from "./archive_builders.ts";

/** A route's body: a file on disk or bytes. */
export type RouteBody = { file: string } | { bytes: Uint8Array };

export interface UpstreamServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Paths requested, with their Range header. */
  requests: { path: string; range: string | null }[];
  close(): Promise<void>;
}

/** Serves `routes` (keyed by `/<host>/<path>`) on 127.0.0.1, an ephemeral port. */
export function serveUpstreams(routes: Map<string, RouteBody>): UpstreamServer {
  const requests: UpstreamServer["requests"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const range = req.headers.get("range");
    requests.push({ path, range });
    const body = routes.get(path);
    if (!body) return new Response("not found", { status: 404 });
    const bytes = "bytes" in body ? body.bytes : await Deno.readFile(body.file);
    const m = range?.match(/^bytes=(\d+)-$/);
    if (m) {
      const from = Number(m[1]);
      if (from >= bytes.length) return new Response(null, { status: 416 });
      return new Response(bytes.slice(from) as BodyInit, {
        status: 206,
        headers: {
          "content-length": String(bytes.length - from),
          "content-range": `bytes ${from}-${bytes.length - 1}/${bytes.length}`,
        },
      });
    }
    return new Response(bytes as BodyInit, { headers: { "content-length": String(bytes.length) } });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    base: `http://127.0.0.1:${addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** `/<host>/<path>` of an upstream URL. */
export function routeOf(url: string): string {
  const u = new URL(url);
  return `/${u.host}${decodeURIComponent(u.pathname)}`;
}

/** Python csv (tab) field parsing of one line, the inverse of the XTREME TSV writer. */
function parseTabCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = "";
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') (s += '"'), (i += 2);
        else if (line[i] === '"') {
          i++;
          break;
        } else s += line[i++];
      }
      out.push(s);
      i++; // the tab
    } else {
      const j = line.indexOf("\t", i);
      out.push(line.slice(i, j < 0 ? line.length : j));
      i = j < 0 ? line.length + 1 : j + 1;
    }
  }
  return out;
}

/**
 * Every mini-profile upstream (non-npm) built from the mirror, keyed by route. Archives are
 * written under `work`.
 */
export async function miniUpstreamRoutes(
  mirror: string,
  work: string,
): Promise<Map<string, RouteBody>> {
  const registry = new DataRegistry({ mirror: null, cacheRoot: join(work, "unused") });
  const routes = new Map<string, RouteBody>();
  const enc = new TextEncoder();
  // recipes first: COCO's annotations zip serves coco-captions-val2017 too
  const datasets = miniProfileDatasets(registry).sort((a, b) =>
    Number(b.upstream.kind === "recipe") - Number(a.upstream.kind === "recipe")
  );
  for (const d of datasets) {
    const up = d.upstream;
    const files = await registry.files(d.name);
    const dir = join(mirror, d.mirrorDir ?? d.name);
    if (up.kind === "files") {
      for (const f of files) {
        if (up.mirrorOnly?.includes(f.path)) continue;
        const url = new URL(up.remotePaths?.[f.path] ?? f.path, up.baseUrl).href;
        routes.set(routeOf(url), { file: join(dir, f.path) });
      }
    } else if (up.kind === "archives") {
      for (const a of up.archives) {
        if (routes.has(routeOf(a.url))) continue;
        if (a.format !== "deb") throw new Error(`${d.name}: no test builder for ${a.format}`);
        const contents = new Map(files.map((f) => [`${a.strip}/${f.path}`, join(dir, f.path)]));
        routes.set(routeOf(a.url), { file: await buildDeb(work, d.name, contents) });
      }
    } else if (up.kind === "recipe" && up.recipe === "xnli-xtreme-dev") {
      // xnli.dev.tsv: header, then language, gold label, 4 parse columns, sentence1, sentence2, …
      let tsv =
        "language\tgold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tpromptID\tpairID\n";
      for (const f of files) {
        const lang = f.path.match(/^dev-(\w+)\.tsv$/)![1]!;
        const text = await Deno.readTextFile(join(dir, f.path));
        for (const line of text.split("\r\n").filter((l) => l !== "")) {
          const [s1, s2, label] = parseTabCsvLine(line);
          tsv += `${lang}\t${label}\t-\t-\t-\t-\t${s1}\t${s2}\t0\t0\n`;
        }
      }
      const a = up.archives[0]!;
      routes.set(routeOf(a.url), {
        bytes: await buildZip([
          { name: "XNLI-1.0/" },
          { name: "XNLI-1.0/xnli.dev.tsv", data: enc.encode(tsv), deflate: true },
          { name: "XNLI-1.0/xnli.test.tsv", data: enc.encode("language\n"), deflate: true },
        ]),
      });
    } else if (up.kind === "recipe" && up.recipe === "coco-subset") {
      // COCO's annotations zip: the mirror's val captions, and train captions re-assembled from
      // the subset (its train2017 images and their captions)
      const subset = JSON.parse(await Deno.readTextFile(join(dir, "captions_subset.json")));
      const trainImages = subset.images
        .filter((i: { split: string }) => i.split === "train2017")
        .map(({ split: _, ...rest }: Record<string, unknown>) => rest);
      const ids = new Set(trainImages.map((i: { id: number }) => i.id));
      const train = {
        info: { description: "test stand-in for COCO 2017 train captions" },
        licenses: subset.licenses,
        images: trainImages,
        annotations: subset.annotations.filter((a: { image_id: number }) => ids.has(a.image_id)),
      };
      const a = up.archives[0]!;
      routes.set(routeOf(a.url), {
        bytes: await buildZip([
          { name: "annotations/" },
          {
            name: "annotations/captions_train2017.json",
            data: enc.encode(JSON.stringify(train)),
            deflate: true,
          },
          {
            name: "annotations/captions_val2017.json",
            data: await Deno.readFile(join(dir, "captions_val2017.json")),
            deflate: true,
          },
          { name: "annotations/instances_val2017.json", data: enc.encode("{}") },
        ]),
      });
      for (const i of subset.images as { file_name: string; split: string }[]) {
        routes.set(routeOf(new URL(`${i.split}/${i.file_name}`, up.baseUrl).href), {
          file: join(dir, "images", i.file_name),
        });
      }
    }
  }
  return routes;
}
