/**
 * `./kit task fetch NAME [NAME ...] | --profile mini|paper | --list`: the kit's only network
 * step. Downloads datasets into .cache/data with checksum checks and a progress bar; offline, it
 * says exactly what to download and where to put it.
 */
import { parseArgs } from "node:util";
import { DataRegistry } from "../lib/data/registry.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";

await runMain(async () => {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { profile: { type: "string" }, list: { type: "boolean", default: false }, "data-mirror": { type: "string" } },
    allowPositionals: true,
  });
  const registry = new DataRegistry(values["data-mirror"] !== undefined ? { mirror: values["data-mirror"] || null } : {});
  if (values.list) {
    for (const d of registry.list()) {
      let where = "missing";
      try {
        where = (await registry.resolve(d.name)).source;
      } catch { /* missing */ }
      console.log(`${d.name.padEnd(24)} ${d.profile.padEnd(6)} ${where.padEnd(8)} ${d.title}`);
    }
    return;
  }
  const names = positionals.length > 0
    ? positionals
    : values.profile
    ? registry.list().filter((d) => d.profile === values.profile || d.profile === "both").map((d) => d.name)
    : [];
  if (names.length === 0) throw new KitError("name datasets to fetch, or --profile mini|paper, or --list");
  for (const name of names) {
    try {
      const r = await registry.resolve(name);
      console.log(`${name}: already available (${r.source}: ${r.root})`);
      continue;
    } catch (err) {
      if (!(err instanceof KitError)) throw err;
    }
    const r = await registry.fetch(name);
    console.log(`${name}: fetched into ${r.root} (${r.verifiedFiles} files verified)`);
  }
});
