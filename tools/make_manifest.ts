/**
 * Writes `data/manifests/<name>.json` (every file's path, size and sha256) for each mirrored
 * dataset, from a mirror folder (datasets shipped as pinned npm packages: from node_modules).
 * Maintainers run it when the declared data version changes:
 *   ./kit task manifest --data-mirror ../shared/data [NAME ...]
 */
import { join, relative } from "node:path";
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { DATASETS } from "../lib/data/datasets.ts";
import { atomicWriteJson, KitError, PROJECT_ROOT, sha256File } from "../lib/util/mod.ts";

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

const CLI = {
  usage: "./kit task manifest --data-mirror DIR [NAME ...]",
  positionals: ["NAME  a dataset (default: every mirrored or npm-packaged one)"],
  options: {
    "data-mirror": {
      type: "string",
      value: "DIR",
      help: "the mirror to checksum (default: KIT_DATA_MIRROR)",
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values, positionals) => {
  const mirror = values["data-mirror"] ?? Deno.env.get("KIT_DATA_MIRROR");
  const wanted = positionals.length > 0
    ? positionals
    : DATASETS.filter((d) => d.mirrorDir || d.upstream.kind === "npm").map((d) => d.name);
  for (const name of wanted) {
    const d = DATASETS.find((x) => x.name === name);
    if (!d || (!d.mirrorDir && d.upstream.kind !== "npm")) {
      throw new KitError(`dataset "${name}" is unknown, or neither mirrored nor an npm package`);
    }
    let root: string;
    if (d.upstream.kind === "npm") {
      // Pinned npm packages are checksummed where the kit's setup installs them.
      root = join(PROJECT_ROOT, "node_modules", ...d.upstream.package.split("/"));
    } else {
      if (!mirror) throw new KitError("pass --data-mirror DIR (the mirror to checksum)");
      root = join(mirror, d.mirrorDir!);
    }
    const files = [];
    for await (const p of walk(root)) {
      const rel = relative(root, p);
      if (d.mirrorInclude && !d.mirrorInclude.some((pre) => rel.startsWith(pre))) continue;
      files.push({ path: rel, bytes: (await Deno.stat(p)).size, sha256: await sha256File(p) });
    }
    const out = join(PROJECT_ROOT, "data", "manifests", `${name}.json`);
    await atomicWriteJson(out, { name, source: d.homepage, license: d.license, files });
    console.log(`${name}: ${files.length} files -> ${relative(Deno.cwd(), out)}`);
  }
});
