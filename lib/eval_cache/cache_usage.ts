import { join } from "node:path";
import { atomicWriteJson } from "../util/atomic_write.ts";
import { cacheDir } from "../util/paths.ts";

/**
 * Which cache entries are still in use. Every result-cache entry read or written, and every
 * trained-model folder loaded, has its modification time set to now ({@link markUsed}); a
 * complete `reproduce` of a profile records when it started ({@link recordCompleteRun}). An
 * entry older than the start of the latest complete run of every profile run so far was used by
 * none of them: the current code and models no longer reach it, and `./kit task cache --prune`
 * removes it.
 */

/** The record of complete runs: `<cache>/results/.complete-runs.json`, profile → start (ms). */
function runsPath(root = cacheDir()): string {
  return join(root, "results", ".complete-runs.json");
}

/** Sets `path`'s modification time to now (a used entry); errors (read-only cache) ignored. */
export async function markUsed(path: string): Promise<void> {
  const now = new Date();
  try {
    await Deno.utime(path, now, now);
  } catch { /* a read-only cache: nothing is pruned from it either */ }
}

/** Records that a complete run of `profile` (e.g. `mini`, `paper-smoke`) started at `startMs`. */
export async function recordCompleteRun(
  profile: string,
  startMs: number,
  root = cacheDir(),
): Promise<void> {
  const runs = await completeRuns(root);
  runs[profile] = startMs;
  await atomicWriteJson(runsPath(root), runs);
}

/** Profile → start time (ms) of its latest complete run. */
export async function completeRuns(root = cacheDir()): Promise<Record<string, number>> {
  try {
    const v = JSON.parse(await Deno.readTextFile(runsPath(root)));
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v).filter((e): e is [string, number] => typeof e[1] === "number"),
      );
    }
  } catch { /* none yet */ }
  return {};
}

/** One cache folder's size, and what pruning would remove from it. */
export interface CacheFolderUsage {
  /** Path relative to the cache root (`results/nli`, `models`, `translation`, ...). */
  folder: string;
  bytes: number;
  files: number;
  /** Entries unused since the cut-off (result files, model folders) and their bytes. */
  stale: string[];
  staleBytes: number;
}

async function walkSize(path: string): Promise<{ bytes: number; files: number; mtime: number }> {
  let bytes = 0, files = 0, mtime = 0;
  const st = await Deno.lstat(path);
  if (!st.isDirectory) {
    return { bytes: st.size, files: 1, mtime: st.mtime?.getTime() ?? 0 };
  }
  for await (const e of Deno.readDir(path)) {
    const s = await walkSize(join(path, e.name));
    bytes += s.bytes;
    files += s.files;
    mtime = Math.max(mtime, s.mtime);
  }
  return { bytes, files, mtime };
}

/**
 * Sizes of the kit's caches under `root` and, when complete runs are recorded, the stale
 * entries: result files (`results/<kind>/*.safetensors`), checkpoint folders of unfinished
 * results (`results/<kind>-checkpoints/<entry>/`, by their newest file) and trained-model
 * folders (by their `files.sha256.json`) not used since the cut-off (the earliest of the profiles' latest complete
 * runs). Other caches (translations, datasets, downloads) are reported, never pruned.
 */
export async function cacheUsage(root = cacheDir()): Promise<{
  cutoffMs: number | null;
  folders: CacheFolderUsage[];
}> {
  const runs = Object.values(await completeRuns(root));
  const cutoffMs = runs.length > 0 ? Math.min(...runs) : null;
  const folders: CacheFolderUsage[] = [];
  const entries = async (dir: string) => {
    try {
      return (await Array.fromAsync(Deno.readDir(dir))).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0
      );
    } catch {
      return [];
    }
  };
  for (const kind of await entries(join(root, "results"))) {
    if (!kind.isDirectory) continue;
    const u: CacheFolderUsage = {
      folder: `results/${kind.name}`,
      bytes: 0,
      files: 0,
      stale: [],
      staleBytes: 0,
    };
    for (const e of await entries(join(root, "results", kind.name))) {
      const p = join(root, "results", kind.name, e.name);
      const s = await walkSize(p);
      u.bytes += s.bytes;
      u.files += s.files;
      // a result file, or the checkpoint folder of an unfinished result (result_checkpoints.ts):
      // by its newest file (a resumed run marks the steps it reads)
      const entry = e.isFile && e.name.endsWith(".safetensors");
      const checkpoints = e.isDirectory && kind.name.endsWith("-checkpoints");
      if (cutoffMs !== null && (entry || checkpoints) && s.mtime < cutoffMs) {
        u.stale.push(p);
        u.staleBytes += s.bytes;
      }
    }
    folders.push(u);
  }
  const models: CacheFolderUsage = {
    folder: "models",
    bytes: 0,
    files: 0,
    stale: [],
    staleBytes: 0,
  };
  for (const e of await entries(join(root, "models"))) {
    if (!e.isDirectory) continue;
    const p = join(root, "models", e.name);
    const s = await walkSize(p);
    models.bytes += s.bytes;
    models.files += s.files;
    let used = 0;
    try {
      used = (await Deno.stat(join(p, "files.sha256.json"))).mtime?.getTime() ?? 0;
    } catch {
      /* unfinished or from before manifests: kept (a rerun resumes or checks it) */
      continue;
    }
    if (cutoffMs !== null && used < cutoffMs) {
      models.stale.push(p);
      models.staleBytes += s.bytes;
    }
  }
  folders.push(models);
  for (const other of ["translation", "datasets", "data", "sources"]) {
    try {
      const s = await walkSize(join(root, other));
      folders.push({ folder: other, bytes: s.bytes, files: s.files, stale: [], staleBytes: 0 });
    } catch { /* absent */ }
  }
  return { cutoffMs, folders };
}
