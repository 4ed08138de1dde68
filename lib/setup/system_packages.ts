import { KitError } from "../util/kit_error.ts";

/** Debian's Python, which has Jupyter when the Debian packages are installed. */
export const DEBIAN_PYTHON = "/usr/bin/python3";

/**
 * What the notebook runner (tools/nbrun.py) imports: nbformat and jupyter_client. (It runs the
 * Deno kernel itself, so neither nbclient, nbconvert nor a Python kernel is needed.)
 */
export const JUPYTER_PACKAGES = ["python3-nbformat", "python3-jupyter-client"];
/** Native BLAS/LAPACK for the wasm+openblas backend (lib/backend/openblas.ts), found by soname. */
export const OPENBLAS_PACKAGES = ["libopenblas0-pthread"];

/** True when Debian's OpenBLAS (pthread build) is installed, found by its soname's file. */
export function openblasPresent(): boolean {
  for (const dir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]) {
    try {
      Deno.statSync(`${dir}/libopenblas.so.0`);
      return true;
    } catch {
      // try the next folder
    }
  }
  return false;
}
export const CHROMIUM_PACKAGES = ["chromium"];
/**
 * Noto fonts for every script the kit draws (Japanese and Chinese: CJK; Hindi: Devanagari; Arabic,
 * …): without them Chromium renders those captions in static figures and the report as empty boxes.
 */
export const FONT_PACKAGES = ["fonts-noto-core", "fonts-noto-cjk"];

/** One font file of each package in {@link FONT_PACKAGES} (Debian's paths). */
export const NOTO_FONT_FILES = [
  "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
  "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];

/** True when the Noto fonts for Devanagari and CJK are installed. */
export function notoFontsPresent(files: readonly string[] = NOTO_FONT_FILES): boolean {
  return files.every((f) => {
    try {
      return Deno.statSync(f).isFile;
    } catch {
      return false;
    }
  });
}
export const WEBGPU_PACKAGES = ["mesa-vulkan-drivers", "libvulkan1"];
/** Apertium with its English→Spanish pair: the offline MT engine of notebook 01 (mode `eng-spa`). */
export const APERTIUM_PACKAGES = ["apertium", "apertium-eng-spa"];

function isRoot(): boolean {
  return typeof Deno.uid === "function" && Deno.uid() === 0;
}

function hasCommand(cmd: string): boolean {
  try {
    return new Deno.Command("sh", {
      args: ["-c", `command -v ${cmd}`],
      stdout: "null",
      stderr: "null",
    }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** Whether this process may install Debian packages itself (root with apt-get). */
export function canInstallDebianPackages(): boolean {
  return isRoot() && hasCommand("apt-get") && Deno.env.get("KIT_NO_APT") !== "1";
}

let aptUpdated = false;

/** Installs Debian packages (root + apt-get), printing what it does; throws a KitError on failure. */
export async function aptInstall(packages: string[], why: string): Promise<void> {
  const env = { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" };
  const run = async (args: string[]) => {
    const out = await new Deno.Command("apt-get", { args, env, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("\n");
      throw new KitError(`apt-get ${args.join(" ")} failed (${why}):\n${err}`);
    }
  };
  console.error(`setup: installing Debian packages for ${why}: ${packages.join(" ")}`);
  if (!aptUpdated) {
    await run(["update", "-q"]);
    aptUpdated = true;
  }
  await run(["install", "-y", "-q", "--no-install-recommends", ...packages]);
}

/** The message shown when packages are needed but this process cannot install them. */
export function installAdvice(packages: string[], why: string): string[] {
  return [
    `needed for ${why}; on Debian/Ubuntu run as root:`,
    `  apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`,
    "(PyPI is not needed: Jupyter comes from Debian's packages and runs with /usr/bin/python3)",
  ];
}

/** True when Debian's Python can import the Jupyter pieces the notebook runner uses. */
export function jupyterAvailable(): boolean {
  try {
    return new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", "import nbformat, jupyter_client"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}
