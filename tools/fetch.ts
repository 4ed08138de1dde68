/**
 * `./kit task fetch NAME [NAME ...] | --profile mini|paper | --list | --models | --verify
 *  [--trust-unpinned] [--keep-archives]`: the kit's explicit network step (`reproduce`, `notebook`
 * and `test` run the same download for missing mini-profile data first, lib/data/preflight.ts).
 * Every archive has a pinned size and sha256 (or a manifest pinning each file taken from it);
 * an unpinned or size-mismatched download is refused unless `--trust-unpinned` is given.
 * Archives are unpacked safely (links, absolute and `..` paths refused) and deleted after a
 * verified unpack unless `--keep-archives`. `KIT_DATA_BASE_URL=<url>` fetches every upstream
 * `https://host/path` from `<url>/host/path` instead. Downloads datasets into .cache/data with checksum checks and a progress bar (and,
 * for `wit-v1`, paper D's images from each kept row's image_url into .cache/wit-images);
 * offline, it says exactly what to download and where to put it. `--models` lists the paper
 * profile's pretrained model folders (the kit never downloads models), whether each is there,
 * its expected layout and how to obtain it. `--verify` re-hashes every file of every present
 * dataset (or of the named ones), trusting none of the stamps in .cache/data/.verified.json.
 */
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { DataRegistry, describeBytes } from "../lib/data/registry.ts";
import { removeStaleUnpackFolders } from "../lib/data/archive_unpack.ts";
import { holdDownloadLock } from "../lib/data/preflight.ts";
import { join } from "node:path";
import {
  isModelFile,
  modelFolderHints,
  PAPER_MODELS,
  paperModelFolder,
} from "../lib/encoders/pretrained/mod.ts";
import { kPaperModelFolders } from "../lib/models/mod.ts";
import { NLLB_MODEL_ID, nllbModelDir } from "../lib/translation/nllb_engine.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { holdCacheLock } from "../lib/util/cache_lock.ts";
import { downloadPaperWitImages } from "../lib/dataset_build/paper_wit_images.ts";

const CLI = {
  usage:
    "./kit task fetch NAME [NAME ...] | --profile mini|paper | --list | --models | --verify [--trust-unpinned] [--keep-archives]",
  positionals: ["NAME  a dataset to download (see --list)"],
  options: {
    profile: {
      type: "string",
      value: "mini|paper",
      help: "every dataset the profile uses",
    },
    list: { type: "boolean", help: "list the datasets: profile, where each is found, title" },
    models: {
      type: "boolean",
      help: "the paper profile's pretrained model folders: present or not, and how to get them",
    },
    verify: {
      type: "boolean",
      help: "re-hash every file of every present dataset (or of the named ones)",
    },
    "trust-unpinned": {
      type: "boolean",
      help: "accept an archive whose sha256 is not pinned (its size still checked); say so",
    },
    "keep-archives": {
      type: "boolean",
      help: "keep downloaded archives in .cache/data/.downloads after a verified unpack",
    },
    "data-mirror": {
      type: "string",
      value: "DIR",
      help: "read-only mirror of the datasets (default ../shared/data if present; '' for none)",
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values, positionals) => {
  const registry = new DataRegistry({
    ...(values["data-mirror"] !== undefined ? { mirror: values["data-mirror"] || null } : {}),
    verify: values.verify,
    trustUnpinned: values["trust-unpinned"],
    keepArchives: values["keep-archives"],
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
    const k = kPaperModelFolders();
    const safetensors = async (folder: string) =>
      (await isModelFile(join(folder, "model.safetensors"))) ? "present" : "missing";
    console.log(
      `K's text tower (paper K's starting point, trained by notebook 02): ${await safetensors(
        k.text,
      )}\n  ${k.text}/ (KIT_K_TEXT_MODEL changes it): FacebookAI/xlm-roberta-large with config.json, model.safetensors, tokenizer.json, tokenizer_config.json`,
    );
    console.log(
      `K's image tower: ${await safetensors(
        k.image,
      )}\n  ${k.image}/ (KIT_K_IMAGE_MODEL changes it): google/vit-base-patch16-224-in21k with config.json, model.safetensors, preprocessor_config.json`,
    );
    console.log(
      "  K's four setups are trained from these by notebook 02 (cached as setup folders under .cache/models/k-paper-*);\n" +
        "  KIT_K_SETUPS_DIR=<dir> reads <dir>/<setup>/ setup folders made elsewhere instead (eng-only, eng-pivot, multilingual, multilingual-qu).",
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
  await holdDownloadLock(registry.cacheRoot); // the preflight of reproduce/notebook/test too
  await removeStaleUnpackFolders(join(registry.cacheRoot, ".partial"));
  const toFetch: string[] = [];
  for (const name of names) {
    try {
      const r = await registry.resolve(name);
      console.log(`${name}: already available (${r.source}: ${r.root})`);
    } catch (err) {
      if (!(err instanceof KitError)) throw err;
      const bytes = await registry.downloadBytes(name);
      console.log(`${name}: missing; downloading ${describeBytes(bytes)}`);
      toFetch.push(name);
    }
  }
  for (const r of await registry.fetchMany(toFetch)) {
    console.log(`${r.name}: fetched into ${r.root} (${r.verifiedFiles} files verified)`);
  }
  for (const name of names) {
    if (name === "wit-v1") {
      // D's images are not in the shards: each is downloaded from its image_url here (skipping
      // those already present), since notebooks never touch the network.
      const w = await downloadPaperWitImages({ registry });
      console.log(
        `wit-v1 images: ${w.records} images of D's set (nine languages); ${w.downloaded} downloaded, ${w.present} already present, ${w.issues.length} failed (${w.dir})`,
      );
      for (const i of w.issues.slice(0, 20)) {
        console.log(`  ${i.file}: ${i.reason}${i.detail ? ` (${i.detail})` : ""}`);
      }
      if (w.issues.length > 20) console.log(`  … ${w.issues.length - 20} more`);
    }
  }
});
