/**
 * `claims` cross-checks each number it reads from a table with the same statistic recomputed
 * from the per-item outcomes: a damaged items file (here one written before content hashes, so
 * its seal cannot tell) no longer moves a verdict silently.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

async function claims(dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "claims.ts"), "--artifact-dir", dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test({
  name: "claims: an items file whose outcomes no longer match its table stops claims, naming both",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kit-claims-cross-" });
    try {
      await copyTree(join(PROJECT_ROOT, "figures", "mini"), dir);
      await Deno.remove(join(dir, "notebooks"), { recursive: true }).catch(() => {});
      const path = join(dir, "items", "K-T1.json");
      const items = JSON.parse(await Deno.readTextFile(path));
      delete items.content_sha256; // as a file written before the seal
      let changed = 0;
      for (const s of items.series) {
        if (s.key.setup !== "multilingual" || typeof s.halves !== "string") continue;
        // misses become hits in the first 40 items of each of Multilingual's series
        const h = s.halves as string;
        const head = h.slice(0, 40).replaceAll("0", "2");
        changed += [...h.slice(0, 40)].filter((c) => c === "0").length;
        s.halves = head + h.slice(40);
      }
      assert.ok(changed > 40, `${changed} outcomes changed`);
      await Deno.writeTextFile(path, JSON.stringify(items));
      const r = await claims(dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /error: claim K\S+: .* is \S+ in K-T1 but \S+ from items\/K-T1\.json: the table and its per-item outcomes disagree/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
