/**
 * The rehearsal's stand-ins (`./kit task reproduce --profile paper --rehearse`): random-weight
 * model folders of paper D's real architectures and synthetic datasets in the real formats and
 * sizes, written by `tools/rehearsal_models.py` and `tools/rehearsal_data.py` (Debian's
 * python3 with torch, PIL, numpy) under `<cache>/rehearsal/<what>-<scale>-<key>/`. The key
 * hashes the generator scripts and the arguments, so a changed generator writes a new folder and
 * an unchanged one is reused. Each folder is written under a temporary name and renamed when the
 * generator succeeded (a crash leaves no half folder under the final name).
 */
import { basename, join, resolve } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { cacheDir, PROJECT_ROOT } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";

/** `full`: the real sizes; `tiny`: small sizes for the wiring test. */
export type RehearsalScale = "full" | "tiny";

/** The Python that has torch, PIL and numpy (Debian's); `KIT_REHEARSAL_PYTHON` overrides. */
export function rehearsalPython(): string {
  return Deno.env.get("KIT_REHEARSAL_PYTHON") || "/usr/bin/python3";
}

/** The stand-in folders one rehearsal reads. */
export interface RehearsalStandins {
  /** `openai/clip-vit-base-patch32` layout (ONNX vision tower, random weights). */
  clipVision: string;
  /** `sentence-transformers/clip-ViT-B-32-multilingual-v1` layout (ONNX + 2_Dense). */
  mclipText: string;
  /** MS-COCO 2017 layout (annotations/, train2017/, val2017/). */
  coco: string;
  /** WIT v1 layout: `wit/` (TSV shard) and `images/` (`<key>.jpg`). */
  wit: { shards: string; images: string };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder `<root>/<what>-<scale>-<key>`, made by `generate(tmpDir)` when it is not there
 * (atomic: generated under a temporary name, renamed on success). Prints one line while it
 * generates.
 */
export async function ensureStandin(
  root: string,
  what: string,
  scale: RehearsalScale,
  keyParts: readonly string[],
  generate: (tmpDir: string) => Promise<void>,
): Promise<string> {
  const dir = join(root, `${what}-${scale}-${sha256Hex(keyParts.join("\n")).slice(0, 12)}`);
  if (await exists(dir)) return dir;
  await Deno.mkdir(root, { recursive: true });
  const tmp = `${dir}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp);
  const t0 = performance.now();
  console.error(`rehearsal: writing the ${what} stand-in (${scale}) into ${dir} ...`);
  try {
    await generate(tmp);
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
  await Deno.rename(tmp, dir);
  console.error(
    `rehearsal: ${what} stand-in written in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  return dir;
}

/** Runs a generator script with the rehearsal's Python; a failure is a KitError with its output. */
async function runGenerator(script: string, args: string[]): Promise<void> {
  const python = rehearsalPython();
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command(python, {
      args: [join(PROJECT_ROOT, "tools", script), ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new KitError(
      `rehearsal: cannot run ${python} (${err instanceof Error ? err.message : err})`,
      [
        "The stand-ins are written with Debian's python3 + python3-torch, python3-pil, python3-numpy",
        "(apt-get install python3-torch python3-pil python3-numpy), or KIT_REHEARSAL_PYTHON=PATH.",
      ],
    );
  }
  if (!r.success) {
    const err = new TextDecoder().decode(r.stderr).split("\n").filter((l) => l.trim());
    throw new KitError(`rehearsal: tools/${script} ${args.join(" ")} failed`, err.slice(-12));
  }
}

/**
 * Makes (or reuses) every stand-in of the rehearsal under `<root>` (default
 * `<cache>/rehearsal`): D's two model folders, COCO 2017 and WIT v1 (see the generator scripts
 * for the sizes and what is synthetic). `cocoScale` (default `scale`): a tiny COCO beside
 * full-size D stand-ins, to measure D's path (00's WIT build, 05) without the COCO build.
 */
export async function ensureRehearsalStandins(
  opts: { scale: RehearsalScale; root?: string; cocoScale?: RehearsalScale },
): Promise<RehearsalStandins> {
  const root = opts.root ?? join(cacheDir(), "rehearsal");
  const scale = opts.scale;
  const tiny = scale === "tiny" ? ["--scale", "tiny"] : [];
  const src = async (f: string) => await Deno.readTextFile(join(PROJECT_ROOT, "tools", f));
  const models = await src("rehearsal_models.py");
  const data = await src("rehearsal_data.py");
  const clipVision = await ensureStandin(
    root,
    "clip-vision",
    scale,
    [models, "clip-vision"],
    (tmp) => runGenerator("rehearsal_models.py", ["clip-vision", tmp, ...tiny]),
  );
  const mclipText = await ensureStandin(
    root,
    "mclip-text",
    scale,
    [models, "mclip-text"],
    (tmp) => runGenerator("rehearsal_models.py", ["mclip-text", tmp, ...tiny]),
  );
  const coco = await ensureCocoStandin({ scale: opts.cocoScale ?? scale, root });
  const wit = await ensureStandin(
    root,
    "wit-v1",
    scale,
    [models, data, "wit"],
    (tmp) =>
      runGenerator("rehearsal_data.py", ["wit", join(tmp, "wit"), join(tmp, "images"), ...tiny]),
  );
  return {
    clipVision,
    mclipText,
    coco,
    wit: { shards: join(wit, "wit"), images: join(wit, "images") },
  };
}

/** The MS-COCO 2017 stand-in alone (`tools/rehearsal_data.py coco`; 00's and 02's input). */
export async function ensureCocoStandin(
  opts: { scale: RehearsalScale; root?: string },
): Promise<string> {
  const root = opts.root ?? join(cacheDir(), "rehearsal");
  const src = async (f: string) => await Deno.readTextFile(join(PROJECT_ROOT, "tools", f));
  // keyed by both generator scripts, as it always was (an existing stand-in stays valid)
  const models = await src("rehearsal_models.py");
  const data = await src("rehearsal_data.py");
  return await ensureStandin(
    root,
    "coco2017",
    opts.scale,
    [models, data, "coco"],
    (tmp) =>
      runGenerator("rehearsal_data.py", [
        "coco",
        tmp,
        ...(opts.scale === "tiny" ? ["--scale", "tiny"] : []),
      ]),
  );
}

/** The stand-ins of paper K's evaluation inputs (notebooks 03 and 04), `tools/rehearsal_k.py`. */
export interface KRehearsalStandins {
  /** `FacebookAI/xlm-roberta-large` layout (model.safetensors, random weights; tokenizer.json). */
  xlmr: string;
  /** `<dir>/<setup>/` for K's four setups (`KIT_K_SETUPS_DIR`), sharing `xlmr`'s weight file. */
  kSetups: string;
  /** FLORES-200 layout (`devtest/<lang>.devtest`, `dev/<lang>.dev`, 204 languages). */
  flores: string;
  /** XNLI 1.0 layout (`xnli.test.tsv`, `xnli.dev.tsv`). */
  xnli: string;
  /** MultiNLI 1.0 layout (`multinli_1.0_{train,dev_matched,dev_mismatched}.jsonl`). */
  multinli: string;
}

/**
 * Makes (or reuses) K's stand-ins under `<root>` (default `<cache>/rehearsal`): the XLM-R-large
 * folder, K's four setup folders over it, FLORES-200, XNLI 1.0 and MultiNLI 1.0 (see
 * `tools/rehearsal_k.py` for the sizes and what is synthetic). AmericasNLI is not generated: the
 * data mirror holds the real files at the real size.
 */
export async function ensureKRehearsalStandins(
  opts: { scale: RehearsalScale; root?: string },
): Promise<KRehearsalStandins> {
  const root = opts.root ?? join(cacheDir(), "rehearsal");
  const scale = opts.scale;
  const tiny = scale === "tiny" ? ["--scale", "tiny"] : [];
  const script = await Deno.readTextFile(join(PROJECT_ROOT, "tools", "rehearsal_k.py"));
  const gen = (what: string, extra: string[] = []) => (tmp: string) =>
    runGenerator("rehearsal_k.py", [what, tmp, ...extra, ...tiny]);
  const xlmr = await ensureStandin(root, "k-xlmr-large", scale, [script, "xlmr"], gen("xlmr"));
  const kSetups = await ensureStandin(
    root,
    "k-setups",
    scale,
    [script, "k-setups", xlmr],
    gen("k-setups", [xlmr]),
  );
  const flores = await ensureStandin(root, "flores200", scale, [script, "flores"], gen("flores"));
  const xnli = await ensureStandin(root, "xnli-1.0", scale, [script, "xnli"], gen("xnli"));
  const multinli = await ensureStandin(
    root,
    "multinli-1.0",
    scale,
    [script, "multinli"],
    gen("multinli"),
  );
  return { xlmr, kSetups, flores, xnli, multinli };
}

/** The stand-ins of paper K's training inputs (notebook 02). */
export interface KTrainingStandins {
  /** `FacebookAI/xlm-roberta-large` layout: the same folder as `KRehearsalStandins.xlmr`. */
  xlmr: string;
  /** `google/vit-base-patch16-224-in21k` layout (random weights; `KIT_K_IMAGE_MODEL`). */
  vit: string;
  /** `KIT_K_TRANSLATIONS`: one line per image of the COCO stand-in, en/es/ja/hi/qu. */
  translations: string;
}

/**
 * Makes (or reuses) notebook 02's stand-ins under `<root>` (default `<cache>/rehearsal`): the
 * XLM-R-large folder (`tools/rehearsal_k.py`, shared with 03/04), the ViT-B/16-in21k folder and
 * the translations file over the COCO stand-in at `coco` (`tools/rehearsal_k_training.py`; the
 * file's key includes the COCO folder's name, itself content-keyed).
 */
export async function ensureKTrainingStandins(
  opts: { scale: RehearsalScale; coco: string; root?: string },
): Promise<KTrainingStandins> {
  const root = opts.root ?? join(cacheDir(), "rehearsal");
  const scale = opts.scale;
  const tiny = scale === "tiny" ? ["--scale", "tiny"] : [];
  const kScript = await Deno.readTextFile(join(PROJECT_ROOT, "tools", "rehearsal_k.py"));
  const script = await Deno.readTextFile(join(PROJECT_ROOT, "tools", "rehearsal_k_training.py"));
  const xlmr = await ensureStandin(
    root,
    "k-xlmr-large",
    scale,
    [kScript, "xlmr"],
    (tmp) => runGenerator("rehearsal_k.py", ["xlmr", tmp, ...tiny]),
  );
  const vit = await ensureStandin(
    root,
    "k-vit-base-in21k",
    scale,
    [script, "vit"],
    (tmp) => runGenerator("rehearsal_k_training.py", ["vit", tmp, ...tiny]),
  );
  const coco = resolve(opts.coco);
  const translations = await ensureStandin(
    root,
    "k-translations",
    scale,
    [script, kScript, "k-translations", basename(coco)],
    (tmp) => runGenerator("rehearsal_k_training.py", ["k-translations", tmp, coco, ...tiny]),
  );
  return { xlmr, vit, translations: join(translations, "k_translations.jsonl") };
}
