import { KitError } from "../util/kit_error.ts";
import { ensureNodeModules } from "./node_modules_install.ts";
import { ensureDenoKernelSpec } from "./kernelspec.ts";
import {
  APERTIUM_PACKAGES,
  aptInstall,
  canInstallDebianPackages,
  CHROMIUM_PACKAGES,
  FONT_PACKAGES,
  installAdvice,
  JUPYTER_PACKAGES,
  jupyterAvailable,
  notoFontsPresent,
  OPENBLAS_PACKAGES,
  openblasPresent,
  WEBGPU_PACKAGES,
} from "./system_packages.ts";
import { chromiumPath } from "../artifacts/chromium_renderer.ts";
import { NOTEBOOK_SERVER_PACKAGES, notebookServerAvailable } from "./notebook_server.ts";

export interface SetupOptions {
  /** Install the Vulkan CPU driver (Mesa lavapipe) so the WebGPU path can be tested. */
  webgpu?: boolean;
  /** Install Chromium (static PNG/SVG figures, browser tests). Default true. */
  chromium?: boolean;
  /** Install Apertium's English→Spanish pair (notebook 01's offline MT engine). Default true. */
  apertium?: boolean;
  /** Install Debian's Jupyter Notebook server (`./kit task notebook`). Default true. */
  notebookServer?: boolean;
}

export interface SetupReport {
  nodeModules: "installed" | "present";
  jupyter: "installed" | "present";
  chromium: "installed" | "present" | "missing";
  /** Noto fonts for CJK and Devanagari (figures and report in every language). */
  fonts: "installed" | "present" | "missing";
  webgpuDriver: "installed" | "present" | "missing" | "not requested";
  apertium: "installed" | "present" | "missing";
  notebookServer: "installed" | "present" | "missing";
  kernelspec: string;
}

function apertiumEngSpaPresent(): boolean {
  for (const dir of ["/usr/share/apertium/modes", "/usr/local/share/apertium/modes"]) {
    try {
      if (Deno.statSync(`${dir}/eng-spa.mode`).isFile) return true;
    } catch {
      // not in this prefix
    }
  }
  return false;
}

function vulkanDriverPresent(): boolean {
  try {
    return Deno.statSync("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json").isFile ||
      Deno.statSync("/usr/share/vulkan/icd.d/lvp_icd.aarch64.json").isFile;
  } catch {
    return false;
  }
}

/**
 * Everything the kit needs before it can run a notebook, done idempotently: npm dependencies,
 * Jupyter (Debian packages when root with apt, otherwise a precise message), Chromium where
 * possible, and the project-local Deno kernelspec. Writes nothing outside the project and its
 * cache, except the Debian packages it installs as root.
 */
export async function ensureSetup(opts: SetupOptions = {}): Promise<SetupReport> {
  const nodeModules = (await ensureNodeModules()) ? "installed" : "present";
  const apt = canInstallDebianPackages();

  let jupyter: SetupReport["jupyter"] = "present";
  if (!jupyterAvailable()) {
    if (!apt) {
      throw new KitError(
        "Jupyter (nbformat, jupyter_client) is not installed for /usr/bin/python3",
        installAdvice(JUPYTER_PACKAGES, "running notebooks"),
      );
    }
    await aptInstall(JUPYTER_PACKAGES, "running notebooks");
    if (!jupyterAvailable()) {
      throw new KitError(
        "Jupyter still not importable after installing it",
        installAdvice(JUPYTER_PACKAGES, "running notebooks"),
      );
    }
    jupyter = "installed";
  }

  let chromium: SetupReport["chromium"] = chromiumPath() ? "present" : "missing";
  if (chromium === "missing" && (opts.chromium ?? true)) {
    if (apt) {
      await aptInstall(CHROMIUM_PACKAGES, "static figure images (PNG/SVG) and browser tests");
      chromium = chromiumPath() ? "installed" : "missing";
    } else {
      console.error(
        [
          "setup: Chromium not found; figures get no PNG/SVG.",
          ...installAdvice(CHROMIUM_PACKAGES, "static figures"),
        ].join("\n"),
      );
    }
  }

  let fonts: SetupReport["fonts"] = notoFontsPresent() ? "present" : "missing";
  if (fonts === "missing" && (opts.chromium ?? true)) {
    if (apt) {
      await aptInstall(FONT_PACKAGES, "Japanese, Chinese and Hindi text in figures and the report");
      fonts = notoFontsPresent() ? "installed" : "missing";
    } else {
      console.error(
        [
          "setup: Noto fonts for CJK/Devanagari not found; ja/zh/hi text in figures shows as boxes.",
          ...installAdvice(FONT_PACKAGES, "every language in figures and the report"),
        ].join("\n"),
      );
    }
  }

  // Installed on its own (not with Jupyter) so a machine that already has Jupyter still gets it;
  // without it the backend falls back to plain WASM and says why.
  if (!openblasPresent() && apt) {
    await aptInstall(OPENBLAS_PACKAGES, "native matrix products (wasm+openblas backend)");
  }

  let apertium: SetupReport["apertium"] = apertiumEngSpaPresent() ? "present" : "missing";
  if (apertium === "missing" && (opts.apertium ?? true) && apt) {
    await aptInstall(APERTIUM_PACKAGES, "machine translation en→es in notebook 01 (Apertium)");
    apertium = apertiumEngSpaPresent() ? "installed" : "missing";
  }

  let notebookServer: SetupReport["notebookServer"] = notebookServerAvailable()
    ? "present"
    : "missing";
  if (notebookServer === "missing" && (opts.notebookServer ?? true) && apt) {
    await aptInstall(NOTEBOOK_SERVER_PACKAGES, "working through the notebooks in a browser");
    notebookServer = notebookServerAvailable() ? "installed" : "missing";
  }

  let webgpuDriver: SetupReport["webgpuDriver"] = "not requested";
  if (opts.webgpu) {
    webgpuDriver = vulkanDriverPresent() ? "present" : "missing";
    if (webgpuDriver === "missing" && apt) {
      await aptInstall(WEBGPU_PACKAGES, "testing the WebGPU backend on the CPU (Mesa lavapipe)");
      webgpuDriver = vulkanDriverPresent() ? "installed" : "missing";
    }
  }
  if (!Deno.env.get("XDG_RUNTIME_DIR")) {
    // Mesa's Vulkan loader wants a runtime dir; keep it inside the project cache.
    const dir = `${(await import("../util/paths.ts")).cacheDir()}/xdg-runtime`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  }

  const kernelspec = await ensureDenoKernelSpec();
  return {
    nodeModules,
    jupyter,
    chromium,
    fonts,
    webgpuDriver,
    apertium,
    notebookServer,
    kernelspec,
  };
}
