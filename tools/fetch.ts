/**
 * `./kit task fetch NAME [NAME ...] | --profile mini|paper | --list | --models | --verify`: the kit's only
 * network step. Downloads datasets into .cache/data with checksum checks and a progress bar;
 * offline, it says exactly what to download and where to put it. `--models` lists the paper
 * profile's pretrained model folders (the kit never downloads models), whether each is there,
 * its expected layout and how to obtain it. `--verify` re-hashes every file of every present
 * dataset (or of the named ones), trusting none of the stamps in .cache/data/.verified.json.
 */
import { parseArgs } from "node:util";
import { DataRegistry } from "../lib/data/registry.ts";
import { join } from "node:path";
import {
  isModelFile,
  modelFolderHints,
  PAPER_MODELS,
  paperModelFolder,
} from "../lib/encoders/pretrained/mod.ts";
import { K_SETUPS } from "../lib/encoders/encoder.ts";
import { paperKSetupFolder } from "../lib/models/mod.ts";
import { NLLB_MODEL_ID, nllbModelDir } from "../lib/translation/nllb_engine.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";
import { holdCacheLock } from "../lib/util/cache_lock.ts";

await runMain(async () => {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      profile: { type: "string" },
      list: { type: "boolean", default: false },
      models: { type: "boolean", default: false },
      verify: { type: "boolean", default: false },
      "data-mirror": { type: "string" },
    },
    allowPositionals: true,
  });
  const registry = new DataRegistry({
    ...(values["data-mirror"] !== undefined ? { mirror: values["data-mirror"] || null } : {}),
    verify: values.verify,
  });
  if (values.models) {
    const state = async (folder: string) =>
      (await isModelFile(join(folder, "config.json"))) ? "present" : "missing";
    for (const key of Object.keys(PAPER_MODELS) as (keyof typeof PAPER_MODELS)[]) {
      const folder = paperModelFolder(key);
      console.log(`${PAPER_MODELS[key].title}: ${await state(folder)}`);
      for (const line of modelFolderHints(PAPER_MODELS[key], folder)) console.log(`  ${line}`);
      console.log("");
    }
    const nllb = nllbModelDir();
    console.log(`NLLB-200 distilled 600M (paper K's translation step): ${await state(nllb)}`);
    console.log(
      `  ${nllb}/ (KIT_NLLB_MODEL changes it): the transformers.js ONNX export ${NLLB_MODEL_ID}`,
    );
    console.log("");
    for (const setup of K_SETUPS.filter((x) => x !== "xlmr")) {
      const folder = paperKSetupFolder(setup);
      console.log(`K's ${setup} setup (paper profile): ${await state(folder)}\n  ${folder}/`);
    }
    console.log(
      "  each an ONNX export of that setup's fine-tuned text encoder, with the layout of XLM-R large above:\n" +
        "  train with K's code (github nkrasner/cl-clip-align), save_pretrained the text encoder, then\n" +
        "  `optimum-cli export onnx --model <saved text encoder> --task feature-extraction <folder>`.",
    );
    return;
  }
  if (values.verify && positionals.length === 0 && !values.profile) {
    // re-hash every dataset that is present (no stamp trusted), report each
    let bad = 0;
    for (const d of registry.list()) {
      try {
        const r = await registry.resolve(d.name);
        console.log(
          `${
            d.name.padEnd(24)
          } ok       ${r.verifiedFiles} files re-hashed (${r.source}: ${r.root})`,
        );
      } catch (err) {
        if (!(err instanceof KitError)) throw err;
        if (/not available offline/.test(err.message)) {
          console.log(`${d.name.padEnd(24)} missing`);
        } else {
          bad++;
          console.log(`${d.name.padEnd(24)} FAILED   ${err.describe()}`);
        }
      }
    }
    return bad > 0 ? 1 : 0;
  }
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
    ? registry.list().filter((d) => d.profile === values.profile || d.profile === "both").map((d) =>
      d.name
    )
    : [];
  if (names.length === 0) {
    throw new KitError("name datasets to fetch, or --profile mini|paper, or --list, or --models");
  }
  await holdCacheLock("datasets"); // one fetch or run at a time writes .cache/data
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
