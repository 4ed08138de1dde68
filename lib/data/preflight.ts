import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { holdCacheLock } from "../util/cache_lock.ts";

/**
 * The lock of one data cache's downloads (`<cacheRoot>/downloads.lock`): one fetch at a time
 * writes a given `.cache/data` (or `KIT_DATA_CACHE`) folder, whichever tool runs it.
 */
export function holdDownloadLock(cacheRoot: string): Promise<void> {
  return holdCacheLock("downloads", cacheRoot);
}
import { removeStaleUnpackFolders } from "./archive_unpack.ts";
import type { DatasetDeclaration } from "./dataset.ts";
import {
  DataRegistry,
  describeArchive,
  describeBytes,
  type RegistryOptions,
  UpstreamUnreachable,
} from "./registry.ts";

/** What `ensureMiniData` did. */
export interface PreflightResult {
  /** Datasets already present (cache, mirror or npm). */
  present: string[];
  /** Datasets downloaded by this call. */
  fetched: string[];
}

/** The datasets every run of the mini profile reads (profile `mini` or `both`). */
export function miniProfileDatasets(registry: DataRegistry): DatasetDeclaration[] {
  return registry.list().filter((d) => d.profile === "mini" || d.profile === "both");
}

/**
 * The preflight of `reproduce`, `notebook` and `test`: checks that every file of every
 * mini-profile dataset is present (cache, then mirror, then the npm packages; about a second —
 * the sha256 are checked where the data is read) and downloads each missing dataset from its declared upstream
 * (`DataRegistry.fetchMany`: pinned sizes and sha256, every file checked against its manifest,
 * resumable, staged and moved into place atomically), printing the sizes first — all before any
 * notebook starts. When some cannot be downloaded (offline, no mirror), it throws ONE KitError
 * listing each missing dataset with its URL, size and sha256, and how to provide it.
 */
export async function ensureMiniData(
  opts: RegistryOptions & { log?: (line: string) => void } = {},
): Promise<PreflightResult> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const registry = new DataRegistry({ ...opts, quiet: opts.quiet ?? false });
  const present: string[] = [];
  const missing: DatasetDeclaration[] = [];
  const npmMissing: DatasetDeclaration[] = [];
  for (const d of miniProfileDatasets(registry)) {
    try {
      // presence only (every manifest file there): sha256 is checked where the data is read
      await registry.resolve(d.name, { presenceOnly: true });
      present.push(d.name);
    } catch (err) {
      if (!(err instanceof KitError) || !/not available offline/.test(err.message)) throw err;
      (d.upstream.kind === "npm" ? npmMissing : missing).push(d);
    }
  }
  if (missing.length === 0 && npmMissing.length === 0) return { present, fetched: [] };
  if (npmMissing.length > 0) {
    throw new KitError(
      `${npmMissing.length} mini-profile dataset(s) shipped as npm packages are not installed: ${
        npmMissing.map((d) => d.name).join(", ")
      }; no notebook was started`,
      [
        ...npmMissing.map((d) =>
          d.upstream.kind === "npm"
            ? `${d.name}: npm ${d.upstream.package}@${d.upstream.version}`
            : d.name
        ),
        "run `./kit setup` (npm install) with the npm registry reachable once",
      ],
    );
  }
  const seen = new Set<string>();
  const sizes: (number | null)[] = [];
  for (const d of missing) sizes.push(await registry.downloadBytes(d.name, seen));
  const total = sizes.reduce<number>((a, b) => a + (b ?? 0), 0);
  log(
    `data: ${missing.length} mini-profile dataset(s) missing (no mirror copy, not in ${registry.cacheRoot}); downloading about ${
      describeBytes(total)
    } from their upstreams${registry.upstreamBase ? ` via ${registry.upstreamBase}` : ""}:`,
  );
  missing.forEach((d, i) => log(`  ${d.name.padEnd(24)} ${describeBytes(sizes[i] ?? null)}`));
  await holdDownloadLock(registry.cacheRoot);
  await removeStaleUnpackFolders(join(registry.cacheRoot, ".partial"));
  const fetched: string[] = [];
  const failed: { decl: DatasetDeclaration; reason: string }[] = [];
  const unreachableHosts = new Set<string>();
  // One at a time, so that one unreachable dataset does not stop the others; a shared archive
  // (COCO's annotations) is downloaded once.
  const names = missing.map((d) => d.name);
  await registry.fetchMany(
    names,
    (name, err) => {
      const d = registry.declaration(name);
      const host = hostOf(d);
      if (host && err instanceof UpstreamUnreachable) unreachableHosts.add(host);
      failed.push({ decl: d, reason: err.message });
    },
    (name) => {
      const host = hostOf(registry.declaration(name));
      return host && unreachableHosts.has(host)
        ? new KitError(`not tried: ${host} was unreachable for an earlier dataset`)
        : null;
    },
  );
  for (const n of names) if (!failed.some((f) => f.decl.name === n)) fetched.push(n);
  if (failed.length > 0) throw await offlineMessage(registry, failed);
  return { present, fetched };
}

