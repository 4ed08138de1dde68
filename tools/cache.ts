/**
 * `./kit task cache [--prune] [--dry-run]`: the size of each of the kit's caches under .cache/
 * (result entries by kind, trained models, translations, datasets), and which result entries and
 * model folders the current code and models no longer reach: those not used by the latest
 * complete `./kit task reproduce` of any profile run so far. `--prune` removes them (after
 * taking the models lock, so no run is using them); translations, datasets and downloads are
 * never pruned.
 */
import { relative } from "node:path";
import { cacheUsage } from "../lib/eval_cache/cache_usage.ts";
import { holdCacheLock } from "../lib/util/cache_lock.ts";
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { cacheDir } from "../lib/util/paths.ts";

const CLI = {
  usage: "./kit task cache [--prune] [--dry-run]",
  options: {
    prune: {
      type: "boolean",
      help:
        "remove result entries and model folders not used by the latest complete reproduce of any profile (without it: report each cache's size and what --prune would remove)",
    },
    "dry-run": {
      type: "boolean",
      help: "with --prune: list what would be removed, remove nothing",
    },
  },
} as const satisfies CliSpec;

function size(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes, i = 0;
  while (v >= 1024 && i < units.length - 1) [v, i] = [v / 1024, i + 1];
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

await runCli(CLI, async (values) => {
  const root = cacheDir();
  // pruning: no run may be using (or about to use) what is removed
  if (values.prune && !values["dry-run"]) await holdCacheLock("models");
  const { cutoffMs, folders } = await cacheUsage(root);
  let total = 0, stale = 0;
  console.log("cache folder                   size      files  unused (prunable)");
  for (const f of folders) {
    total += f.bytes;
    stale += f.staleBytes;
    console.log(
      `${f.folder.padEnd(28)} ${size(f.bytes).padStart(9)} ${String(f.files).padStart(8)}  ${
        f.stale.length > 0 ? `${f.stale.length} (${size(f.staleBytes)})` : "-"
      }`,
    );
  }
  console.log(`${"total".padEnd(28)} ${size(total).padStart(9)}`);
  if (cutoffMs === null) {
    console.log(
      "no complete reproduce recorded yet: nothing counts as unused (run ./kit task reproduce)",
    );
    return 0;
  }
  console.log(
    `unused: not read since ${new Date(cutoffMs).toISOString()} (the oldest of the profiles' ` +
      `latest complete runs): ${size(stale)}`,
  );
  if (!values.prune) {
    if (stale > 0) console.log("./kit task cache --prune removes them");
    return 0;
  }
  for (const f of folders) {
    for (const p of f.stale) {
      if (values["dry-run"]) {
        console.log(`would remove ${relative(root, p)}`);
        continue;
      }
      await Deno.remove(p, { recursive: true });
    }
  }
  if (!values["dry-run"]) console.log(`removed ${size(stale)}`);
  return 0;
});