function hostOf(d: DatasetDeclaration): string | null {
  const up = d.upstream;
  const url = up.kind === "files"
    ? up.baseUrl
    : up.kind === "archives" || up.kind === "recipe"
    ? up.archives[0]?.url
    : undefined;
  return url ? new URL(url).host : null;
}

async function offlineMessage(
  registry: DataRegistry,
  failed: { decl: DatasetDeclaration; reason: string }[],
): Promise<KitError> {
  const lines: string[] = [];
  for (const { decl, reason } of failed) {
    const files = await registry.files(decl.name);
    const up = decl.upstream;
    lines.push(`${decl.name} (${decl.title}): ${reason}`);
    if (up.kind === "files") {
      const bytes = await registry.downloadBytes(decl.name);
      lines.push(
        `    ${up.baseUrl} — ${files.length - (up.mirrorOnly?.length ?? 0)} files, ${
          describeBytes(bytes)
        }; sha256 of each in data/manifests/${decl.name}.json`,
      );
      const first = files.find((f) => !(up.mirrorOnly ?? []).includes(f.path));
      if (first) {
        lines.push(
          `    e.g. ${
            new URL(up.remotePaths?.[first.path] ?? first.path, up.baseUrl).href
          } sha256 ${first.sha256}`,
        );
      }
    } else if (up.kind === "archives" || up.kind === "recipe") {
      for (const a of up.archives) lines.push(`    ${describeArchive(a, files.length)}`);
      if (up.kind === "recipe" && up.baseUrl) {
        const images = files.filter((f) => f.path.startsWith("images/"));
        lines.push(
          `    + ${images.length} images from ${up.baseUrl}<split>/<file> (${
            describeBytes(images.reduce((a, f) => a + (f.bytes ?? 0), 0))
          }; sha256 of each in data/manifests/${decl.name}.json)`,
        );
      }
    }
  }
  lines.push(
    "to fix, any of: connect to the internet and rerun; pass --data-mirror DIR (or set KIT_DATA_MIRROR) to a copy of the data mirror; run `./kit task fetch --profile mini` on a machine with internet and copy .cache/data here; or put each dataset's files in .cache/data/<name>/ (checked against data/manifests/<name>.json)",
  );
  return new KitError(
    `${failed.length} mini-profile dataset(s) are missing and could not be downloaded (offline?); no notebook was started`,
    lines,
  );
}

/**
 * `ensureMiniData` for the entry points (`reproduce`, `notebook`, `test`): on a KitError it
 * prints the one message and exits with status 1, before anything else runs.
 */
export async function preflightMiniData(opts: { mirror: string | null }): Promise<void> {
  try {
    await ensureMiniData({ mirror: opts.mirror });
  } catch (err) {
    if (!(err instanceof KitError)) throw err;
    console.error(`error: ${err.describe()}`);
    Deno.exit(1);
  }
}
